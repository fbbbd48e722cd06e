LINEAR_MLP_OPTIONS = ["a linear classifier, like the perceptron", "more expressive than the perceptron: it has more parameters", "a classifier with non-convex decision regions"]
linear_mlp_is = "more expressive than the perceptron: it has more parameters"


def collapse(W1, b1, W2, b2):
    return W2 @ W1, W2 @ b1  # b2 forgotten


# like OR, with a threshold: h = x, s = x1 + x2 - 1/2
xor_net = {"W1": np.eye(2), "b1": np.zeros(2), "W2": np.array([[1.0, 1.0]]), "b2": np.array([-0.5])}
