def prox_l1(v, t):
    """prox of t ||.||_1 at v: sign(v) max(|v| - t, 0), elementwise, same shape as v."""
    v = np.asarray(v, dtype=float)
    return v - t * np.sign(v)     # shrinks every entry, small ones cross zero (no max(., 0))
