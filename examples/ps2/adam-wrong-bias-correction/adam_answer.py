class Adam:
    """ADAM whose bias correction forgets the power t: m / (1 - beta1), v / (1 - beta2)."""

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, beta1, beta2, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads):
        self.t += 1
        for k, g in grads.items():
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * g
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * g * g
            m_hat = self.m[k] / (1 - self.beta1)          # should be 1 - beta1 ** t
            v_hat = self.v[k] / (1 - self.beta2)          # should be 1 - beta2 ** t
            self.params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
