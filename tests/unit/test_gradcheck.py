"""Tests of course_utils.gradcheck with hand-derived gradients."""

import numpy as np
import pytest

from course_utils import gradcheck as gc
from course_utils.protocol.misconceptions import LEAD


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# ---------------------------------------------------------------- quadratic form
# f(x) = 1/2 x^T A x + b^T x  =>  grad f = 1/2 (A + A^T) x + b   (A not symmetric)


@pytest.fixture
def quadratic(rng):
    A = rng.standard_normal((4, 4))
    b = rng.standard_normal(4)
    x = rng.standard_normal(4)
    loss = lambda p: 0.5 * p["x"] @ A @ p["x"] + b @ p["x"]
    grad = 0.5 * (A + A.T) @ x + b
    return loss, x, grad, A, b


def test_quadratic_form_correct_gradient_passes(quadratic):
    loss, x, grad, *_ = quadratic
    report = gc.check_gradients(loss, {"x": x}, {"x": grad})
    assert report.passed
    assert report.failed() == []
    t = report.tensors["x"]
    assert t.checked == 4 and t.kinks == 0
    assert t.rel_error < 1e-7 and t.verdict() == "correct"
    assert "correct" in str(report) and "x" in str(report)


@pytest.mark.parametrize("slip", ["sign", "factor2", "transpose_only", "missing_b"])
def test_quadratic_form_wrong_gradient_fails(quadratic, slip):
    loss, x, grad, A, b = quadratic
    wrong = {
        "sign": -grad,
        "factor2": 2 * grad,
        "transpose_only": A.T @ x + b,  # forgot the symmetric part: (A^T) x instead of (A+A^T)x/2
        "missing_b": grad - b,
    }[slip]
    report = gc.check_gradients(loss, {"x": x}, {"x": wrong})
    assert not report.passed
    assert report.failed() == ["x"]
    assert report.tensors["x"].verdict() == "wrong"
    assert "wrong" in str(report)


# ---------------------------------------------------------------- softmax cross-entropy
# L(W, b) = -1/N sum_n log softmax(X W + b)_{n, y_n}
# dL/dW = X^T (P - Y) / N,  dL/db = sum_n (P - Y)_n / N  with P = softmax(XW + b), Y one-hot


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def softmax_ce(rng):
    N, D, K = 7, 5, 3
    X = rng.standard_normal((N, D))
    y = rng.integers(K, size=N)
    Y = np.eye(K)[y]
    params = {"W": rng.standard_normal((D, K)), "b": rng.standard_normal(K)}

    def loss(p):
        P = _softmax(X @ p["W"] + p["b"])
        return -np.mean(np.log(P[np.arange(N), y]))

    P = _softmax(X @ params["W"] + params["b"])
    grads = {"W": X.T @ (P - Y) / N, "b": (P - Y).sum(axis=0) / N}
    return loss, params, grads


def test_softmax_cross_entropy_correct_passes(softmax_ce):
    loss, params, grads = softmax_ce
    report = gc.check_gradients(loss, params, grads)
    assert report.passed, str(report)
    assert set(report.tensors) == {"W", "b"}
    assert report.tensors["W"].checked == 15 and report.tensors["b"].checked == 3


@pytest.mark.parametrize(
    "name,transform",
    [
        ("W", lambda g: -g),
        ("W", lambda g: 2 * g),
        ("b", lambda g: -g),
        ("b", lambda g: 0.5 * g),
    ],
)
def test_softmax_cross_entropy_wrong_tensor_is_named(softmax_ce, name, transform):
    loss, params, grads = softmax_ce
    bad = dict(grads, **{name: transform(grads[name])})
    report = gc.check_gradients(loss, params, bad)
    assert not report.passed
    assert report.failed() == [name]
    assert report.tensors[name].verdict() == "wrong"
    other = ({"W", "b"} - {name}).pop()
    assert report.tensors[other].passed


