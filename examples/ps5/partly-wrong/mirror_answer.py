def mirror_step(x0, g, eps):
    x0 = np.asarray(x0, dtype=float)
    return numerics.sigmoid(np.log(x0) - np.log1p(-x0) + eps * np.asarray(g))   # sign of eps g flipped


def mirror_descent(grad_f, x0, eps, steps):
    x = np.asarray(x0, dtype=float)
    y = np.log(x) - np.log1p(-x)
    iterates = [x]
    for _ in range(steps):
        y = y + eps * grad_f(x)
        x = numerics.sigmoid(y)
        iterates.append(x)
    return np.array(iterates)
