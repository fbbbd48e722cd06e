"""Numerical gradient checks with a per-tensor report.

Central differences in float64: ``(f(x + h) - f(x - h)) / 2h``, one coordinate
at a time, for every entry of every parameter tensor (or a random sample of
``max_entries`` entries of large tensors).

Relative error of one tensor (norm-based, so tiny entries do not dominate)::

    rel_error(a, n) = ||a - n|| / max(||a|| + ||n||, 1e-12)

How to read it (float64, h = 1e-6, losses of order 1):

======================  ==============================================
``rel_error < 1e-7``    correct
``1e-7 .. 1e-5``        correct; typical of sums over many terms or kinks nearby
``1e-5 .. 1e-2``        suspicious: look for a missing term or a kink in the stencil
``> 1e-2``              wrong (a sign, factor, transpose or index slip)
======================  ==============================================

Kinks (ReLU, max, |x|): a coordinate whose stencil ``x +- h`` straddles a kink
has one-sided slopes that disagree. Such coordinates are counted as ``kinks``
and left out of the error rather than failing a correct answer; keep them
rare by sampling points away from kinks (``sample_away_from_kinks``).
"""

from dataclasses import dataclass, field

import numpy as np

from .protocol import check_mode
from .protocol.misconceptions import LEAD

PASS_THRESHOLD = 1e-5
WRONG_THRESHOLD = 1e-2


def rel_error(a, b):
    """Norm-based relative error between two arrays of the same shape."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


@dataclass
class TensorCheck:
    """Result for one parameter tensor."""

    name: str
    rel_error: float
    max_abs_error: float
    worst_index: tuple
    checked: int
    kinks: int

    @property
    def passed(self):
        return self.rel_error < PASS_THRESHOLD if self.checked else False

    def verdict(self):
        if not self.checked:
            return "not checked (every sampled entry was at a kink)"
        if self.rel_error < 1e-7:
            return "correct"
        if self.rel_error < PASS_THRESHOLD:
            return "correct (within tolerance)"
        if self.rel_error < WRONG_THRESHOLD:
            return "suspicious"
        return "wrong"


@dataclass
class GradReport:
    """Per-tensor results of a gradient check; ``str(report)`` is a table.

    analytic / numeric / used: name -> the gradient tested, the central differences, and
    the mask of entries compared (sampled, away from kinks); kept for the grader's oracle.
    """

    tensors: dict = field(default_factory=dict)
    analytic: dict = field(default_factory=dict)
    numeric: dict = field(default_factory=dict)
    used: dict = field(default_factory=dict)

    @property
    def passed(self):
        return bool(self.tensors) and all(t.passed for t in self.tensors.values())

    def failed(self):
        """Names of the tensors whose gradient is not within tolerance."""
        return [name for name, t in self.tensors.items() if not t.passed]

    def __str__(self):
        lines = [f"{'tensor':<12} {'rel error':>10} {'max |diff|':>11} {'checked':>8} {'kinks':>6}  verdict"]
        for t in self.tensors.values():
            lines.append(
                f"{t.name:<12} {t.rel_error:>10.2e} {t.max_abs_error:>11.2e} "
                f"{t.checked:>8d} {t.kinks:>6d}  {t.verdict()}"
            )
        return "\n".join(lines)


def _entries(shape, max_entries, rng):
    """Indices to check: all of them, or a random sample of ``max_entries``."""
    size = int(np.prod(shape))
    flat = (
        np.arange(size)
        if max_entries is None or size <= max_entries
        else rng.choice(size, size=max_entries, replace=False)
    )
    return [np.unravel_index(i, shape) for i in flat]


def _is_kink(f_plus, f_0, f_minus, h, tol=1e-4):
    """True when the one-sided slopes differ more than smooth curvature explains."""
    forward, backward = (f_plus - f_0) / h, (f_0 - f_minus) / h
    return abs(forward - backward) > tol * max(1.0, abs(forward) + abs(backward))


def numerical_gradient(loss, params, name, h=1e-6, max_entries=None, rng=None):
    """Central-difference gradient of ``loss(params)`` w.r.t. ``params[name]``.

    params: dict of float64 arrays, perturbed in place and restored.
    Returns (grad, checked_mask, kink_mask), each of ``params[name].shape``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    x = params[name]
    grad = np.zeros_like(x)
    checked = np.zeros(x.shape, dtype=bool)
    kinks = np.zeros(x.shape, dtype=bool)
    f_0 = float(loss(params))
    for idx in _entries(x.shape, max_entries, rng):
        old = x[idx]
        x[idx] = old + h
        f_plus = float(loss(params))
        x[idx] = old - h
        f_minus = float(loss(params))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
        checked[idx] = True
        kinks[idx] = _is_kink(f_plus, f_0, f_minus, h)
    return grad, checked, kinks