def test_transposed_square_gradient_fails(rng):
    # f(W) = u^T W v  =>  dF/dW = u v^T; the transpose v u^T is wrong (u, v independent)
    u, v = rng.standard_normal(3), rng.standard_normal(3)
    W = rng.standard_normal((3, 3))
    loss = lambda p: u @ p["W"] @ v
    assert gc.check_gradients(loss, {"W": W}, {"W": np.outer(u, v)}).passed
    report = gc.check_gradients(loss, {"W": W}, {"W": np.outer(v, u)})
    assert report.failed() == ["W"]
    assert report.tensors["W"].verdict() == "wrong"


def test_worst_index_points_at_the_wrong_entry(softmax_ce):
    loss, params, grads = softmax_ce
    bad = {k: v.copy() for k, v in grads.items()}
    bad["W"][3, 1] += 0.5
    report = gc.check_gradients(loss, params, bad)
    t = report.tensors["W"]
    assert t.worst_index == (3, 1)
    assert t.max_abs_error == pytest.approx(0.5, rel=1e-5)
    assert not t.passed


def test_small_relative_error_is_suspicious_not_wrong(quadratic):
    loss, x, grad, *_ = quadratic
    # (1 + 1e-3) g vs g: rel error = 1e-3 ||g|| / ((2 + 1e-3) ||g||) ~ 5e-4, between 1e-5 and 1e-2
    t = gc.check_gradients(loss, {"x": x}, {"x": (1 + 1e-3) * grad}).tensors["x"]
    assert t.rel_error == pytest.approx(1e-3 / 2.001, rel=1e-3)
    assert t.verdict() == "suspicious" and not t.passed


