class LogisticRegression(ad.Module):
    def __init__(self, n_classes, n_features, rng):
        self.linear = ad.Linear(n_features, n_classes, rng)

    def forward(self, X):
        return self.linear(X)


def train_batch(X, y, model, optimizer):
    model.train()
    loss = ad.cross_entropy(model(X), y)  # no zero_grad(): gradients pile up from step to step
    loss.backward()
    optimizer.step()
    return float(loss.data)
