"""Tests of course_utils.autodiff: every operation gradient-checked with course_utils.gradcheck.

Each test builds a scalar from parameter Tensors, runs backward(), and compares the .grad of each
parameter with central differences of the same function on plain arrays (float64).
"""

import numpy as np
import pytest

from course_utils import autodiff as ad
from course_utils.gradcheck import check_gradients


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


def autodiff_report(build, arrays, seed=0):
    """Gradient check of build(**tensors) -> scalar Tensor against central differences.

    arrays: dict name -> array; build receives Tensors (requires_grad=True) with those values.
    The weights ``upstream`` turn any output into a scalar: sum(out * upstream).
    """
    tensors = {k: ad.Tensor(v, requires_grad=True) for k, v in arrays.items()}
    out = build(**tensors)
    upstream = np.random.default_rng(seed).normal(size=out.shape)
    (out * upstream).sum().backward()
    loss = lambda p: float(np.sum(build(**{k: ad.Tensor(v) for k, v in p.items()}).data * upstream))
    return check_gradients(loss, arrays, {k: t.grad for k, t in tensors.items()})


@pytest.mark.parametrize(
    "name, build, shapes",
    [
        ("add with bias broadcast", lambda a, b: a + b, {"a": (4, 3), "b": (3,)}),
        ("add with (N, 1) broadcast", lambda a, b: a + b, {"a": (4, 3), "b": (4, 1)}),
        ("sub", lambda a, b: a - b, {"a": (4, 3), "b": (3,)}),
        ("rsub", lambda a: 2.0 - a, {"a": (3,)}),
        ("mul with broadcast", lambda a, b: a * b, {"a": (4, 3), "b": (1, 3)}),
        ("neg and scalar mul", lambda a: -(3.0 * a), {"a": (2, 5)}),
        ("matmul matrix", lambda a, b: a @ b, {"a": (4, 3), "b": (3, 5)}),
        ("matmul vector", lambda a, b: a @ b, {"a": (3,), "b": (3, 5)}),
        ("tanh", lambda a: a.tanh(), {"a": (3, 4)}),
        ("sigmoid", lambda a: a.sigmoid(), {"a": (3, 4)}),
        ("exp", lambda a: a.exp(), {"a": (3, 4)}),
        ("sum axis 0", lambda a: a.sum(axis=0), {"a": (3, 4)}),
        ("sum axis 1 keepdims", lambda a: a.sum(axis=1, keepdims=True), {"a": (3, 4)}),
        ("mean all", lambda a: a.mean(), {"a": (3, 4)}),
        ("mean axis 1", lambda a: a.mean(axis=1), {"a": (3, 4)}),
        ("reshape", lambda a: a.reshape(2, 6), {"a": (3, 4)}),
        ("a tensor used twice", lambda a, b: (a * a + a @ b).tanh(), {"a": (3, 3), "b": (3, 3)}),
    ],
)
def test_operation_gradients(rng, name, build, shapes):
    arrays = {k: rng.normal(size=s) for k, s in shapes.items()}
    report = autodiff_report(build, arrays)
    assert report.passed, f"{name}\n{report}"


def test_log_gradient(rng):
    report = autodiff_report(lambda a: a.log(), {"a": rng.uniform(0.5, 2.0, size=(3, 2))})
    assert report.passed, str(report)


def test_relu_gradient_away_from_kinks(rng):
    a = rng.normal(size=(5, 4))
    a[np.abs(a) < 0.05] = 0.5  # keep the stencil off the kink at 0
    report = autodiff_report(lambda a: a.relu(), {"a": a})
    assert report.passed, str(report)
    t = ad.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    t.relu().sum().backward()
    assert np.array_equal(t.grad, [0.0, 0.0, 1.0])  # 0 at the kink, as documented


def test_cross_entropy_value_and_gradient(rng):
    logits, labels = rng.normal(size=(6, 4)), rng.integers(4, size=6)
    loss = ad.cross_entropy(ad.Tensor(logits), labels)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert np.isclose(float(loss.data), -log_p[np.arange(6), labels].mean())
    report = autodiff_report(lambda z: ad.cross_entropy(z, labels), {"z": logits})
    assert report.passed, str(report)


