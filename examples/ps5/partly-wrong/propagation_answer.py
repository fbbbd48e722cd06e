def layer_variances(mu, sigma, n, sigma_w, depth):
    """(depth,) variances of one unit after layers 1..depth of width n."""
    gain = n * sigma_w**2
    variances, v = [], sigma**2
    for _ in range(depth):
        v = gain * (v + mu**2)        # 1.1 applied at every layer, as if every layer's inputs had mean mu
        variances.append(v)
    return np.array(variances)
