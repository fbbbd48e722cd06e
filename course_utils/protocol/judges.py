"""How each kind of check judges a value: one function per kind, raising ``Mismatch``.

The same functions decide a visible check in the student's JupyterLab and the grader's
oracle outside the student's process, so both always agree. Each takes plain values (the
oracle decodes them from the two runs' records first) and returns nothing on a pass.

What each accepts:

- ``close``: real numbers of any integer or float width (float32 included), as scalars,
  lists or arrays; the shape must equal the expected shape exactly; no NaN, and no inf except
  where the expected value has the same infinity (only a misconception's value does: a reference
  answer is finite, e.g. -inf for a log that underflowed); complex values are refused (a right
  real part with an imaginary one is not a real answer).
- ``equal``: any values compared with ``==`` (ints, strings, tuples, sets).
- ``sympy``: a SymPy expression or a formula string, equivalent to the expected one.
- ``gradients``: one array per tensor, compared with central differences on the entries the
  reference sampled away from kinks (``gradcheck.rel_error`` below ``PASS_THRESHOLD``).
- ``derivation``: a SymPy result and NumPy code for the same quantity, agreeing at the test
  points within ``rtol`` (per-tensor relative error); with the reference's values, a failure
  says which of the two is wrong.
- ``true``: a truthy condition; under the grader, the condition's skeleton (from the
  instructor's test cell) evaluated on the plain values of its leaves (``grading.predicates``).
"""

import numpy as np

# builtins a condition's skeleton may call in the judge (see grading.predicates)
PURE_BUILTINS = {
    "abs",
    "all",
    "any",
    "len",
    "min",
    "max",
    "sum",
    "float",
    "int",
    "bool",
    "round",
    "sorted",
    "set",
    "frozenset",
    "list",
    "tuple",
    "range",
    "zip",
    "enumerate",
    "isinstance",
    "str",
}


class Mismatch(Exception):
    """The value does not pass; the message says what was expected and what came back."""


def describe(value, limit=200):
    """A short printable form of a value for messages."""
    text = np.array2string(value, precision=6, threshold=20) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def true(got, message="", skeletons=None):
    """A truthy condition. Under the grader (``skeletons`` given) ``got`` is ``(site, leaves)``:
    the condition is the site's skeleton evaluated here on the student's leaf values."""
    if skeletons is not None:
        got = _condition(got, skeletons)
    if not bool(got):
        raise Mismatch(message or "condition is false")


def _condition(got, skeletons):
    """The truth of a recorded condition ``(site, leaves)`` (anything else is not a condition)."""
    import builtins
    import math

    import sympy as sp

    if not (isinstance(got, tuple) and len(got) == 2 and type(got[0]) is int and isinstance(got[1], list)):
        raise Mismatch("the test's condition was not recorded as the grader sent it")
    site, leaves = got
    if not 0 <= site < len(skeletons):
        raise Mismatch("the test's condition was not recorded as the grader sent it")
    namespace = {
        "__builtins__": {name: getattr(builtins, name) for name in PURE_BUILTINS | {"__import__"}},  # C code imports
        "_v": leaves,
        "np": np,
        "numpy": np,
        "sp": sp,
        "sympy": sp,
        "math": math,
    }
    try:
        return bool(eval(compile(skeletons[site], "<condition>", "eval"), namespace))
    except Exception as exc:  # a value of the wrong kind (e.g. not plain data) fails the condition
        raise Mismatch(
            f"the condition could not be evaluated on your values ({type(exc).__name__}: {str(exc)[:150]})"
        ) from None


def equal(got, expected):
    if got != expected:
        raise Mismatch(f"expected {describe(expected)}, got {describe(got)}")


def real_array(value):
    """``value`` as a float64 array; Mismatch when it is not real numbers."""
    if np.iscomplexobj(value) or isinstance(value, complex):
        raise Mismatch(f"got complex values {describe(value)}: the answer must be real numbers")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"expected real numbers, got {describe(value)}") from None


def close(got, expected, rtol=1e-7, atol=1e-12):
    expected = np.asarray(expected, dtype=float)
    try:
        got = real_array(got)
    except Mismatch as why:
        raise Mismatch(f"expected numbers of shape {expected.shape}; {why}") from None
    if got.shape != expected.shape:
        raise Mismatch(f"expected shape {expected.shape}, got shape {got.shape}")
    if not np.all(np.isfinite(got) | (got == expected)):  # an infinity passes only where the same one is expected
        raise Mismatch(f"got non-finite values (inf or NaN): {describe(got)}")
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        with np.errstate(invalid="ignore"):  # inf - inf where a misconception's infinity matched: nan, no warning
            err = np.max(np.abs(got - expected) / (np.abs(expected) + atol))
        raise Mismatch(
            f"expected {describe(expected)}, got {describe(got)} (max relative error {err:.2e} > {rtol:.0e})"
        )


