class LogisticRegression(LinearModel):
    def update_weight(self, x_i, y_i, learning_rate=0.001):
        scores = np.exp(self.W @ x_i)          # softmax without subtracting the max: overflows
        p = scores / scores.sum()
        p[y_i] -= 1.0
        self.W -= learning_rate * np.outer(p, x_i)
