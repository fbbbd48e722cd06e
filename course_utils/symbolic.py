"""SymPy answers: whitelisted parsing, equivalence checks, and SymPy-vs-NumPy checks.

A student's symbolic answer (a SymPy expression or matrix, or a string) is
judged equivalent to the reference when ``simplify(answer - reference)`` is
zero within a time limit, or, if simplification is slow or inconclusive, when
both agree at ``probes`` random points to a relative tolerance. A numeric
disagreement always wins: it comes with the point where the two differ.
"""

import io
import keyword
import signal
import threading
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

ALLOWED_FUNCTIONS = {
    name: getattr(sp, name)
    for name in (
        "exp",
        "log",
        "sqrt",
        "sin",
        "cos",
        "tan",
        "tanh",
        "sinh",
        "cosh",
        "atan",
        "Abs",
        "Max",
        "Min",
        "sign",
        "Heaviside",
        "Piecewise",
        "Rational",
        "pi",
        "E",
        "Matrix",
        "eye",
        "zeros",
        "ones",
        "diag",
        "Sum",
        "Integer",
        "Float",
        "Symbol",
    )
}
MAX_EXPONENT = 1000
_TRANSFORMS = standard_transformations + (convert_xor, implicit_multiplication_application)


class UnsafeExpression(ValueError):
    """Raised for an answer string that uses names outside the whitelist."""


def _names(text):
    """Python NAME tokens of ``text`` (numbers such as 1e-3 are not names)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise UnsafeExpression(f"the answer {text!r} is not a formula: {exc}") from exc
    return [tok.string for tok in tokens if tok.type == tokenize.NAME]


def check_powers(expr):
    """Reject numeric exponents so large that evaluating them would hang (e.g. 9^9^9)."""
    for node in sp.postorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_number and abs(complex(node.exp.evalf(5))) > MAX_EXPONENT:
            raise UnsafeExpression(f"the expression has an exponent larger than {MAX_EXPONENT}: {node.exp}")


def _bound_variable(node, expr):
    """A Sum's or Integral's own variable (not free in ``expr``), named like a Python variable."""
    return (
        type(node) is sp.Symbol
        and node not in expr.free_symbols
        and node.name.isidentifier()
        and not keyword.iskeyword(node.name)
    )


def check_names(expr, symbols):
    """Reject names lambdify would print into the code it runs: undefined functions (``Function("f")``,
    whose name can be any text), and any named object (Symbol, IndexedBase, MatrixSymbol...) that is
    not one of ``symbols``. An expression that passes prints as SymPy's own functions of ``symbols``."""
    allowed = set(symbols)
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (AppliedUndef, sp.Lambda)):
            raise UnsafeExpression(
                f"the expression uses {str(node)[:60]!r}, which is not a SymPy function: write it out"
            )
        if hasattr(node, "name") and node not in allowed and not _bound_variable(node, expr):
            raise UnsafeExpression(
                f"the expression uses {str(node.name)[:60]!r}, which is not one of {sorted(map(str, allowed))}"
            )


