def proximal_gradient(grad_g, prox, x0, step, n_iter, objective):
    """(x_final, [objective(x^0), ..., objective(x^n_iter)]) of the proximal gradient method."""
    x_k = np.array(x0, dtype=float)
    history = []                        # the objective at x^0 is not recorded
    for _ in range(n_iter):
        x_k = prox(x_k - step * grad_g(x_k), step)
        history.append(objective(x_k))
    return x_k, history


def deblur_ista(A, b, lam, n_iter):
    """ISTA for min 1/2 ||Ax - b||^2 + lam ||x||_1 from 0 with step 1/||A||_2^2."""
    L = np.linalg.norm(A, 2) ** 2
    F = lambda z: 0.5 * np.sum((A @ z - b) ** 2) + lam * np.sum(np.abs(z))
    return proximal_gradient(lambda z: A.T @ (A @ z - b), lambda v, a: prox_l1(v, a * lam),
                             np.zeros(A.shape[1]), 1 / L, n_iter, F)