def gradients(analytic, numeric, used, table=""):
    """analytic, numeric, used: name -> array (the gradient, central differences, mask)."""
    from ..gradcheck import PASS_THRESHOLD, rel_error

    if not isinstance(analytic, dict) or not numeric:
        raise Mismatch("no gradients were given")
    failed, errors = [], []
    for name, reference in numeric.items():
        given = real_array(analytic[name]) if name in analytic else None
        mask = np.asarray(used[name], dtype=bool)
        if given is None or given.shape != reference.shape:
            failed.append(name)
            errors.append(f"gradient {name!r} missing or of the wrong shape")
            continue
        error = rel_error(given[mask], reference[mask]) if mask.any() else np.inf
        if not error < PASS_THRESHOLD:
            failed.append(name)
            errors.append(f"{name}: relative error {error:.2e} > {PASS_THRESHOLD:.0e}")
    if failed:
        raise Mismatch(f"gradient check failed for {failed}\n" + (table or "\n".join(errors)))


def sympy(got, expected, symbols, options=None):
    from .. import symbolic

    if got is None or got is Ellipsis:
        raise Mismatch("no expression given yet")
    result = symbolic.equivalent(got, expected, symbols, **(options or {}))
    if not result:
        raise Mismatch(f"not equivalent to the expected expression: {result.message}")


def derivation(derived, got, symbols, points, reference=None, rtol=1e-9):
    """A SymPy result ``derived`` and its NumPy code's values ``got`` agree at ``points``.

    points: (P, len(symbols)); got and reference: (P, ...) with as many numbers per point as
    ``derived`` has entries (a Matrix's layout is not compared, its values in row order are).
    Pass when the per-tensor relative error of code vs derivation is <= rtol; the reference,
    when given (hidden tests), only says on a failure which of the two is wrong.
    """
    from .. import symbolic

    if derived is None or derived is Ellipsis:
        raise Mismatch("no SymPy result given yet")
    points = np.atleast_2d(np.asarray(points, dtype=float))
    try:
        by_sympy = symbolic.values_at(derived, symbols, points).reshape(len(points), -1)
    except (ValueError, TypeError, AttributeError) as why:  # SympifyError is a ValueError
        raise Mismatch(f"your SymPy result cannot be compared with your code: {why}") from None
    try:
        by_code = real_array(got)
    except Mismatch as why:
        raise Mismatch(f"your code's values: {why}") from None
    if by_code.size != by_sympy.size:
        raise Mismatch(
            f"your SymPy result has {by_sympy.shape[1]} entries per point, your code gives "
            f"{by_code.size // max(len(points), 1)} ({by_code.size} numbers at {len(points)} points)"
        )
    by_code = by_code.reshape(by_sympy.shape)
    error = _relative_error(by_code, by_sympy)
    if error <= rtol:
        return
    worst = int(np.argmax(np.abs(by_code - by_sympy).max(axis=1)))
    at = ", ".join(f"{name}={value:.4g}" for name, value in zip(map(str, symbols), points[worst]))
    raise Mismatch(
        f"your SymPy result and your NumPy code disagree (relative error {error:.2e} > {rtol:.0e}); at {at} "
        f"SymPy gives {describe(_entries(by_sympy[worst]))}, your code {describe(_entries(by_code[worst]))}"
        + _which_is_wrong(by_sympy, by_code, reference, rtol)
    )


def _entries(row):
    """One point's values: a number when there is one, else the array."""
    return float(row[0]) if row.size == 1 else row


def _relative_error(a, b):
    """Per-tensor relative error of two arrays of one shape (inf when either has a non-finite entry)."""
    from ..gradcheck import rel_error

    return rel_error(a, b) if np.all(np.isfinite(a) & np.isfinite(b)) else np.inf


def _which_is_wrong(by_sympy, by_code, reference, rtol):
    """': your derivation is right, your code is not' and the like, from the reference ('' without one)."""
    if reference is None:
        return ""
    reference = real_array(reference).reshape(by_sympy.shape)
    if _relative_error(by_sympy, reference) <= rtol:
        return ": your derivation is right, your code is not"
    if _relative_error(by_code, reference) <= rtol:
        return ": your code is right, your derivation is not"
    return ": neither agrees with the reference"
