"""Property-based tests of course_utils.numerics.

References are independent of the code under test: the naive textbook formula
where it is safe (|x| < 30, no overflow or cancellation), and mpmath at 40
significant digits (arbitrary exponent range) everywhere else.
"""

import math
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_utils import numerics as nm

# No example database on disk (keeps the repository clean); no per-example deadline
# (mpmath's first calls can be slow on a loaded machine).
settings.register_profile("course_unit", database=None, deadline=None, max_examples=100)
settings.load_profile("course_unit")

MP_DPS = 40  # digits for the mpmath references (set locally, not globally)

SAFE = st.floats(min_value=-30, max_value=30, allow_nan=False)
HUGE = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
ROWS = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6), elements=SAFE)
HUGE_ROWS = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6), elements=HUGE)
EXTREMES = [1e3, -1e3, 1e300, -1e300]


class strict_fp:
    """Any RuntimeWarning is an error and overflow / invalid / divide-by-zero raise.

    Underflow is left at NumPy's default ('ignore'): exp(-1000) == 0.0 *is* the
    correctly rounded result, and the module's design (exponents never positive)
    deliberately relies on it. NumPy emits no warning for it by default.
    """

    def __enter__(self):
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("error")
        self._e = np.errstate(all="raise", under="ignore")
        self._e.__enter__()

    def __exit__(self, *exc):
        self._e.__exit__(*exc)
        return self._w.__exit__(*exc)


# ---------------------------------------------------------------- naive references


def naive_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def naive_log_sigmoid(x):
    return np.log(1.0 / (1.0 + np.exp(-x)))


def naive_logsumexp(a, axis=-1):
    return np.log(np.sum(np.exp(a), axis=axis))


def naive_softmax(a, axis=-1):
    e = np.exp(a)
    return e / np.sum(e, axis=axis, keepdims=True)


def mp_sigmoid(x):
    with mpmath.workdps(MP_DPS):
        return float(1 / (1 + mpmath.exp(-mpmath.mpf(x))))


def mp_log_sigmoid(x):
    with mpmath.workdps(MP_DPS):
        return float(-mpmath.log1p(mpmath.exp(-mpmath.mpf(x))))


def mp_logsumexp_row(row):
    with mpmath.workdps(MP_DPS):
        return float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in row)))


# ---------------------------------------------------------------- agreement with naive formulas


@given(SAFE)
def test_sigmoid_matches_naive_formula(x):
    assert nm.sigmoid(x) == pytest.approx(naive_sigmoid(x), rel=1e-14, abs=0)


@given(SAFE)
def test_log_sigmoid_matches_naive_formula(x):
    # naive log(sigmoid) loses relative accuracy only when sigmoid ~ 1 (x >> 0): abs floor 1e-15
    assert nm.log_sigmoid(x) == pytest.approx(naive_log_sigmoid(x), rel=1e-13, abs=1e-15)


@given(ROWS)
def test_softmax_matches_naive_formula(a):
    np.testing.assert_allclose(nm.softmax(a), naive_softmax(a), rtol=1e-12, atol=1e-300)


@given(ROWS)
def test_logsumexp_matches_naive_formula(a):
    np.testing.assert_allclose(nm.logsumexp(a), naive_logsumexp(a), rtol=1e-12, atol=1e-13)


@given(ROWS)
def test_log_softmax_matches_log_of_naive_softmax(a):
    np.testing.assert_allclose(nm.log_softmax(a), np.log(naive_softmax(a)), rtol=1e-11, atol=1e-12)


@given(ROWS, st.integers(min_value=0, max_value=2))
def test_reductions_along_other_axes(a, axis):
    axis = axis % a.ndim
    np.testing.assert_allclose(nm.softmax(a, axis=axis), naive_softmax(a, axis=axis), rtol=1e-12)
    np.testing.assert_allclose(nm.logsumexp(a, axis=axis), naive_logsumexp(a, axis=axis), rtol=1e-12, atol=1e-13)
    kept = nm.logsumexp(a, axis=axis, keepdims=True)
    assert kept.shape == a.shape[:axis] + (1,) + a.shape[axis + 1 :]


# ---------------------------------------------------------------- whole float range vs mpmath


@given(HUGE)
def test_sigmoid_accurate_everywhere(x):
    with strict_fp():
        got = nm.sigmoid(x)
    assert math.isfinite(got)
    assert got == pytest.approx(mp_sigmoid(x), rel=1e-14, abs=1e-300)


@given(HUGE)
def test_log_sigmoid_accurate_and_finite_everywhere(x):
    with strict_fp():
        got = nm.log_sigmoid(x)
    assert math.isfinite(got), "log_sigmoid is finite for every finite x"
    assert got == pytest.approx(mp_log_sigmoid(x), rel=1e-14, abs=1e-300)


@given(HUGE_ROWS)
def test_logsumexp_accurate_and_finite_for_huge_rows(a):
    with strict_fp():
        got = nm.logsumexp(a)
    assert np.all(np.isfinite(got))
    want = np.apply_along_axis(mp_logsumexp_row, -1, a)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-13)


