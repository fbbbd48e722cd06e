eps_prime_sym = eps / (1 + lam * eps)   # "the step shrinks by the regulariser"


def eps_prime(eps, lam):
    return eps / (1 + lam * eps)


def prox_step(theta_t, g_smooth, eps_p, lam):
    return (theta_t - eps_p * g_smooth) / (1 + eps_p * lam)
