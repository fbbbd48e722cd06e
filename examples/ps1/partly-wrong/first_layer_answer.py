def first_layer_gradient(x, y, params):
    s = forward(x, params)
    delta3 = s["y_hat"] - y                              # treats the softmax derivative as 1
    delta2 = (params["W3"].T @ delta3) * (s["a2"] > 0)
    delta1 = (params["W2"].T @ delta2) * (s["a1"] > 0)
    return np.outer(delta1, x)


def gradient_descent_update(W, grad, lr):
    return W - lr * grad