@given(HUGE_ROWS)
def test_softmax_and_log_softmax_finite_for_huge_rows(a):
    with strict_fp():
        p = nm.softmax(a)
        lp = nm.log_softmax(a)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert np.all(np.isfinite(lp)) and np.all(lp <= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("x", EXTREMES)
def test_no_warnings_at_extreme_magnitudes(x):
    row = np.array([x, 0.0, -x, 0.5 * x])
    with strict_fp():
        s, ls = nm.sigmoid(x), nm.log_sigmoid(x)
        p, lse, lsm = nm.softmax(row), nm.logsumexp(row), nm.log_softmax(row)
    # sigmoid(+big) = 1, sigmoid(-big) = 0 to double precision; log_sigmoid(x) = min(x, 0) - log1p(e^-|x|)
    assert s == (1.0 if x > 0 else 0.0)
    assert ls == (0.0 if x > 0 else x)
    # largest entry |x| dominates: softmax is one-hot there up to e^-(|x|/2) <= e^-500 ~ 7e-218,
    # and logsumexp = |x| + log1p(<= 2e^-500) = |x| exactly in double precision
    np.testing.assert_allclose(p, (row == abs(x)).astype(float), rtol=0, atol=1e-200)
    assert lse == abs(x)
    np.testing.assert_allclose(lsm, row - abs(x), rtol=1e-15)


@pytest.mark.parametrize("x", EXTREMES)
def test_no_warnings_at_extreme_magnitudes_with_default_numpy_settings(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (nm.sigmoid, nm.log_sigmoid):
            f(x)
            f(np.array([x, -x]))
        for f in (nm.softmax, nm.logsumexp, nm.log_softmax):
            f(np.array([[x, -x], [0.0, x]]))


def test_log_sigmoid_of_minus_1000_is_exact():
    # log sigmoid(-1000) = -1000 - log1p(e^-1000); e^-1000 ~ 5e-435 is far below half an ulp of 1000
    assert nm.log_sigmoid(-1000.0) == -1000.0
    assert nm.log_sigmoid(np.array([-1000.0]))[0] == -1000.0


# ---------------------------------------------------------------- softmax / logsumexp properties


@given(ROWS)
def test_softmax_rows_sum_to_one(a):
    np.testing.assert_allclose(nm.softmax(a).sum(axis=-1), 1.0, rtol=1e-13)


@given(ROWS, st.floats(min_value=-1e3, max_value=1e3, allow_nan=False))
def test_shift_invariance(a, c):
    # a + c is rounded with error <= ulp(|c| + 30) ~ 2.3e-13, and |d softmax / d a| <= 1
    np.testing.assert_allclose(nm.softmax(a + c), nm.softmax(a), rtol=0, atol=1e-11)
    np.testing.assert_allclose(nm.logsumexp(a + c), nm.logsumexp(a) + c, rtol=1e-14, atol=1e-11)
    np.testing.assert_allclose(nm.log_softmax(a + c), nm.log_softmax(a), rtol=0, atol=1e-11)


def test_logsumexp_of_all_minus_inf_row_is_minus_inf_without_warning():
    a = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 0.0, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            out = nm.logsumexp(a)
            kept = nm.logsumexp(a, keepdims=True)
    assert out[0] == -np.inf
    assert out[1] == pytest.approx(math.log(2.0), rel=1e-15)  # log(e^0 + e^0 + 0)
    assert kept.shape == (2, 1) and kept[0, 0] == -np.inf


def test_logsumexp_with_plus_inf_is_plus_inf():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nm.logsumexp(np.array([0.0, np.inf])) == np.inf


def test_softmax_with_some_minus_inf_gives_exact_zero():
    # exp(-inf) = 0: a masked logit gets probability exactly 0
    with strict_fp():
        p = nm.softmax(np.array([-np.inf, 0.0, 0.0]))
    np.testing.assert_array_equal(p, [0.0, 0.5, 0.5])


# ---------------------------------------------------------------- types and shapes


@pytest.mark.parametrize("f", [nm.sigmoid, nm.log_sigmoid, nm.softmax, nm.logsumexp, nm.log_softmax])
@pytest.mark.parametrize("x", [0.5, -3, np.float32(2.0)])
def test_scalar_in_scalar_out(f, x):
    out = f(x)
    assert not isinstance(out, np.ndarray), f"{f.__name__}({x!r}) returned an array"
    assert np.ndim(out) == 0
    assert isinstance(out, (float, np.floating))
    assert np.asarray(out).dtype == np.float64


def test_scalar_values():
    # sigmoid(0) = 1/2; log sigmoid(0) = -log 2; softmax and logsumexp of a single element
    assert nm.sigmoid(0) == 0.5
    assert nm.log_sigmoid(0) == pytest.approx(-math.log(2), rel=1e-15)
    assert nm.softmax(7.0) == 1.0
    assert nm.logsumexp(7.0) == 7.0
    assert nm.log_softmax(7.0) == 0.0


@pytest.mark.parametrize("f", [nm.sigmoid, nm.log_sigmoid, nm.softmax, nm.log_softmax])
def test_elementwise_shape_and_dtype_preserved(f):
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 10
    out = f(x)
    assert out.shape == x.shape and out.dtype == np.float64


def test_logsumexp_shapes():
    a = np.zeros((2, 3, 4))
    assert nm.logsumexp(a).shape == (2, 3)
    assert nm.logsumexp(a, axis=0).shape == (3, 4)
    assert nm.logsumexp(a, axis=1, keepdims=True).shape == (2, 1, 4)
    np.testing.assert_allclose(nm.logsumexp(a), math.log(4))  # log(4 * e^0)


def test_inputs_not_modified():
    a = np.array([[1000.0, -5.0, 3.0]])
    before = a.copy()
    nm.softmax(a), nm.logsumexp(a), nm.log_softmax(a), nm.sigmoid(a), nm.log_sigmoid(a)
    np.testing.assert_array_equal(a, before)
