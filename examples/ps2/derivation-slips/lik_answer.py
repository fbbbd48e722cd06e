nll = -sp.log(sig**c_ * (1 - sig)**(1 - c_))
dnll_da = c_ - sig                  # sign slip: this is d(log p)/da, not d(-log p)/da


def E_lik(w, X, c):
    """Mean negative log-likelihood (2): (D,), (N, D), (N,) -> float."""
    a = X @ w
    return float(-np.mean(c * numerics.log_sigmoid(a) + (1 - c) * numerics.log_sigmoid(-a)))


def grad_E_lik(w, X, c):
    """Gradient of E_lik: (D,). Per example d(-log p)/da = sigma(a) - c, and da/dw = x."""
    return X.T @ (numerics.sigmoid(X @ w) - c) / len(c)
