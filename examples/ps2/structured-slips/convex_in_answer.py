lik_convex_in = "all parameters"
sq_curvature = 0.9 * 0.1 * (0.9 * 0.1 + (0.9 - 0.0) * (1 - 2 * 0.9))
