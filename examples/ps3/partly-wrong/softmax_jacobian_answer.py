# each output treated as depending on its own logit only: dp_j/dz_j = p_j (1 - p_j), nothing else
softmax_jacobian_sym = sp.diag(*[p_j * (1 - p_j) for p_j in softmax_sym])


def softmax_jacobian(z_values):
    p = numerics.softmax(np.asarray(z_values, dtype=float))
    return np.diag(p * (1 - p))
