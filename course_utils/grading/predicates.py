"""Conditions of test cells (``check.true`` and plain ``assert``), decided outside the student's process.

``check.true("loss fell", np.mean(history[-10:]) < 0.6 * history[0])`` would compare in the
student's process, where an object with a lying ``__eq__``, a patched function or an IPython
hook can turn False into True. So a condition is split in two:

- **leaves**, the largest parts that need the student's objects: names (``history``), calls of
  the student's or the test's own functions (``model.loss(X, y)``), attributes of the student's
  objects (``mlp.W1``), comprehensions, identity tests (``a is b``). The student's process
  evaluates them and records their values as plain data (``protocol.codec``);
- the **skeleton**, everything else: comparisons, arithmetic, ``and``/``or``/``not``,
  subscripts, constants, and calls of an allow-list of pure NumPy/SymPy/builtin functions and
  methods (``np.all``, ``abs``, ``.min()``, ``.has()``...). The judge process evaluates it on
  the decoded leaves; it never leaves the grader (a hidden test's thresholds stay hidden).

Plain ``assert cond, message`` statements of test cells (ordinary nbgrader notebooks) become
``checks.plain_assert(...)`` calls first, in both runs, so they are judged the same way.

    rewrite_asserts(source, question) -> source          (both runs' test cells)
    split_conditions(source) -> (student_source, skeletons)   (the student's copy; skeleton per site)
    protocol.judges.true(...)                            (inside the judge process: the skeleton on the leaves)
"""

import ast

from ..protocol.judges import PURE_BUILTINS

CONDITION_CALLS = {"true": 2, "plain_assert": 3}  # method/function name -> position of the condition
PURE_MODULE_FUNCTIONS = {
    "np": {
        "all",
        "any",
        "isfinite",
        "isnan",
        "isinf",
        "allclose",
        "isclose",
        "array_equal",
        "abs",
        "absolute",
        "max",
        "min",
        "amax",
        "amin",
        "mean",
        "std",
        "var",
        "sum",
        "prod",
        "diff",
        "sign",
        "sqrt",
        "exp",
        "log",
        "asarray",
        "array",
        "count_nonzero",
        "nonzero",
        "where",
        "sort",
        "argmax",
        "argmin",
        "maximum",
        "minimum",
        "dot",
        "matmul",
        "trace",
        "ones",
        "zeros",
        "eye",
        "ones_like",
        "zeros_like",
        "unique",
        "linalg.norm",
        "linalg.eigvalsh",
        "linalg.eigvals",
        "linalg.det",
        "linalg.matrix_rank",
        "pi",
        "inf",
        "float64",
        "float32",
        "ndarray",
        "integer",
        "floating",
        "number",
        "bool_",
        "generic",
    },
    "math": {"isfinite", "isclose", "sqrt", "exp", "log", "pi", "inf", "fabs"},
    "sp": {
        "Symbol",
        "symbols",
        "Integer",
        "Rational",
        "simplify",
        "diff",
        "expand",
        "factor",
        "S",
        "oo",
        "pi",
        "exp",
        "log",
        "sqrt",
        "Matrix",
        "Eq",
        "Expr",
        "Basic",
        "MatrixBase",
        "Number",
        "zoo",
        "nan",
    },
}
PURE_MODULE_FUNCTIONS["numpy"] = PURE_MODULE_FUNCTIONS["np"]
PURE_MODULE_FUNCTIONS["sympy"] = PURE_MODULE_FUNCTIONS["sp"]
PURE_METHODS = {
    "min",
    "max",
    "mean",
    "std",
    "var",
    "sum",
    "prod",
    "all",
    "any",
    "has",
    "subs",
    "ravel",
    "flatten",
    "item",
    "tolist",
    "argmax",
    "argmin",
    "copy",
    "keys",
    "values",
    "items",
    "get",
    "evalf",
    "is_zero",
    "issubset",
    "issuperset",
    "count",
    "index",
    "startswith",
    "endswith",
    "lower",
    "strip",
}
PURE_ATTRIBUTES = {"shape", "ndim", "size", "T", "real", "free_symbols", "is_zero", "is_number"}


