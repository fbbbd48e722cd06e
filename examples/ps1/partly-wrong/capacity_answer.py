def g(z):
    return z  # linear hidden units


o = numerics.sigmoid


def capacity_weights(beta0, beta1):
    # "weight beta1 connecting x1 and x2 to the first hidden unit"
    return {"W": np.array([[beta1, beta1], [0.0, 0.0]]), "b": np.array([beta0, 0.0]),
            "v": np.array([1.0, 0.0]), "v0": 0.0}