def test_callers_arrays_are_not_modified(softmax_ce):
    loss, params, grads = softmax_ce
    params = {k: v.copy() for k, v in params.items()}
    ids = {k: id(v) for k, v in params.items()}
    before = {k: v.copy() for k, v in params.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    seen = []

    def spying_loss(p):
        seen.append(any(p[k] is params[k] for k in p))
        return loss(p)

    gc.check_gradients(spying_loss, params, grads)
    for k in params:
        assert id(params[k]) == ids[k]
        np.testing.assert_array_equal(params[k], before[k])  # bitwise, no h residue
        np.testing.assert_array_equal(grads[k], grads_before[k])
    assert not any(seen), "the loss was handed the caller's own arrays"


def test_integer_and_float32_params_are_checked_in_float64():
    # f(x) = sum x^3 => 3 x^2; float32 storage would make h = 1e-6 vanish
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    loss = lambda p: float(np.sum(p["x"] ** 3))
    assert gc.check_gradients(loss, {"x": x}, {"x": 3 * x.astype(float) ** 2}).passed
    xi = np.array([1, 2, -3])
    assert gc.check_gradients(loss, {"x": xi}, {"x": 3 * xi.astype(float) ** 2}).passed
    assert xi.dtype.kind == "i" and list(xi) == [1, 2, -3]


def test_numerical_gradient_restores_params_exactly(rng):
    W = rng.standard_normal((3, 2))
    params = {"W": W}
    before = W.copy()
    grad, checked, kinks = gc.numerical_gradient(lambda p: np.sum(np.sin(p["W"])), params, "W")
    np.testing.assert_array_equal(params["W"], before)
    np.testing.assert_allclose(grad, np.cos(before), rtol=1e-7)  # d/dw sin w = cos w
    assert checked.all() and not kinks.any()


# ---------------------------------------------------------------- kinks


def test_relu_loss_on_a_kink_counts_kinks_and_passes():
    # f(w) = sum relu(w) + 1/2 ||w||^2 ; grad = 1[w > 0] + w away from w = 0
    w = np.array([0.0, 1.5, -0.7, 0.0, 0.3, -2.0])
    loss = lambda p: np.sum(np.maximum(p["w"], 0.0)) + 0.5 * np.sum(p["w"] ** 2)
    subgrad = (w > 0).astype(float) + w
    subgrad[w == 0] = 0.37  # any subgradient in [0, 1]; excluded anyway
    report = gc.check_gradients(loss, {"w": w}, {"w": subgrad})
    t = report.tensors["w"]
    assert t.kinks == 2
    assert t.checked == 4  # the kinks are left out
    assert report.passed, str(report)


def test_kink_does_not_hide_a_wrong_gradient_elsewhere():
    w = np.array([0.0, 1.5, -0.7, 0.3])
    loss = lambda p: np.sum(np.maximum(p["w"], 0.0))
    wrong = (w > 0).astype(float)
    wrong[2] = 1.0  # relu'(-0.7) is 0
    report = gc.check_gradients(loss, {"w": w}, {"w": wrong})
    assert report.tensors["w"].kinks == 1
    assert report.failed() == ["w"]
    assert report.tensors["w"].worst_index == (2,)


def test_all_entries_on_kinks_is_not_checked_and_not_passed():
    w = np.zeros(3)
    loss = lambda p: np.sum(np.abs(p["w"]))
    report = gc.check_gradients(loss, {"w": w}, {"w": np.zeros(3)})
    t = report.tensors["w"]
    assert t.checked == 0 and t.kinks == 3
    assert not t.passed and not report.passed
    assert t.verdict().startswith("not checked")


def test_empty_report_does_not_pass():
    assert not gc.GradReport().passed


# ---------------------------------------------------------------- check_vjp
# f(x, A) = tanh(A x); with t = tanh(A x) and upstream u:
#   J_x^T u = A^T (u * (1 - t^2)),  J_A^T u = (u * (1 - t^2)) x^T


@pytest.fixture
def tanh_layer(rng):
    A = rng.standard_normal((4, 3))
    x = rng.standard_normal(3)
    u = rng.standard_normal(4)
    f = lambda x, A: np.tanh(A @ x)
    t = np.tanh(A @ x)
    delta = u * (1 - t**2)
    return f, {"x": x, "A": A}, u, {"x": A.T @ delta, "A": np.outer(delta, x)}


def test_check_vjp_correct_backward_passes(tanh_layer):
    f, inputs, u, grads = tanh_layer
    report = gc.check_vjp(f, inputs, u, grads)
    assert report.passed, str(report)
    assert report.tensors["A"].checked == 12 and report.tensors["x"].checked == 3


def test_check_vjp_missing_activation_derivative_fails(tanh_layer):
    f, inputs, u, grads = tanh_layer
    report = gc.check_vjp(f, inputs, u, {"x": inputs["A"].T @ u, "A": grads["A"]})
    assert report.failed() == ["x"]
    assert report.tensors["x"].verdict() == "wrong"


def test_check_vjp_ignoring_upstream_fails(tanh_layer):
    f, inputs, u, grads = tanh_layer
    t = np.tanh(inputs["A"] @ inputs["x"])
    report = gc.check_vjp(f, inputs, u, {"x": grads["x"], "A": np.outer(1 - t**2, inputs["x"])})
    assert report.failed() == ["A"]


# ---------------------------------------------------------------- misc


def test_transposed_gradient_is_a_shape_error_that_names_the_slip(softmax_ce):
    loss, params, grads = softmax_ce
    with pytest.raises(gc.GradientShapeError, match=r"'W'.*\(3, 5\).*\(5, 3\)") as raised:
        gc.check_gradients(loss, params, {"W": grads["W"].T})
    assert f"{LEAD}this is the transposed gradient" in str(raised.value)


@pytest.mark.parametrize("wrong", [lambda g: g[:, :2], lambda g: g.ravel(), lambda g: g[None]])
def test_other_wrong_shapes_are_not_called_transposed(softmax_ce, wrong):
    loss, params, grads = softmax_ce
    with pytest.raises(gc.GradientShapeError) as raised:
        gc.check_gradients(loss, params, {"W": wrong(grads["W"])})
    assert LEAD not in str(raised.value)


def test_a_test_cell_reports_a_wrong_shape_as_a_failed_check_with_where_to_look(softmax_ce):
    from course_utils.checks import CheckFailed, checking

    loss, params, grads = softmax_ce
    with pytest.raises(CheckFailed) as raised:
        with checking("2.1 gradients") as check:
            check.gradients("W and b", gc.check_gradients(loss, params, grads | {"W": grads["W"].T}))
    text = str(raised.value)
    assert text.startswith("[2.1 gradients] gradient shape:") and "where to look:" in text
    assert "your code raised" not in text and LEAD in text


def test_max_entries_samples_only_that_many(rng):
    W = rng.standard_normal((20, 30))
    calls = []

    def loss(p):
        calls.append(1)
        return 0.5 * np.sum(p["W"] ** 2)

    report = gc.check_gradients(loss, {"W": W}, {"W": W.copy()}, max_entries=50)
    t = report.tensors["W"]
    assert t.checked == 50
    assert len(calls) == 1 + 2 * 50  # f(x) once, then two evaluations per sampled entry
    assert report.passed
    # without sampling, every entry
    _, checked, _ = gc.numerical_gradient(loss, {"W": W.copy()}, "W", max_entries=None)
    assert checked.sum() == 600


def test_max_entries_sample_is_random_but_seeded(rng):
    W = rng.standard_normal((10, 10))
    sq = lambda p: 0.5 * np.sum(p["W"] ** 2)

    def sampled(seed):
        _, checked, _ = gc.numerical_gradient(sq, {"W": W.copy()}, "W", max_entries=7, rng=np.random.default_rng(seed))
        return checked

    a, b, c = sampled(1), sampled(1), sampled(2)
    assert a.sum() == 7
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_wrong_gradient_is_caught_with_sampling(rng):
    # a wrong gradient everywhere is caught whichever entries are sampled
    W = rng.standard_normal((15, 15))
    report = gc.check_gradients(lambda p: 0.5 * np.sum(p["W"] ** 2), {"W": W}, {"W": -W}, max_entries=5)
    assert report.tensors["W"].checked == 5 and report.failed() == ["W"]


def test_rel_error_values():
    a = np.array([3.0, 4.0])
    assert gc.rel_error(a, a) == 0.0
    assert gc.rel_error(a, -a) == 1.0  # ||2a|| / (2||a||)
    assert gc.rel_error(a, 2 * a) == pytest.approx(1 / 3)  # ||a|| / (||a|| + 2||a||)
    assert gc.rel_error(np.zeros(2), np.zeros(2)) == 0.0


def test_sample_away_from_kinks_returns_first_good_sample():
    draws = iter([np.array([0.5, 1e-5]), np.array([2e-4, 1.0]), np.array([-0.3, 0.2]), np.array([9.0])])
    dist = lambda x: float(np.min(np.abs(x)))
    x = gc.sample_away_from_kinks(lambda: next(draws), dist, margin=1e-3)
    np.testing.assert_array_equal(x, [-0.3, 0.2])


def test_sample_away_from_kinks_gives_up():
    calls = []

    def sample():
        calls.append(1)
        return np.zeros(2)

    with pytest.raises(RuntimeError, match="5 tries"):
        gc.sample_away_from_kinks(sample, lambda x: 0.0, tries=5)
    assert len(calls) == 5


def test_sample_away_from_kinks_makes_relu_check_kink_free(rng):
    # pre-activations z = W x; sampling W away from z = 0 leaves no kinks in the stencil
    x = rng.standard_normal(4)
    W = gc.sample_away_from_kinks(lambda: rng.standard_normal((5, 4)), lambda W: np.min(np.abs(W @ x)), margin=1e-2)
    loss = lambda p: np.sum(np.maximum(p["W"] @ x, 0.0))
    grad = np.outer((W @ x > 0).astype(float), x)
    t = gc.check_gradients(loss, {"W": W}, {"W": grad}).tensors["W"]
    assert t.kinks == 0 and t.checked == 20 and t.passed