def parse(text, symbols):
    """Parse ``text`` into SymPy using only ``symbols`` and ALLOWED_FUNCTIONS.

    symbols: dict name -> sp.Symbol (or an iterable of Symbols). ``^`` means power.
    Raises UnsafeExpression naming the first name that is not allowed, or for
    numeric exponents above MAX_EXPONENT.
    """
    if not isinstance(symbols, dict):
        symbols = {str(s): s for s in symbols}
    if "__" in text or any(c in text for c in ";\n`$!@"):
        raise UnsafeExpression(f"the answer {text!r} contains characters not allowed in a formula")
    allowed = {**ALLOWED_FUNCTIONS, "True": sp.true, "False": sp.false, **symbols}
    for name in _names(text):
        if name not in allowed:
            raise UnsafeExpression(
                f"{name!r} is not allowed in an answer; use the symbols "
                f"{sorted(symbols)} and functions such as exp, log, sqrt, Max, Piecewise"
            )
    # evaluate=False spells the parsed code with SymPy's node classes: give eval those only
    nodes = {name: getattr(sp, name) for name in ("Add", "Mul", "Pow", "Gt", "Lt", "Ge", "Le", "Eq", "Ne")}
    namespace = {
        "local_dict": allowed,
        "global_dict": {"__builtins__": {}, **nodes, **allowed},
        "transformations": _TRANSFORMS,
    }
    try:
        check_powers(parse_expr(text, evaluate=False, **namespace))
    except UnsafeExpression as exc:
        raise UnsafeExpression(f"the answer {text!r}: {exc}") from None
    return parse_expr(text, **namespace)


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds):
    """Raise _Timeout after ``seconds`` (main thread only; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def on_alarm(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Equivalence:
    """Outcome of ``equivalent``: truthy when the expressions agree."""

    ok: bool
    method: str
    message: str
    point: dict = None

    def __bool__(self):
        return self.ok


def _as_matrix(expr):
    return expr if isinstance(expr, sp.MatrixBase) else sp.Matrix([[expr]])


def _probe(answer, reference, symbols, probes, domain, rtol, seed):
    """Compare both at random points; returns an Equivalence or None if no point was usable."""
    rng = np.random.default_rng(seed)
    f_ans = sp.lambdify(symbols, answer, modules="numpy")
    f_ref = sp.lambdify(symbols, reference, modules="numpy")
    used = 0
    for _ in range(20 * probes):
        point = rng.uniform(*domain, size=len(symbols))
        with np.errstate(all="ignore"):
            want = np.asarray(f_ref(*point), dtype=complex)
            got = np.asarray(f_ans(*point), dtype=complex)
        if not np.all(np.isfinite(want)):
            continue
        used += 1
        if not np.all(np.isfinite(got)) or np.any(np.abs(got - want) > rtol * (1 + np.abs(want))):
            values = {str(s): float(v) for s, v in zip(symbols, point)}
            return Equivalence(
                False,
                "probe",
                f"differs at {values}: expected "
                f"{np.real_if_close(want).tolist()}, got {np.real_if_close(got).tolist()}",
                values,
            )
        if used == probes:
            return Equivalence(True, "probe", f"agrees with the reference at {probes} random points")
    return None


def equivalent(answer, reference, symbols, time_limit=2.0, probes=20, domain=(-2.0, 2.0), rtol=1e-8, seed=0):
    """Is ``answer`` (SymPy object or string) equal to ``reference`` as a function of ``symbols``?

    symbols: ordered list of the free Symbols. Matrices are compared entrywise;
    shapes must match. Numeric probes use points uniform in ``domain``.
    """
    symbols = list(symbols)
    if isinstance(answer, str):
        answer = parse(answer, symbols)
    answer, reference = sp.sympify(answer), sp.sympify(reference)
    a_mat, r_mat = _as_matrix(answer), _as_matrix(reference)
    if a_mat.shape != r_mat.shape:
        return Equivalence(False, "shape", f"expected shape {r_mat.shape}, got {a_mat.shape}")
    extra = a_mat.free_symbols - set(symbols)
    if extra:
        return Equivalence(False, "symbols", f"uses unknown symbols {sorted(map(str, extra))}")
    try:
        check_names(a_mat, symbols)
    except UnsafeExpression as why:
        return Equivalence(False, "symbols", str(why))
    probed = _probe(a_mat, r_mat, symbols, probes, domain, rtol, seed)
    if probed is not None and not probed.ok:
        return probed
    try:
        with _time_limit(time_limit):
            if sp.simplify(a_mat - r_mat).is_zero_matrix:
                return Equivalence(True, "simplify", "simplifies to the reference")
    except _Timeout:
        pass
    if probed is None:
        return Equivalence(False, "probe", f"no point in {domain} where the reference is finite")
    return probed


def values_at(expr, symbols, points):
    """``expr`` (SymPy expression, Matrix, list of them or formula string) at each row of ``points``.

    points: (P, len(symbols)) -> float array (P, *shape of expr). Raises ValueError when ``expr``
    uses other symbols, cannot be evaluated numerically, or has complex values.
    """
    symbols = list(symbols)
    if isinstance(expr, str):
        expr = parse(expr, symbols)
    expr = sp.Matrix(expr) if isinstance(expr, (list, tuple)) else sp.sympify(expr)
    extra = expr.free_symbols - set(symbols)
    if extra:
        raise ValueError(f"it uses symbols other than {[str(s) for s in symbols]}: {sorted(map(str, extra))}")
    check_powers(expr)
    check_names(expr, symbols)
    function = sp.lambdify(symbols, expr, modules="numpy")
    with np.errstate(all="ignore"):
        try:
            values = np.array([np.asarray(function(*point), dtype=complex) for point in np.atleast_2d(points)])
        except Exception as exc:  # an undefined function, a relation...: not a numeric expression
            raise ValueError(f"it cannot be evaluated numerically ({type(exc).__name__}: {str(exc)[:120]})") from None
    if np.any(np.abs(values.imag) > 1e-12 * (1 + np.abs(values.real))):
        raise ValueError("it has complex values at the test points")
    return values.real
