def ista_sparse_codes(X, D, lam, n_iter):
    """Codes (N, m) of the rows of X (N, d) after n_iter ISTA steps from 0 (step 1/L, L = ||D||_2^2)."""
    L = np.linalg.norm(D, 2) ** 2
    A = np.zeros((X.shape[0], D.shape[1]))
    for _ in range(n_iter):
        V = A - (A @ D.T - X) @ D / L                 # gradient step on every row at once
        A = np.sign(V) * np.maximum(np.abs(V) - lam, 0.0)     # threshold lam instead of lam / L
    return A