def _dotted(node):
    """'np.linalg.norm' for a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _pure_function(func):
    name = _dotted(func)
    if name is None:
        return False
    module, _, rest = name.partition(".")
    return (not rest and module in PURE_BUILTINS) or rest in PURE_MODULE_FUNCTIONS.get(module, ())


def _names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class _Splitter(ast.NodeTransformer):
    """Replaces the leaves of one condition by ``_v[i]``; ``leaves`` collects their source.

    Inside a comprehension (``all(b < a for a, b in zip(h, h[1:]))``) the loop stays in the
    skeleton: names it binds stay names, and a leaf that needs them (``f(p)`` for each ``p``)
    becomes ``_r[j]``, one value per element, recorded as rows ``(target, (leaves...))``.
    """

    def __init__(self):
        self.leaves, self.bound, self.row = [], set(), None

    def leaf(self, node):
        if self.row is not None and _names(node) & self.bound:
            self.row.append(node)
            return ast.Subscript(ast.Name("_r", ast.Load()), ast.Constant(len(self.row) - 1), ast.Load())
        if isinstance(node, ast.GeneratorExp):
            node = ast.Call(ast.Name("list", ast.Load()), [node], [])
        self.leaves.append(ast.unparse(node))
        index = ast.Constant(len(self.leaves) - 1)
        return ast.Subscript(ast.Name("_v", ast.Load()), index, ast.Load())

    def comprehension(self, node):
        """A one-loop comprehension with its loop in the skeleton (a leaf when that cannot be)."""
        if (
            len(node.generators) != 1
            or node.generators[0].is_async
            or any(
                isinstance(n, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.Lambda, ast.NamedExpr))
                for n in ast.walk(node.elt)
            )
        ):
            return self.leaf(node)
        loop = node.generators[0]
        original_iter, target = ast.unparse(loop.iter), loop.target
        outer = (self.bound, self.row)
        self.bound, self.row = self.bound | _names(target), []
        node.elt = self.visit(node.elt)
        loop.ifs = [self.visit(condition) for condition in loop.ifs]
        row, (self.bound, self.row) = self.row, outer
        if row:  # per-element leaves: the student's process records (target, leaves) for every element
            values = ast.unparse(
                ast.Tuple([ast.parse(ast.unparse(target), mode="eval").body, ast.Tuple(row, ast.Load())], ast.Load())
            )
            rows = self.leaf(ast.parse(f"[{values} for {ast.unparse(target)} in {original_iter}]", mode="eval").body)
            loop.target = ast.Tuple([target, ast.Name("_r", ast.Store())], ast.Store())
            loop.iter = rows
        else:
            loop.iter = self.visit(loop.iter)
        return node

    def visit(self, node):
        if isinstance(node, (ast.Constant, ast.cmpop, ast.operator, ast.boolop, ast.unaryop, ast.expr_context)):
            return node
        if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
            return self.comprehension(node)
        if isinstance(node, (ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.IfExp, ast.Tuple, ast.List, ast.Set)):
            return self.generic_visit(node)
        if isinstance(node, ast.Compare):
            if any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
                return self.leaf(node)  # identity cannot be judged on copies
            return self.generic_visit(node)
        if isinstance(node, ast.Dict):
            return self.generic_visit(node)
        if isinstance(node, ast.Subscript):
            node.value = self.visit(node.value)
            node.slice = self.visit(node.slice)
            return node
        if isinstance(node, ast.Slice):
            return self.generic_visit(node)
        if isinstance(node, ast.Call) and not any(isinstance(a, ast.Starred) for a in node.args):
            if _pure_function(node.func):
                return self.arguments(node)
            if isinstance(node.func, ast.Attribute) and node.func.attr in PURE_METHODS:
                node.func.value = self.visit(node.func.value)
                return self.arguments(node)
            return self.leaf(node)
        if isinstance(node, ast.Attribute):
            if _dotted(node) and _pure_function(node):
                return node  # np.pi, sp.oo
            if node.attr in PURE_ATTRIBUTES:
                node.value = self.visit(node.value)
                return node
            return self.leaf(node)
        if isinstance(node, ast.Name) and (
            node.id in self.bound or node.id in PURE_BUILTINS | set(PURE_MODULE_FUNCTIONS)
        ):
            return node
        return self.leaf(node)

    def arguments(self, call):
        call.args = [self.visit(a) for a in call.args]
        for keyword in call.keywords:
            keyword.value = self.visit(keyword.value)
        return call


def split(condition):
    """(skeleton source over ``_v``, [leaf sources]) of one condition expression (an ast node)."""
    splitter = _Splitter()
    skeleton = splitter.visit(condition)
    return ast.unparse(skeleton), splitter.leaves


def _condition_calls(tree):
    """Calls ``x.true(what, cond, ...)`` / ``plain_assert(q, what, cond, ...)`` in source order.

    A condition given by keyword (``condition=``) is moved to its position first.
    """
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        position = CONDITION_CALLS.get(getattr(node.func, "attr", getattr(node.func, "id", None)))
        keyword = next((k for k in node.keywords if k.arg == "condition"), None)
        if position is not None and keyword is not None and len(node.args) == position - 1:
            node.args.append(keyword.value)
            node.keywords.remove(keyword)
        if position is not None and len(node.args) >= position:
            calls.append((node, position - 1))
    return sorted(calls, key=lambda c: (c[0].lineno, c[0].col_offset))


def split_conditions(tree):
    """Rewrite each condition of ``tree`` (in place) to ``(site, [leaves])``; return the skeletons."""
    skeletons = []
    for call, position in _condition_calls(tree):
        skeleton, leaves = split(call.args[position])
        call.args[position] = ast.Tuple(
            [
                ast.Constant(len(skeletons)),
                ast.List([ast.parse(leaf, mode="eval").body for leaf in leaves], ast.Load()),
            ],
            ast.Load(),
        )
        skeletons.append(skeleton)
    return skeletons


def skeletons_of(source):
    """The skeleton of each condition site of a test cell's source (what the judge evaluates)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return split_conditions(tree)


class _Asserts(ast.NodeTransformer):
    def __init__(self, question):
        self.question = question

    def visit_Assert(self, node):
        what = f"assert {ast.unparse(node.test)}"[:200]
        args = [ast.Constant(self.question), ast.Constant(what), node.test]
        if node.msg is not None:
            args.append(node.msg)
        call = ast.Call(ast.Attribute(ast.Name("__course_checks", ast.Load()), "plain_assert", ast.Load()), args, [])
        return ast.copy_location(ast.Expr(call), node)


def rewrite_asserts(source, question):
    """A test cell's ``assert`` statements as ``checks.plain_assert`` calls (source unchanged without any)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    if not any(isinstance(node, ast.Assert) for node in ast.walk(tree)):
        return source
    tree = _Asserts(question).visit(tree)
    tree.body.insert(0, ast.parse("import course_utils.checks as __course_checks").body[0])
    return ast.unparse(ast.fix_missing_locations(tree))
