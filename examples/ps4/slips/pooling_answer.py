def max_pool(x, k, s):
    """(H, W) -> (Ho, Wo): max over k x k windows with stride s."""
    Ho, Wo = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    out = np.empty((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = x[i * s:i * s + k, j * s:j * s + k].max()
    return out


def max_pool_backward(dout, x, k, s):
    """dL/dx (H, W) from dout (Ho, Wo): each window's gradient goes to its first maximum."""
    dx = np.zeros(x.shape)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            window = x[i * s:i * s + k, j * s:j * s + k]
            r, c = np.unravel_index(np.argmax(window), window.shape)
            dx[i * s + c, j * s + r] += dout[i, j]     # index slip: row and column swapped
    return dx


def avg_pool(x, k, s):
    """(H, W) -> (Ho, Wo): mean over k x k windows with stride s."""
    Ho, Wo = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    out = np.empty((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = x[i * s:i * s + k, j * s:j * s + k].mean()
    return out


def avg_pool_backward(dout, x, k, s):
    """dL/dx (H, W): each window spreads dout / k^2 over its entries."""
    dx = np.zeros(x.shape)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            dx[i * s:i * s + k, j * s:j * s + k] += dout[i, j] / k**2
    return dx


def lp_pool(x, k, s, p):
    """(H, W) -> (Ho, Wo): (mean |x|^p)^(1/p) over k x k windows with stride s."""
    Ho, Wo = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    out = np.empty((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = np.mean(np.abs(x[i * s:i * s + k, j * s:j * s + k]) ** p) ** (1 / p)
    return out


def lp_pool_backward(dout, x, k, s, p):
    """dL/dx (H, W) for lp_pool; windows with output 0 pass no gradient."""
    y_out = lp_pool(x, k, s, p)
    dx = np.zeros(x.shape)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            if y_out[i, j] > 0:
                window = x[i * s:i * s + k, j * s:j * s + k]
                local = np.abs(window) ** (p - 1) * np.sign(window) / (k**2 * y_out[i, j] ** (p - 1))
                dx[i * s:i * s + k, j * s:j * s + k] += dout[i, j] * local
    return dx
