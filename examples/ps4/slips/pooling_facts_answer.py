outlier_robust = "max"
grad_to_largest = [1.0, 0.25, 2.0 / (4 * np.sqrt(np.mean(np.array([0.1, 0.2, 0.3, 2.0]) ** 2)))]
