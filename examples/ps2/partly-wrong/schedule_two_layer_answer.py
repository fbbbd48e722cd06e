def schedule_two_layer(W1, W2, x, y, phi1, dphi1, phi2, dphi2):
    """Forward values and reverse messages of the one-hidden-layer square loss (23)."""
    f1 = W1 @ x
    f2 = phi1(f1)
    f3 = W2 @ f2
    f4 = phi2(f3)
    f5 = y - f4
    f6 = float(np.sum(f5 ** 2))
    t6 = 1.0
    t5 = 2 * f5 * t6
    t4 = -t5
    t3 = dphi2(f3) * t4
    tW2 = np.outer(t3, f2)
    t2 = W2.T @ t3
    t1 = t2                           # forgot the phi1' edge between f1 and f2
    tW1 = np.outer(t1, x)
    return {"f1": f1, "f2": f2, "f3": f3, "f4": f4, "f5": f5, "f6": f6,
            "t6": t6, "t5": t5, "t4": t4, "t3": t3, "t2": t2, "t1": t1, "tW1": tW1, "tW2": tW2}
