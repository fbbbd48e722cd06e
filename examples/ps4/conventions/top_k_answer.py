def top_k_error(scores, labels, k):
    """Fraction of rows whose label is not among the top k (ties count against the model)."""
    top = np.argsort(-np.asarray(scores), axis=1)[:, :k]        # ties broken by argsort, no check of k
    return float(np.mean(~np.any(top == np.asarray(labels)[:, None], axis=1)))
