"""Test cells as the student's process runs them: expected values removed.

The oracle judges ``check.*`` calls from the value the student's
code produced and the expected value of the reference run. So the copy of a test cell
that runs in the student's process needs no expected values, and must not have them
(a student's code could read them and report them as its own). ``strip_expected``:

1. replaces the expected argument of those calls (``protocol.KINDS``) by ``None``, and drops
   the named misconceptions (``check.misconception``: wrong values and what they mean);
2. replaces each condition (``check.true``, a plain ``assert``) by its site and the leaves the
   student's values come from; its skeleton stays with the grader (``grading.predicates``);
3. drops assignments whose names are then used by nothing else (``W_ref = ...``);
4. drops comments (the reference derivations live there) by re-printing the code.
"""

import ast
from collections import Counter

from ..protocol import KINDS
from .predicates import split_conditions

EXPECTED_ARGUMENT = {kind.method: kind.expected_argument for kind in KINDS.values() if kind.expected_argument}


def _checker_names(tree):
    """Names bound by ``with checking(...) as name``."""
    names = {"check"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and getattr(call.func, "id", getattr(call.func, "attr", "")) == "checking"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    names.add(item.optional_vars.id)
    return names


class _StripExpected(ast.NodeTransformer):
    def __init__(self, checkers):
        self.checkers = checkers

    def _is_check(self, node, method):
        func = node.func if isinstance(node, ast.Call) else None
        return (
            isinstance(func, ast.Attribute)
            and func.attr == method
            and isinstance(func.value, ast.Name)
            and func.value.id in self.checkers
        )

    def visit_Expr(self, node):
        """A misconception's statement becomes ``pass``: the catalogue stays with the grader."""
        if self._is_check(node.value, "misconception"):
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in EXPECTED_ARGUMENT
            and isinstance(func.value, ast.Name)
            and func.value.id in self.checkers
        ):
            position, keyword = EXPECTED_ARGUMENT[func.attr]
            if len(node.args) > position and not any(isinstance(a, ast.Starred) for a in node.args[: position + 1]):
                node.args[position] = ast.Constant(None)
            for kw in node.keywords:
                if kw.arg == keyword:
                    kw.value = ast.Constant(None)
        return node


def _loads(node):
    return Counter(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _target_names(target):
    """Base names an assignment target writes, or None if it writes through an attribute."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Subscript):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        parts = [_target_names(t) for t in target.elts]
        return None if None in parts else set().union(*parts)
    return None  # obj.attr = ... changes an object: never dropped


def _assigned(stmt):
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    parts = [_target_names(t) for t in targets]
    return None if None in parts else set().union(*parts)


def _assignments(tree):
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))]


def _reads(tree):
    """How often each name is read, not counting an assignment reading its own target (P /= P.sum())."""
    reads = _loads(tree)
    for stmt in _assignments(tree):
        own = _loads(stmt)
        for name in _assigned(stmt) or ():
            reads[name] -= own[name]
    return reads


def _drop_unused_assignments(tree):
    """Replace assignments to names nothing else reads by ``pass``, until none is left."""
    changed = True
    while changed:
        changed = False
        reads = _reads(tree)
        for parent in ast.walk(tree):
            if isinstance(parent, (ast.FunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody"):
                body = getattr(parent, field, None)
                if not isinstance(body, list):
                    continue
                for i, stmt in enumerate(body):
                    if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                        continue
                    names = _assigned(stmt)
                    if names and all(reads[n] <= 0 for n in names):
                        body[i] = ast.copy_location(ast.Pass(), stmt)
                        changed = True
    return tree


def strip_expected(source):
    """The test cell ``source`` with expected values removed (see module docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source  # IPython magics etc.: run as written
    tree = _StripExpected(_checker_names(tree)).visit(tree)
    split_conditions(tree)
    return ast.unparse(ast.fix_missing_locations(_drop_unused_assignments(tree)))
