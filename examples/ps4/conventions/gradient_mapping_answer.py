def gradient_mapping(x, grad_gx, alpha, lam):
    """G_alpha(x) = (x - prox_{alpha lam ||.||_1}(x - alpha grad g(x))) / alpha."""
    x = np.asarray(x, dtype=float)
    return (x - prox_l1(x - alpha * np.asarray(grad_gx), lam)) / alpha     # threshold lam, not alpha * lam
