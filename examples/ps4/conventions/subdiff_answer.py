def l1_subdiff_distance(g, u, tol=1e-10):
    """Distance from g to the subdifferential of ||.||_1 at u (entries |u_i| <= tol count as zero)."""
    g, u = np.asarray(g, dtype=float), np.asarray(u, dtype=float)
    zero = u == 0                       # exact zeros only, the tolerance is ignored
    per_entry = np.where(zero, np.maximum(np.abs(g) - 1.0, 0.0), np.abs(g - np.sign(u)))
    return float(np.linalg.norm(per_entry))
