"""How each kind of check judges a value: one function per kind, raising ``Mismatch``.

The same functions decide a visible check in the student's JupyterLab and the grader's
oracle outside the student's process, so both always agree. Each takes plain values (the
oracle decodes them from the two runs' records first) and returns nothing on a pass.

What each accepts:

- ``close``: real numbers of any integer or float width (float32 included), as scalars,
  lists or arrays; the shape must equal the expected shape exactly; no NaN or inf; complex
  values are refused (a right real part with an imaginary one is not a real answer).
- ``equal``: any values compared with ``==`` (ints, strings, tuples, sets).
- ``sympy``: a SymPy expression or a formula string, equivalent to the expected one.
- ``gradients``: one array per tensor, compared with central differences on the entries the
  reference sampled away from kinks (``gradcheck.rel_error`` below ``PASS_THRESHOLD``).
- ``true``: a truthy condition.
"""

import numpy as np


class Mismatch(Exception):
    """The value does not pass; the message says what was expected and what came back."""


def describe(value, limit=200):
    """A short printable form of a value for messages."""
    text = np.array2string(value, precision=6, threshold=20) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def true(got, message=""):
    if not bool(got):
        raise Mismatch(message or "condition is false")


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
    if not np.all(np.isfinite(got)):
        raise Mismatch(f"got non-finite values (inf or NaN): {describe(got)}")
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
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
