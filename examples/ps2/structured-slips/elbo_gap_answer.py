elbo_gap = "KL(q || prior)"
