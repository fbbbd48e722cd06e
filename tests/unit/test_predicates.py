"""grading.predicates: conditions split into the student's leaves and the grader's skeleton."""

import ast

import numpy as np
import pytest

from course_utils.grading.predicates import rewrite_asserts, skeletons_of, split
from course_utils.protocol import judges
from course_utils.protocol.codec import decode, encode


def judged(condition, namespace):
    """Judge ``condition`` as the grader does: leaves evaluated here, encoded, skeleton in the judge."""
    skeleton, leaves = split(ast.parse(condition, mode="eval").body)
    values = [decode(encode(eval(leaf, namespace))) for leaf in leaves]
    try:
        judges.true((0, values), skeletons=[skeleton])
    except judges.Mismatch:
        return False
    return True


@pytest.mark.parametrize(
    "condition, skeleton, leaves",
    [
        ("np.mean(h[-10:]) < 0.6 * h[0]", "np.mean(_v[0][-10:]) < 0.6 * _v[1][0]", ["h", "h"]),
        ("model.loss(X, y) < before", "_v[0] < _v[1]", ["model.loss(X, y)", "before"]),
        ("abs(mlp.W1.mean() - 0.1) < 0.002", "abs(_v[0].mean() - 0.1) < 0.002", ["mlp.W1"]),
        ("opt.params is t1", "_v[0]", ["opt.params is t1"]),
        ("all(g < 1 for g in gs)", "all((g < 1 for g in _v[0]))", ["gs"]),
        ("all(f(p) < 1 for p in ps)", "all((_r[0] < 1 for p, _r in _v[0]))", ["[(p, (f(p),)) for p in ps]"]),
        ("not e.has(mu)", "not _v[0].has(_v[1])", ["e", "mu"]),
        ("isinstance(v, sp.Expr)", "isinstance(_v[0], sp.Expr)", ["v"]),
    ],
)
def test_split_keeps_only_pure_operations_in_the_skeleton(condition, skeleton, leaves):
    got_skeleton, got_leaves = split(ast.parse(condition, mode="eval").body)
    assert (got_skeleton, got_leaves) == (skeleton, leaves)


class Liar:
    """An object that claims to equal, exceed and precede everything."""

    def __eq__(self, other):
        return True

    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__


def test_a_lying_object_cannot_pass_a_condition():
    assert not judged("again == left", {"again": Liar(), "left": 0.5})
    assert not judged("x < 1e-6", {"x": Liar()})
    assert judged("again == left", {"again": 0.5, "left": 0.5})


def test_liars_inside_a_loop_are_judged_element_by_element():
    space = {"f": lambda p: Liar(), "ps": [1, 2], "h": [Liar(), Liar()]}
    assert not judged("all(f(p) < 1 for p in ps)", space)
    assert not judged("all(b < a for a, b in zip(h, h[1:]))", space)
    assert judged("all(f(p) < 1 for p in ps)", {"f": lambda p: p / 10, "ps": [1, 2]})


def test_numbers_arrays_and_sympy_are_judged_on_their_values():
    import sympy as sp

    mu, s = sp.symbols("mu s")
    space = {"np": np, "h": [3.0, 2.0, 1.0], "e": s**2 + 1, "mu": mu, "grid": np.array([[0.0, 1e-13]])}
    assert judged("np.mean(h[-2:]) < 0.6 * h[0]", space)
    assert not judged("np.mean(h[-2:]) < 0.4 * h[0]", space)
    assert judged("not e.has(mu)", space)
    assert judged("grid.min() >= -1e-12 and grid.shape == (1, 2)", space)


def test_a_forged_or_foreign_record_is_not_a_condition():
    for got in (True, (5, []), ("0", [True]), [0, [True]]):
        with pytest.raises(judges.Mismatch, match="not recorded as the grader sent it"):
            judges.true(got, skeletons=["_v[0]"])


def test_plain_asserts_become_checks_with_their_message():
    source = "x = f(2)\nassert x == 4, 'f(2) should be 4'\nfor i in range(3):\n    assert g(i) > 0\n"
    rewritten = rewrite_asserts(source, "test_f")
    assert not any(line.lstrip().startswith("assert") for line in rewritten.splitlines())
    assert "__course_checks.plain_assert('test_f', 'assert x == 4', x == 4, 'f(2) should be 4')" in rewritten
    assert skeletons_of(rewritten) == ["_v[0] == 4", "_v[0] > 0"]
    assert rewrite_asserts("check.close('a', f(1), 2)", "t") == "check.close('a', f(1), 2)"  # nothing to do


def test_a_condition_given_by_keyword_is_split_too():
    source = "with checking('q') as check:\n    check.true('t', condition=f(1) > 0, where='f')\n"
    assert skeletons_of(source) == ["_v[0] > 0"]
