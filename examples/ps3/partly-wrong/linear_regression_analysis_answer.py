WHY_OPTIONS = ["early stopping regularises", "singular X^T X makes w* inaccurate", "SGD reached a lower training error", "the test houses are distributed differently"]
singular_values = np.linalg.svd(X_train, compute_uv=False)
s_min = float(singular_values.min())  # the smallest one, zero or not
epochs_to_halve = float(np.log(2) / -np.log1p(-0.001 * s_min ** 2))
why_w_star_tests_worse = "singular X^T X makes w* inaccurate"
