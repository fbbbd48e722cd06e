entropy_1d = sp.simplify(-sp.integrate(q_1d * sp.expand_log(sp.log(q_1d), force=True), (z, -sp.oo, sp.oo)))
entropy_diag3 = sp.log(2 * sp.pi * sp.E * s1 ** 2 * s2 ** 2 * s3 ** 2) / 2    # det(2 pi e Sigma) without the cube of 2 pi e


def gaussian_entropy(Sigma):
    """1/2 log det(2 pi e Sigma) for a (d, d) covariance."""
    Sigma = np.asarray(Sigma, dtype=float)
    sign, logdet = np.linalg.slogdet(2 * np.pi * np.e * Sigma)
    return float(0.5 * logdet)
