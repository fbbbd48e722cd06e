def param_hessian(W, b, phi, j):
    K, D = W.shape
    p = numerics.softmax(W @ phi + b)
    A = np.hstack([np.kron(np.eye(K), phi[None, :]), np.eye(K)])
    return A.T @ (np.diag(p) - np.outer(p, p)) @ A


# "a non-linear z": z = (w^2, 0) with the label of the second class; but log(1 + e^{w^2}) is convex
def nonlinear_logits(theta):
    return np.array([theta[0] ** 2, 0.0])


label = 1
theta_a, theta_b, lam = np.array([-2.0]), np.array([2.0]), 0.5
