"""Plain-data encoding of check values that leave the grading kernel.

Values cross from the student's sandboxed process to the oracle as JSON: numbers,
strings, lists, tagged arrays (raw little-endian bytes, no pickle) and SymPy
expressions as ``srepr`` text. Decoding never runs code: arrays are rebuilt from
bytes, and SymPy text is read by walking its syntax tree and calling only SymPy
constructors (under ``evaluate(False)`` first, so ``Pow(10, 10**9)`` cannot hang). Complex
numbers keep their imaginary part (the judges refuse them with a reason).

    encode(value) -> JSON-able            decode(data) -> value
"""

import ast
import base64
import decimal
import fractions
import math
import sys

MAX_ARRAY_BYTES = 16 * 2**20  # one answer array (2M float64 values)
MAX_SYMPY_CHARS = 200_000


class Opaque:
    """A value that could not be encoded (shown by its repr, equal to nothing)."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return False

    __hash__ = None

    def __repr__(self):
        return f"<{self.text}>"


def _array(value):
    import numpy as np

    arr = np.array(value, order="C", copy=True)  # ascontiguousarray would make 0-d arrays 1-d
    if arr.dtype.kind not in "biufc" or arr.nbytes > MAX_ARRAY_BYTES:
        return {"__opaque__": f"array of dtype {arr.dtype}, shape {arr.shape}"}
    little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return {"__nd__": little.dtype.str, "shape": list(arr.shape), "data": base64.b64encode(little.tobytes()).decode()}


def _sympy_made(expr, sp):
    """Is every node of ``expr`` of a class SymPy defines (a subclass could print a lie)?"""

    def own(node):
        cls = type(node)
        module = cls.__module__ or type(cls).__module__  # f = Function("f"): f's class has no module
        return str(module).startswith("sympy.")

    return all(own(node) for node in sp.preorder_traversal(expr))


def _number(value, np):
    """A NumPy scalar as the Python number it holds (read from its data, not its methods)."""
    held = np.asarray(value)  # a base ndarray: no method of a scalar subclass runs
    convert = {"b": bool, "i": int, "u": int, "f": float, "c": complex}.get(held.dtype.kind)
    return convert(held) if convert else {"__opaque__": f"NumPy scalar of dtype {held.dtype}"}


def encode(value, depth=0):
    """JSON-able form of numbers, strings, containers, NumPy arrays and SymPy objects.

    Values are read through their base types (``float.__float__``, ``list.__iter__``, an array's
    data), never through methods a subclass may redefine, so an object cannot show the grader
    another value than the one it holds. Anything else is opaque.
    """
    if depth > 20:
        return {"__opaque__": "nested too deeply"}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        number = int.__int__(value)
        return number if abs(number) < 2**63 else {"__int__": str(number)}
    if isinstance(value, float):
        number = float.__float__(value)
        return number if math.isfinite(number) else {"__float__": repr(number)}
    if isinstance(value, complex):
        return {"__complex__": [repr(complex.real.__get__(value)), repr(complex.imag.__get__(value))]}
    if type(value) in (fractions.Fraction, decimal.Decimal):
        return encode(float(value), depth)
    np, sp = sys.modules.get("numpy"), sys.modules.get("sympy")
    if np and isinstance(value, np.ndarray):
        return _array(value)  # 0-d arrays too: they index like arrays, not like Python floats
    if np and isinstance(value, np.generic):
        return encode(_number(value, np), depth)
    if sp and isinstance(value, (sp.Basic, sp.MatrixBase)):
        if isinstance(value, sp.Basic) and not _sympy_made(value, sp):
            return {"__opaque__": "a SymPy expression with a class defined outside SymPy"}
        return {"__sympy__": sp.srepr(value)}
    for base, tag in ((list, "__list__"), (tuple, "__tuple__"), (set, "__set__"), (frozenset, "__set__")):
        if isinstance(value, base):
            return {tag: [encode(v, depth + 1) for v in base.__iter__(value)]}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(value)]}
    return {"__opaque__": f"{type(value).__name__} object"}


def decode(data):
    """The value ``encode`` was given (arrays, SymPy, containers); unknown tags -> Opaque."""
    if not isinstance(data, dict):
        return data
    ((tag, body),) = list(data.items())[:1] or [("__opaque__", "empty")]
    if tag == "__nd__":
        import numpy as np

        raw = base64.b64decode(data["data"])
        return np.frombuffer(raw, dtype=np.dtype(body)).reshape(data["shape"]).copy()
    if tag == "__list__":
        return [decode(v) for v in body]
    if tag == "__tuple__":
        return tuple(decode(v) for v in body)
    if tag == "__set__":
        return set(decode(v) for v in body)
    if tag == "__dict__":
        return {decode(k): decode(v) for k, v in body}
    if tag == "__int__":
        return int(body)
    if tag == "__float__":
        return float(body)
    if tag == "__complex__":
        return complex(float(body[0]), float(body[1]))
    if tag == "__sympy__":
        return parse_srepr(body)
    return Opaque(str(body)[:200])


def _sympy_names():
    import sympy as sp
    from sympy.functions.elementary.piecewise import ExprCondPair

    names = {
        name: obj
        for name, obj in vars(sp).items()
        if isinstance(obj, type) and issubclass(obj, (sp.Basic, sp.MatrixBase)) or isinstance(obj, sp.Basic)
    }
    return names | {"ExprCondPair": ExprCondPair, "true": sp.true, "false": sp.false}


def _build(node, names):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_build(node.operand, names)
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_build(e, names) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.Call) and (
        isinstance(node.func, ast.Call) or isinstance(node.func, ast.Name) and node.func.id in names
    ):
        function = _build(node.func, names)  # a SymPy class, or Function('f') for f(x)
        args = [_build(a, names) for a in node.args]
        kwargs = {k.arg: _build(k.value, names) for k in node.keywords if k.arg}
        return function(*args, **kwargs)
    raise ValueError(f"not a SymPy srepr: {ast.dump(node)[:80]}")


def parse_srepr(text):
    """A SymPy object from ``srepr`` text, built from SymPy constructors only (no eval)."""
    import sympy as sp

    from ..symbolic import check_powers

    if len(text) > MAX_SYMPY_CHARS:
        raise ValueError(f"expression text longer than {MAX_SYMPY_CHARS} characters")
    tree = ast.parse(text, mode="eval").body
    names = _sympy_names()
    with sp.evaluate(False):
        unevaluated = _build(tree, names)
    if isinstance(unevaluated, sp.Basic):
        check_powers(unevaluated)
    return _build(tree, names)
