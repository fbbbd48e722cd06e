class FeedforwardNetwork(ad.Module):
    def __init__(self, n_classes, n_features, hidden_size, layers, activation, dropout, rng):
        sizes = [n_features] + [hidden_size] * layers + [n_classes]
        self.linears = [ad.Linear(n_in, n_out, rng) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self.activation, self.dropout, self.rng = activation, dropout, rng

    def forward(self, X):
        h = X
        for linear in self.linears[:-1]:
            h = linear(h)
            h = h.relu() if self.activation == "relu" else h.tanh()
            if self.training:  # drops units but forgets to rescale the kept ones by 1 / (1 - p)
                h = h * (self.rng.random(h.shape) >= self.dropout)
        return self.linears[-1](h)


def one_at_a_time(defaults, grid):
    configs = [dict(defaults)]
    for name, values in grid.items():
        configs += [{**defaults, name: value} for value in values if value != defaults[name]]
    return configs