def test_cross_entropy_has_no_overflow():
    z = ad.Tensor(np.array([[1000.0, 0.0, -1000.0]]), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = ad.cross_entropy(z, [1])
        loss.backward()
    assert np.isclose(float(loss.data), 1000.0)
    assert np.allclose(z.grad, [[1.0, -1.0, 0.0]])


def test_two_layer_network_gradients(rng):
    X, labels = rng.normal(size=(5, 4)), rng.integers(3, size=5)

    def net(W1, b1, W2, b2):
        return ad.cross_entropy((X @ W1 + b1).tanh() @ W2 + b2, labels)

    arrays = {
        "W1": rng.normal(size=(4, 6)),
        "b1": rng.normal(size=6),
        "W2": rng.normal(size=(6, 3)),
        "b2": rng.normal(size=3),
    }
    assert autodiff_report(net, arrays).passed


def test_dropout_with_fixed_mask_is_checked_and_scaled(rng):
    x = rng.normal(size=(4, 5))
    build = lambda a: ad.dropout(a, 0.4, True, np.random.default_rng(7))  # same mask every call
    report = autodiff_report(build, {"a": x})
    assert report.passed, str(report)
    out = build(ad.Tensor(x)).data
    kept = out != 0
    assert np.allclose(out[kept], x[kept] / 0.6)
    assert ad.dropout(ad.Tensor(x), 0.4, False, rng).data is not None
    assert np.array_equal(ad.dropout(ad.Tensor(x), 0.4, False, rng).data, x)
    many = ad.dropout(ad.Tensor(np.ones((200, 500))), 0.3, True, rng).data
    assert abs(many.mean() - 1.0) < 0.02 and abs((many == 0).mean() - 0.3) < 0.01
    with pytest.raises(ValueError):
        ad.dropout(ad.Tensor(x), 1.0, True, rng)


def test_gradients_accumulate_until_zero_grad(rng):
    w = ad.Tensor(rng.normal(size=3), requires_grad=True)
    (w * 2.0).sum().backward()
    (w * 2.0).sum().backward()
    assert np.allclose(w.grad, 4.0)
    ad.SGD([w], 0.1).zero_grad()
    assert np.allclose(w.grad, 0.0)


def test_constants_get_no_gradient_and_backward_needs_a_scalar(rng):
    c = ad.Tensor(rng.normal(size=3))
    w = ad.Tensor(rng.normal(size=3), requires_grad=True)
    out = (c * w).sum()
    out.backward()
    assert c.grad is None and np.allclose(w.grad, c.data)
    with pytest.raises(ValueError):
        (c * w).backward()
    with pytest.raises(ValueError):
        c.sum().backward()


def test_linear_module_parameters_modes_and_init(rng):
    class Net(ad.Module):
        def __init__(self):
            self.linears = [ad.Linear(4, 3, rng), ad.Linear(3, 2, rng)]

        def forward(self, x):
            return self.linears[1](self.linears[0](x).relu())

    net = Net()
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(4, 3), (3,), (3, 2), (2,)]
    assert all(np.all(np.abs(p.data) <= 0.5) for p in net.parameters()[:2])  # 1/sqrt(4)
    assert net.eval() is net and not net.linears[0].training
    assert net.train().linears[1].training
    x = rng.normal(size=(2, 4))
    W1, b1, W2, b2 = (p.data for p in net.parameters())
    assert np.allclose(net(x).data, np.maximum(x @ W1 + b1, 0) @ W2 + b2)


def test_sgd_step():
    w = ad.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    w.grad = np.array([0.5, 1.0])
    ad.SGD([w], 0.1).step()
    assert np.allclose(w.data, [0.95, -2.1])


def test_adam_matches_the_formula_over_three_steps(rng):
    w0 = rng.normal(size=4)
    w = ad.Tensor(w0, requires_grad=True)
    opt = ad.Adam([w], lr=0.01)
    grads = rng.normal(size=(3, 4))
    m, v, ref = np.zeros(4), np.zeros(4), w0.copy()
    for t, g in enumerate(grads, start=1):
        w.grad = g.copy()
        opt.step()
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        ref = ref - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    assert np.allclose(w.data, ref, rtol=1e-12)
    # the first Adam step moves every coordinate by about lr, whatever the gradient's scale
    w2 = ad.Tensor(np.zeros(3), requires_grad=True)
    w2.grad = np.array([1e-3, 1.0, 1e3])
    ad.Adam([w2], lr=0.01).step()
    assert np.allclose(w2.data, -0.01, rtol=1e-4)


def test_training_reduces_the_loss(rng):
    X = rng.normal(size=(60, 3))
    labels = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
    layer = ad.Linear(3, 2, rng)
    opt = ad.SGD(layer.parameters(), 0.5)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ad.cross_entropy(layer(X), labels)
        loss.backward()
        opt.step()
        losses.append(float(loss.data))
    assert losses[-1] < 0.5 * losses[0]
