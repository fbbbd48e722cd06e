def log_sigmoid(x):
    """log(sigmoid(x)), elementwise."""
    return np.log(sigmoid(x))      # sigmoid(x) underflows to 0 for x < -745: log gives -inf
