"""Overflow-safe elementwise and reduction functions.

Every function accepts Python scalars or arrays, returns float64 arrays (or
scalars for scalar input), and emits no RuntimeWarning for inputs as large as
``|x| = 1e3`` (or 1e300): large magnitudes are handled by choosing the form
whose exponent is never positive.
"""

import numpy as np


def sigmoid(x):
    """Logistic function 1 / (1 + exp(-x)), elementwise. Shape: any -> same."""
    x = np.asarray(x, dtype=float)
    # exp(-|x|) is in (0, 1]: no overflow for either sign.
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out[()] if out.ndim == 0 else out


def log_sigmoid(x):
    """log(sigmoid(x)) = -log(1 + exp(-x)) = min(x, 0) - log1p(exp(-|x|)).

    Shape: any -> same. Exact to float precision for very negative x, where
    the naive log(sigmoid(x)) returns -inf.
    """
    x = np.asarray(x, dtype=float)
    out = np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))
    return out[()] if out.ndim == 0 else out


def logsumexp(a, axis=-1, keepdims=False):
    """log(sum(exp(a), axis)) computed after subtracting the maximum.

    Shape: (..., K) -> (...) (or (..., 1) with keepdims). Rows that are all
    -inf give -inf without a warning.
    """
    a = np.asarray(a, dtype=float)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # log(0) = -inf for all -inf rows
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(a, axis=-1):
    """exp(a) / sum(exp(a)) along ``axis``. Shape: (..., K) -> (..., K)."""
    a = np.asarray(a, dtype=float)
    z = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return z / np.sum(z, axis=axis, keepdims=True)


def log_softmax(a, axis=-1):
    """log(softmax(a)) without forming softmax. Shape: (..., K) -> (..., K)."""
    a = np.asarray(a, dtype=float)
    return a - logsumexp(a, axis=axis, keepdims=True)
