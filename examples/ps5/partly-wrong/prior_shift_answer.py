def reweighted_posterior(probs, p_train, p_test):
    """(N, K) posteriors under the training priors -> (N, K) posteriors under p_test."""
    # a correct alternative: reweight in log space, normalise with a softmax
    return numerics.softmax(np.log(probs) + np.log(p_test) - np.log(p_train), axis=1)


def prior_shift_decisions(probs, p_train, p_test):
    """(N,) class indices maximising the reweighted posterior."""
    return np.argmax(np.log(probs) + np.log(p_test) - np.log(p_train), axis=1)
