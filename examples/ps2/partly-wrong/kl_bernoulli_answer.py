def kl_bernoulli(x, y):
    """KL(Bern(x) || Bern(y)) elementwise."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return x * np.log(x / y) + (1 - x) * np.log((1 - x) / (1 - y))   # 0 log 0 gives NaN at x = 0 or 1


def pinsker_gap(x, y):
    """KL(Bern(x) || Bern(y)) - 2 (x - y)^2, elementwise."""
    return kl_bernoulli(x, y) - 2 * (np.asarray(x, float) - np.asarray(y, float)) ** 2
