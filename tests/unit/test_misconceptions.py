"""Named misconceptions: matching by the check kind's own judge, the oracle's labels, stripping, the class report."""

import json

import numpy as np
import sympy as sp

from course_utils.checks import Checker, CheckFailed, JudgeChecker, ProbeChecker, checking
from course_utils.grading.execute import CellResult
from course_utils.grading.oracle import judge_test
from course_utils.grading.strip import strip_expected
from course_utils.instructor.class_errors import parse_failure, render_section, summarise
from course_utils.instructor.report import StudentResult
from course_utils.protocol import KINDS, RUN
from course_utils.protocol.misconceptions import LEAD, matches, name_for

SAYS = "the Jacobian keeps only its diagonal."


def close_values(got, expected, rtol=1e-7, atol=1e-12):
    return {"got": got, "expected": expected, "rtol": rtol, "atol": atol}


def test_a_value_within_the_checks_tolerance_matches():
    values = close_values(np.array([10.0 + 1e-9]), np.array([5.0]))
    assert matches(KINDS["close"], values, [10.0])
    assert not matches(KINDS["close"], values | {"rtol": 1e-12, "atol": 0.0}, [10.0])
    assert not matches(KINDS["close"], values, [10.5])


def test_a_misconception_of_another_shape_or_type_never_matches_nor_crashes():
    values = close_values(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    assert not matches(KINDS["close"], values, [1.0, 2.0, 3.0])
    assert not matches(KINDS["close"], values, "a string")
    assert not matches(KINDS["true"], {"got": False}, True)


def test_an_infinity_matches_only_the_same_infinity_of_a_misconception():
    """log(sigmoid(-1000)) is -inf: a misconception of value -inf names it; a right answer is finite."""
    values = close_values(np.array(-np.inf), np.array(-1e3))
    assert not matches(KINDS["close"], values | {"got": np.array(-1e3)}, np.array(-np.inf))
    assert matches(KINDS["close"], values, -np.inf)
    assert matches(KINDS["close"], close_values(np.array([-np.inf, 0.0]), [-1e3, 0.0]), [-np.inf, 0.0])
    assert not matches(KINDS["close"], values, np.inf)
    assert not matches(KINDS["close"], values, -1e3)
    assert not matches(KINDS["close"], close_values(np.array(np.nan), np.array(1.0)), np.nan)
    assert not matches(KINDS["close"], close_values(np.array([-np.inf, 1.0]), [-1e3, 0.0]), [-np.inf, 0.0])


def test_symbolic_answers_match_when_sympy_equivalent():
    z = sp.symbols("z")
    values = {"got": sp.exp(z) / (1 + sp.exp(z)), "expected": z, "symbols": [z], "options": {}}
    assert matches(KINDS["sympy"], values, 1 / (1 + sp.exp(-z)))  # the same function written differently
    assert not matches(KINDS["sympy"], values, 1 / (1 - sp.exp(-z)))


def test_the_first_matching_misconception_is_named():
    values = close_values(np.array([3.0]), np.array([1.0]))
    assert name_for(KINDS["close"], values, [([2.0], "two"), ([3.0], "three"), ([3.0], "again")]) == "three"
    assert name_for(KINDS["close"], values, []) == ""


def test_checker_names_the_misconception_only_when_the_check_fails():
    with checking("q") as check:
        check.misconception("J", [[0.5, 0.0], [0.0, 0.5]], SAYS)
        check.close("J", [[0.25, -0.25], [-0.25, 0.25]], [[0.25, -0.25], [-0.25, 0.25]])  # right: no label
    try:
        with checking("q") as check:
            check.misconception("J", [[0.5, 0.0], [0.0, 0.5]], SAYS)
            check.close("J", [[0.5, 0.0], [0.0, 0.5]], [[0.25, -0.25], [-0.25, 0.25]])
    except CheckFailed as failure:
        assert f"{LEAD}{SAYS}" in str(failure) and "expected" in str(failure)
    else:
        raise AssertionError("the check passed")


def test_correct_beats_misconception():
    """A misconception whose value equals the right answer for these inputs never labels a right answer."""
    checker = Checker("q")
    checker.misconception("x", 1.0, SAYS)
    checker.close("x", 1.0, 1.0)
    assert checker.passed == 1


def test_probe_records_no_catalogue_and_judge_records_it():
    RUN.records, RUN.count = [], 0
    ProbeChecker("q").misconception("x", 1.0, SAYS)
    assert RUN.records == []
    JudgeChecker("q").misconception("x", 1.0, SAYS)
    assert json.loads(RUN.records[0])["kind"] == "misconception" and SAYS in RUN.records[0]
    RUN.records, RUN.count = [], 0


def test_strip_removes_the_catalogue_and_what_only_it_uses():
    cell = (
        "with checking('q', hidden=1) as check:\n"
        "    wrong = np.diag(p)\n"
        f"    check.misconception('J', wrong, {SAYS!r})\n"
        "    check.close('J', softmax_jacobian(z), np.diag(p) - np.outer(p, p))\n"
    )
    stripped = strip_expected(cell)
    assert "misconception" not in stripped and "diag" not in stripped and SAYS not in stripped


def _records(checker_class, got):
    RUN.records, RUN.count = [], 0
    check = checker_class("q")
    check.misconception("J", [[0.5, 0.0], [0.0, 0.5]], SAYS)
    check.close("J", got, [[0.25, -0.25], [-0.25, 0.25]])
    records = [json.loads(r) for r in RUN.records]
    RUN.records, RUN.count = [], 0
    return records


def _oracle(got):
    reference = CellResult(status="ok", records=_records(JudgeChecker, [[0.25, -0.25], [-0.25, 0.25]]))
    student = CellResult(status="ok", records=_records(ProbeChecker, got))
    return judge_test("test_j", 2, student, reference)


def test_oracle_names_a_matching_misconception_and_not_a_right_answer():
    wrong = _oracle([[0.5, 0.0], [0.0, 0.5]])
    assert wrong.score == 0 and wrong.misconception == SAYS and f"{LEAD}{SAYS}" in wrong.message
    other = _oracle([[0.1, 0.0], [0.0, 0.1]])
    assert other.score == 0 and not other.misconception and LEAD not in other.message
    right = _oracle([[0.25, -0.25], [-0.25, 0.25]])
    assert right.score == 2 and not right.misconception


def _message(got, says=""):
    text = f"[1.3 softmax Jacobian] J at z: expected [0.25], got {got} (max relative error 1.00e+00 > 1e-07)"
    return text + (f"\n  {LEAD}{says}" if says else "") + "\n  where to look: softmax_jacobian"


def test_class_summary_clusters_by_value_and_misconception():
    """A synthetic class of 10: 4 right, 3 diagonal-only, 2 with one value (within tolerance), 1 other."""
    names = [f"s{i}" for i in range(10)]
    results = {n: StudentResult(n, scores={"test_j": (2.0 if i < 4 else 0.0, 2.0)}) for i, n in enumerate(names)}
    gots = {
        "s4": ("[0.5]", SAYS),
        "s5": ("[0.5]", SAYS),
        "s6": ("[0.5000000001]", SAYS),
        "s7": ("[0.7]", ""),
        "s8": ("[0.70000000001]", ""),
        "s9": ("[3.]", ""),
    }
    answers = {n: {"test_j": parse_failure(_message(*g))} for n, g in gots.items()}
    (question,) = summarise(results, answers)
    assert (question.graded, question.full_marks, question.unmatched) == (10, 4, 3)
    assert [(len(c.students), c.says) for c in question.clusters] == [(3, SAYS), (2, ""), (1, "")]
    page = render_section([question])
    assert "40%" in page and f"30% (3)</b>: {SAYS}" in page and "[0.7]" in page


def test_unparseable_values_are_grouped_by_their_text_and_never_evaluated():
    answer = parse_failure(_message("__import__('os').system('x')"))
    assert answer.numbers is None and answer.got.startswith("__import__")
    assert parse_failure("Traceback: something else") is None
