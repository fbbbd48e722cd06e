def shift_backward(g, x, a, b):
    """g = dL/dy (N-2,) -> (dL/da, dL/db, dL/dx (N,))."""
    N = len(x)
    da = float(np.dot(g, x[:-2] + x[2:]))
    db = float(np.sum(g))
    dx = np.zeros(N)
    # the printed case list: a g_j for j <= 2, a (g_j + g_{j-2}) up to N-2, a g_{j-2} for j >= N-1
    dx[:2] = a * g[:2]
    dx[2:N - 2] = a * (g[2:] + g[:-2])
    dx[N - 2:] = a * g[N - 4:]
    return da, db, dx
