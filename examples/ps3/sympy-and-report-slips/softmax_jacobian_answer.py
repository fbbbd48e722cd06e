# by hand: d p_j / d z_k = p_j (delta_jk - p_j), an index slip (p_j where the quotient rule gives p_k)
p_entries = list(softmax_sym)
softmax_jacobian_sym = sp.Matrix(K, K, lambda j, k: p_entries[j] * ((1 if j == k else 0) - p_entries[j]))


def softmax_jacobian(z_values):
    p = numerics.softmax(np.asarray(z_values, dtype=float))
    return np.diag(p) - np.outer(p, p)