class GradientShapeError(ValueError):
    """A gradient whose shape is not its parameter's; a test cell reports it as a failed check."""


def shape_error(name, given, wanted):
    """The GradientShapeError for gradient ``name`` of shape ``given`` (parameter shape ``wanted``).

    A transposed gradient of a non-square matrix is the classic slip: the message names it.
    """
    message = f"gradient for {name!r} has shape {given}, but the parameter has shape {wanted}"
    if len(wanted) == 2 and wanted[0] != wanted[1] and given == wanted[::-1]:
        message += (
            f"\n  {LEAD}this is the transposed gradient: a gradient has the shape of its parameter "
            f"(entry [i, j] is the derivative with respect to {name}[i, j]), so look at the order of the "
            "factors in the product that builds it"
        )
    return GradientShapeError(message)


def check_gradients(loss, params, analytic, h=1e-6, max_entries=200, seed=0):
    """Compare ``analytic[name]`` with central differences for every tensor.

    loss: callable(params) -> float, with params a dict name -> array.
    params: dict name -> array (copied to float64; the caller's arrays are untouched).
    analytic: dict name -> array of the same shape (the gradient to test).
    Returns a GradReport with one TensorCheck per name in ``analytic``. In the grader's
    probe mode (the student's process) only the analytic gradients are kept: the central
    differences are computed in the reference run, outside the student's reach.
    """
    rng = np.random.default_rng(seed)
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    report = GradReport()
    for name, given in analytic.items():
        given = np.asarray(given, dtype=np.float64)
        if given.shape != params[name].shape:
            raise shape_error(name, given.shape, params[name].shape)
        report.analytic[name] = given
        if check_mode() == "probe":
            continue
        numeric, checked, kinks = numerical_gradient(loss, params, name, h, max_entries, rng)
        use = checked & ~kinks
        report.numeric[name], report.used[name] = numeric, use
        diff = np.where(use, np.abs(given - numeric), 0.0)
        worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
        report.tensors[name] = TensorCheck(
            name=name,
            rel_error=rel_error(given[use], numeric[use]) if use.any() else np.inf,
            max_abs_error=float(diff.max()) if diff.size else 0.0,
            worst_index=tuple(int(i) for i in worst),
            checked=int(use.sum()),
            kinks=int(kinks.sum()),
        )
    return report


def check_vjp(f, inputs, upstream, analytic, **kwargs):
    """Gradient check of an array-valued ``f(**inputs)`` in vector-Jacobian form.

    The scalar checked is ``sum(f(**inputs) * upstream)``, whose gradient
    w.r.t. each input is the vector-Jacobian product ``J^T upstream`` that a
    backward pass returns. upstream: array of f's output shape.
    analytic: dict input name -> the backward pass's result for that input.
    """
    upstream = np.asarray(upstream, dtype=np.float64)
    return check_gradients(lambda p: float(np.sum(f(**p) * upstream)), inputs, analytic, **kwargs)


def sample_away_from_kinks(sample, kink_distance, margin=1e-3, tries=100):
    """Draw ``sample()`` until ``kink_distance(x) > margin``, so h-stencils miss kinks.

    kink_distance: x -> distance to the nearest kink, e.g. ``min |pre-activation|``.
    """
    for _ in range(tries):
        x = sample()
        if kink_distance(x) > margin:
            return x
    raise RuntimeError(f"no sample at distance > {margin} from a kink in {tries} tries")
