class MLP(Classifier):
    def __init__(self, n_classes, n_features, hidden_size=200, rng=None):
        rng = np.random.default_rng() if rng is None else rng
        self.W1 = rng.normal(0.1, 0.1, size=(hidden_size, n_features))
        self.b1 = np.zeros(hidden_size)
        self.W2 = rng.normal(0.1, 0.1, size=(n_classes, hidden_size))
        self.b2 = np.zeros(n_classes)

    def predict(self, X):
        return np.argmax(np.maximum(X @ self.W1.T + self.b1, 0.0) @ self.W2.T + self.b2, axis=1)

    def gradients(self, x_i, y_i):
        a = self.W1 @ x_i + self.b1
        h = np.maximum(a, 0.0)
        g = numerics.softmax(self.W2 @ h + self.b2)
        g[y_i] -= 1.0
        delta = (self.W2.T @ g) * (a > 0)
        # outer products in input-first order: dW1 is (n_features, hidden), dW2 is (hidden, n_classes)
        return {"W1": np.outer(x_i, delta), "b1": delta, "W2": np.outer(h, g), "b2": g}

    def update_weight(self, x_i, y_i, learning_rate=0.001):
        for name, grad in self.gradients(x_i, y_i).items():
            getattr(self, name)[...] -= learning_rate * (grad.T if grad.ndim == 2 else grad)   # .T to fit the shapes
