"""Tests of course_utils.symbolic: whitelisted parsing and equivalence checks."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

from course_utils import symbolic
from course_utils.symbolic import UnsafeExpression, equivalent, parse

x, y, z = sp.symbols("x y z")
SIG = 1 / (1 + sp.exp(-x))


# ---------------------------------------------------------------- parse


def test_parse_caret_means_power():
    e = parse("x^2 + exp(y)", [x, y])
    assert e == x**2 + sp.exp(y)
    assert e.subs({x: 3, y: 0}) == 10  # 3^2 + e^0, not 3 XOR 2 (= 1)


def test_parse_accepts_dict_of_symbols_and_whitelisted_functions():
    a = sp.Symbol("a", positive=True)
    e = parse("sqrt(a) * Max(x, 0) + log(pi) + tanh(x)", {"a": a, "x": x})
    assert e == sp.sqrt(a) * sp.Max(x, 0) + sp.log(sp.pi) + sp.tanh(x)
    assert a in e.free_symbols  # the caller's Symbol (with its assumptions) is used


def test_parse_implicit_multiplication():
    assert parse("2x y", [x, y]) == 2 * x * y


def test_parse_matrix():
    assert parse("Matrix([[x, 1], [0, y^2]])", [x, y]) == sp.Matrix([[x, 1], [0, y**2]])


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('true')",
        "open('f')",
        "x.__class__",
        "x.__class__.__mro__",
        "eval('1')",
        "exec('x=1')",
        "lambda: 1",
        "getattr(x, 'subs')",
        "globals()",
        "sympy.exp(x)",
        "os",
        "x; y",
        "z + x",  # z is not one of the allowed symbols
    ],
)
def test_parse_rejects_unsafe_or_unknown_names(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafeExpression):
        parse(text, [x, y])
    assert list(tmp_path.iterdir()) == []  # nothing was opened/created


def test_unsafe_message_names_the_offending_name():
    with pytest.raises(UnsafeExpression, match=r"'open' is not allowed"):
        parse("open('f')", [x])
    with pytest.raises(UnsafeExpression, match=r"'z' is not allowed.*\['x', 'y'\]"):
        parse("x + z", [x, y])


def test_unsafe_expression_is_a_value_error():
    assert issubclass(UnsafeExpression, ValueError)


def test_parse_accepts_scientific_notation():
    # BUG: the identifier scan sees the 'e' of a float literal as a name, so
    # '1e-3*x' raises UnsafeExpression("'e' is not allowed ...").
    assert parse("1e-3*x", [x]) == sp.Float("0.001") * x
    assert parse("2.5E2 + x", [x]) == sp.Float(250) + x  # a float literal stays a Float


def test_parse_accepts_piecewise_with_otherwise_branch():
    # BUG: Piecewise is whitelisted, but the standard 'otherwise' condition True is not,
    # so the usual way of writing a ReLU derivative is rejected as unsafe.
    e = parse("Piecewise((1, x > 0), (0, True))", [x])
    assert e == sp.Piecewise((1, x > 0), (0, True))


def test_parse_of_huge_power_tower_does_not_hang():
    # BUG (denial of service in grading): parse() evaluates integer powers eagerly with no
    # time limit, so an answer like '9^9^9' (9**387420489, ~370 million digits) makes the
    # grading kernel hang. Expected: an error (or an unevaluated result) within seconds.
    code = textwrap.dedent("""
        import sympy as sp
        from course_utils.symbolic import parse
        try:
            parse("9^9^9", [sp.Symbol("x")])
        except Exception:
            pass
    """)
    try:
        subprocess.run(
            [sys.executable, "-c", code],
            timeout=5,
            check=False,
            capture_output=True,
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
        )
    except subprocess.TimeoutExpired:
        pytest.fail("parse('9^9^9') did not return within 5 s")


# ---------------------------------------------------------------- equivalent


def test_sigmoid_derivative_forms_are_equivalent():
    # d/dx sigma = sigma (1 - sigma) = e^-x / (1 + e^-x)^2
    ref = sp.exp(-x) / (1 + sp.exp(-x)) ** 2
    assert sp.simplify(sp.diff(SIG, x) - ref) == 0  # the reference itself is right
    result = equivalent(SIG * (1 - SIG), ref, [x])
    assert result and result.ok
    assert result.method in {"simplify", "probe"}


def test_string_answer_is_parsed():
    assert equivalent("exp(-x)/(1+exp(-x))^2", SIG * (1 - SIG), [x])
    assert equivalent("2 x y + cos(x)^2 + sin(x)^2", 2 * x * y + 1, [x, y])


def test_matrices_equivalent_entrywise():
    answer = sp.Matrix([[2 * x, y], [sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.exp(x + y)]])
    reference = sp.Matrix([[x + x, y], [1, sp.exp(x) * sp.exp(y)]])
    assert equivalent(answer, reference, [x, y])


def test_wrong_matrix_entry_rejected():
    answer = sp.Matrix([[2 * x, y], [1, sp.exp(x)]])
    reference = sp.Matrix([[2 * x, y], [1, sp.exp(y)]])
    assert not equivalent(answer, reference, [x, y])


@pytest.mark.parametrize("wrong", [SIG * (1 + SIG), -SIG * (1 - SIG), SIG**2 * (1 - SIG), SIG])
def test_wrong_sigmoid_derivative_rejected_with_the_point(wrong):
    ref = SIG * (1 - SIG)
    result = equivalent(wrong, ref, [x])
    assert not result
    assert result.method == "probe"
    assert "differs at" in result.message
    # the point is reported, and the two expressions really differ there
    assert set(result.point) == {"x"}
    x0 = result.point["x"]
    assert -2.0 <= x0 <= 2.0
    assert repr(x0) in result.message or f"{x0}" in result.message
    assert abs(float(wrong.subs(x, x0)) - float(ref.subs(x, x0))) > 1e-8


def test_numeric_disagreement_wins_over_simplify(monkeypatch):
    # Even if simplify wrongly reported a zero difference, a point where the two differ rejects.
    monkeypatch.setattr(symbolic.sp, "simplify", lambda e, *a, **k: sp.zeros(*e.shape))
    result = equivalent(SIG * (1 + SIG), SIG * (1 - SIG), [x])
    assert not result and result.method == "probe" and "differs at" in result.message


def test_wrong_string_answer_rejected():
    result = equivalent("x^2 + y", x**2 + 2 * y, [x, y])
    assert not result and set(result.point) == {"x", "y"}


def test_tolerance_of_the_probes():
    # differs by 1e-6 everywhere: far above rtol = 1e-8 (relative to 1 + |want| <= 2)
    assert not equivalent(sp.sin(x) + sp.Rational(1, 10**6), sp.sin(x), [x])
    # 1e-12 is inside rtol = 1e-8: accepted by the probes (simplify cannot prove it) ...
    result = equivalent(sp.sin(x) + sp.Rational(1, 10**12), sp.sin(x), [x])
    assert result and result.method == "probe"
    # ... but not with a tighter tolerance
    assert not equivalent(sp.sin(x) + sp.Rational(1, 10**12), sp.sin(x), [x], rtol=1e-14)


def test_shape_mismatch():
    result = equivalent(sp.Matrix([x, y]), sp.Matrix([[x, y]]), [x, y])
    assert not result
    assert result.method == "shape"
    assert "(1, 2)" in result.message and "(2, 1)" in result.message


def test_scalar_vs_matrix_shape_mismatch():
    result = equivalent(x, sp.Matrix([x, x]), [x])
    assert not result and result.method == "shape"


def test_unknown_symbols_rejected():
    result = equivalent(x + z, x, [x, y])
    assert not result
    assert result.method == "symbols"
    assert "z" in result.message


def test_unknown_symbol_in_string_raises_unsafe():
    with pytest.raises(UnsafeExpression):
        equivalent("x + z", x, [x])


def test_reference_never_finite_in_domain():
    # exp(1e6 (x^2 + 1)) overflows for every x: no usable probe point
    big = sp.exp(10**6 * (x**2 + 1))
    result = equivalent(x, big, [x])
    assert not result and "no point" in result.message
    # simplify still decides when the forms are equal
    result = equivalent(sp.exp(10**6 * x**2) * sp.exp(10**6), big, [x])
    assert result and result.method == "simplify"


def test_time_limit_restores_signal_handler_and_timer():
    before = signal.getsignal(signal.SIGALRM)
    equivalent(SIG * (1 - SIG), sp.exp(-x) / (1 + sp.exp(-x)) ** 2, [x])
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_context_interrupts():
    import time

    with pytest.raises(symbolic._Timeout):
        with symbolic._time_limit(0.05):
            time.sleep(2)


def test_equivalence_is_bool_like():
    assert bool(symbolic.Equivalence(True, "m", "")) is True
    assert bool(symbolic.Equivalence(False, "m", "")) is False


# ---------------------------------------------------------------- values_at


def test_values_at_a_derivative_agrees_with_its_numpy_form():
    # d/dx tanh(x) = 1 - tanh(x)^2 = sech(x)^2
    points = np.linspace(-3, 3, 13)[:, None]
    values = symbolic.values_at(sp.diff(sp.tanh(x), x), [x], points)
    np.testing.assert_allclose(values, 1 / np.cosh(points[:, 0]) ** 2, rtol=1e-12)
    assert not np.allclose(values, 1 - np.tanh(points[:, 0]), rtol=1e-3)  # a wrong derivative differs


def test_values_at_two_symbols_one_row_per_point():
    values = symbolic.values_at(sp.diff(x**2 * y, x), [x, y], [[1.5, -2.0], [0.5, 3.0]])  # 2 x y
    np.testing.assert_allclose(values, [-6.0, 3.0], rtol=1e-15)


def test_values_at_a_matrix_keeps_its_shape_per_point():
    values = symbolic.values_at(sp.Matrix([[x, y], [x * y, 1]]), [x, y], np.array([2.0, 3.0]))
    np.testing.assert_array_equal(values, [[[2.0, 3.0], [6.0, 1.0]]])


def test_values_at_refuses_other_symbols():
    with pytest.raises(ValueError, match="symbols other than"):
        symbolic.values_at(x + sp.Symbol("z"), [x], [[1.0]])


@pytest.mark.parametrize("name", ['__import__("os").getcwd', "print", "exec", "open", "f"])
def test_an_undefined_function_is_never_printed_into_code_that_runs(name):
    """lambdify prints a Function's name as code: a decoded student expression must not reach it."""
    from course_utils.protocol import codec
    from course_utils.symbolic import values_at

    x = sp.Symbol("x")
    expr = codec.decode(codec.encode(sp.Function(name)(x) + x))
    result = equivalent(expr, x, [x])
    assert not result and "not a SymPy function" in result.message
    with pytest.raises(UnsafeExpression, match="not a SymPy function"):
        values_at(expr, [x], [[1.0]])
    with pytest.raises(ValueError, match="other than"):
        values_at(sp.MatrixSymbol("M", 1, 1)[0, 0] + x, [x], [[1.0]])


def test_a_sum_over_its_own_index_is_still_an_answer():
    """Bound variables are not the question's symbols, but printed as loop variables they are safe."""
    x, i = sp.symbols("x i")
    assert equivalent(sp.Sum(i * x, (i, 1, 3)), 6 * x, [x])
    evil = sp.Symbol("__import__('os').getcwd()")
    assert not equivalent(sp.Sum(evil * x, (evil, 1, 3)), 6 * x, [x])
