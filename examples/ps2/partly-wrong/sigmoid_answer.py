def sigmoid(x):
    """Logistic function, elementwise."""
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))   # overflows in exp for x < -709
