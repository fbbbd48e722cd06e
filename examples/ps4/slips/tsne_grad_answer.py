def tsne_grad(Y, P):
    """dC/dY (n, dims) = 4 sum_j (p_ij - q_ij)(y_i - y_j) / (1 + ||y_i - y_j||^2)."""
    diff = Y[:, None, :] - Y[None, :, :]                       # (n, n, dims): y_i - y_j
    d2 = np.sum(diff**2, axis=-1)
    np.fill_diagonal(d2, np.inf)
    kernel = np.exp(-(d2 - d2.min()))                          # SNE's Gaussian kernel, not the Student-t one
    Q = kernel / kernel.sum()                                  # (shifted by the smallest distance: no 0 / 0)
    return 4 * np.einsum("ij,ijd->id", P - Q, diff)
