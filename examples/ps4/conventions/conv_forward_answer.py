def cross_correlate2d(x, w):
    """Valid 2-D cross-correlation: (H, W), (kh, kw) -> (H - kh + 1, W - kw + 1)."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    Ho, Wo = x.shape[0] - w.shape[0] + 1, x.shape[1] - w.shape[1] + 1
    out = np.zeros((Ho, Wo))
    for u in range(w.shape[0]):            # one shifted copy of x per kernel tap
        for v in range(w.shape[1]):
            out += w[u, v] * x[u:u + Ho, v:v + Wo]
    return out


def convolve2d(x, w):
    """Valid 2-D convolution: cross-correlation with the kernel flipped in both axes."""
    return cross_correlate2d(x, w)      # 'point-wise multiplication and summation': no flip


my_cross_correlation = cross_correlate2d(x5, k3)
my_convolution = convolve2d(x5, k3)
print(my_cross_correlation, my_convolution, sep="\n")
