"""Tests of course_utils.checks: test-cell helpers and their messages."""

import sys
import warnings

import numpy as np
import pytest
import sympy as sp

from course_utils import gradcheck
from course_utils.checks import Checker, CheckFailed, checking, grading_mode


@pytest.fixture(autouse=True)
def not_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


# ---------------------------------------------------------------- checking(): passing cells


def test_pass_message_with_hidden_count(capsys):
    with checking("1.2 ReLU gradient", hidden=3) as check:
        check.close("df/db", 1.0, 1.0)
        check.equal("shape", (2, 3), (2, 3))
    captured = capsys.readouterr()
    assert captured.out == ("✓ 1.2 ReLU gradient: 2 visible checks passed. 3 hidden tests will run at grading.\n")
    assert captured.err == ""


def test_pass_message_without_hidden_tests(capsys):
    with checking("1.3") as check:
        check.true("positive", 2 > 1)
    out = capsys.readouterr().out
    assert "✓ 1.3: 1 check passed" in out and "no hidden tests" in out


def test_autograde_message_says_all_checks_passed(capsys, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert grading_mode() == "autograde"
    with checking("2.1", hidden=4) as check:
        for i in range(6):
            check.close(f"value {i}", i * 0.5, i / 2)
    out = capsys.readouterr().out
    assert out == "✓ 2.1: all 6 checks passed.\n"
    assert "hidden test" not in out


def test_one_check_is_singular(capsys, monkeypatch):
    from course_utils.grading.oracle import judge_test  # the grader's verdict says it the same way

    with checking("2.3", hidden=1) as check:
        check.true("ok", True)
    assert "1 visible check passed. 1 hidden test will run" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with checking("2.3") as check:
        check.true("ok", True)
    assert capsys.readouterr().out == "✓ 2.3: the 1 check passed.\n"

    class Cell:
        status, error, records = "ok", "", [{"kind": "equal", "question": "2.3", "what": "n", "got": 1}]

    reference = Cell()
    reference.records = [{"kind": "equal", "question": "2.3", "what": "n", "expected": 1}]
    assert judge_test("t", 1, Cell(), reference).message == "the 1 check passed"


def test_validate_mode_still_mentions_hidden_tests(capsys, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert grading_mode() == "validate"
    with checking("2.2", hidden=1) as check:
        check.true("ok", True)
    assert "1 hidden test will run" in capsys.readouterr().out


def test_grading_mode_none_when_unset_or_empty(monkeypatch):
    assert grading_mode() is None
    monkeypatch.setenv("NBGRADER_EXECUTION", "")
    assert grading_mode() is None


# ---------------------------------------------------------------- failures


def test_close_failure_message_has_expected_got_and_where(capsys):
    with pytest.raises(CheckFailed) as info:
        with checking("1.2 ReLU gradient", hidden=2) as check:
            check.close("df/db at b+xw=2", 0.0, 1.0, where="relu_grad, the b branch")
    msg = str(info.value)
    assert msg.startswith("[1.2 ReLU gradient] df/db at b+xw=2:")
    # |0 - 1| / |1| = 1 relative error
    assert "expected 1., got 0. (max relative error 1.00e+00 > 1e-07)" in msg
    assert "where to look: relu_grad, the b branch" in msg
    assert "✓" not in capsys.readouterr().out  # no success line after a failure


def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


def test_failure_without_where_has_no_where_line():
    check = Checker("q")
    with pytest.raises(CheckFailed) as info:
        check.equal("n", 3, 4)
    assert str(info.value) == "[q] n: expected 4, got 3"


def test_not_implemented_becomes_not_answered(capsys):
    def student_answer():
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match=r"\[1.1\] not answered yet.*NotImplementedError") as info:
        with checking("1.1") as check:
            check.close("value", student_answer(), 1.0)
    assert isinstance(info.value.__cause__, NotImplementedError)
    assert capsys.readouterr().err == ""


def test_other_exception_names_type_and_question():
    def student_forward(x):
        raise ValueError("shapes (3,) and (2,) not aligned")

    with pytest.raises(CheckFailed, match=r"\[1.4\] your code raised ValueError: shapes \(3,\) and \(2,\)") as info:
        with checking("1.4") as check:
            check.close("forward", student_forward(np.ones(3)), np.ones(2))
    assert isinstance(info.value.__cause__, ValueError)


def test_name_missing_from_the_notebook_says_run_the_answer_cell():
    with pytest.raises(CheckFailed, match=r"\[1.5\] name 'relu_grad' is not defined: run your answer cell") as info:
        with checking("1.5") as check:
            check.close("value", relu_grad(1.0), 1.0)  # noqa: F821 (the answer cell was not run)
    assert isinstance(info.value.__cause__, NameError)


def test_name_error_inside_the_students_function_names_the_function_and_the_name():
    import linecache

    source, cell = "def loss(w):\n    return np.sum(w ** 2) / N_train\n", {}
    linecache.cache["<answer cell>"] = (len(source), None, source.splitlines(True), "<answer cell>")
    exec(compile(source, "<answer cell>", "exec"), {"np": np}, cell)  # a cell is a file of its own in IPython
    with pytest.raises(CheckFailed) as info:
        with checking("1.6") as check:
            check.close("loss", cell["loss"](np.ones(2)), 1.0)
    message = str(info.value)
    assert "your function loss() uses the name 'N_train', which is not defined" in message
    assert "where to look: loss(), at: return np.sum(w ** 2) / N_train" in message
    assert "run your answer cell" not in message


def test_runtime_warning_goes_to_stdout_not_stderr(capsys):
    with checking("3.1", hidden=1) as check:
        with np.errstate(divide="warn"):
            value = np.log(np.array([0.0, 1.0]))  # RuntimeWarning: divide by zero
        warnings.warn("student code is slow", RuntimeWarning)
        check.true("first is -inf", value[0] == -np.inf)
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0].startswith("note: your code emitted 2 warning(s) (not penalised)")
    assert "RuntimeWarning: divide by zero" in lines[0]
    assert "RuntimeWarning: student code is slow" in lines[0]
    assert lines[1].startswith("✓ 3.1: 1 visible check passed. 1 hidden test will run")


def test_repeated_warning_reported_once_and_even_if_filtered_elsewhere(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "always" inside checking still records it
        with checking("3.2") as check:
            for _ in range(5):
                warnings.warn("same", RuntimeWarning)
            check.true("t", True)
    out = capsys.readouterr().out
    assert "emitted 1 warning(s)" in out and out.count("RuntimeWarning: same") == 1


def test_stderr_output_is_captured_and_reported(capsys):
    with checking("3.3") as check:
        print("debug from student", file=sys.stderr)
        check.true("t", True)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "stderr: 'debug from student\\n'" in captured.out


def test_warning_during_failing_check_still_not_on_stderr(capsys):
    with pytest.raises(CheckFailed):
        with checking("3.4") as check:
            warnings.warn("overflow", RuntimeWarning)
            check.true("t", False, where="here")
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "RuntimeWarning: overflow" in captured.out


def test_warning_filters_and_stderr_restored_after_cell():
    filters = list(warnings.filters)
    stderr = sys.stderr
    with checking("3.5") as check:
        assert sys.stderr is not stderr  # captured inside the cell
        warnings.warn("x", RuntimeWarning)
        check.true("t", True)
    assert warnings.filters == filters
    assert sys.stderr is stderr
    with pytest.warns(UserWarning):
        warnings.warn("outside", UserWarning)


# ---------------------------------------------------------------- Checker.close


@pytest.fixture
def check():
    return Checker("Q")


def test_close_shape_mismatch(check):
    with pytest.raises(CheckFailed, match=r"expected shape \(3,\), got shape \(2,\)"):
        check.close("v", np.ones(2), np.ones(3))
    with pytest.raises(CheckFailed, match=r"expected shape \(2, 1\), got shape \(2,\)"):
        check.close("v", [1.0, 2.0], [[1.0], [2.0]])


def test_close_nan_and_inf(check):
    with pytest.raises(CheckFailed, match="non-finite"):
        check.close("v", np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(CheckFailed, match="non-finite"):
        check.close("v", np.inf, 1.0)
    with pytest.raises(CheckFailed):
        check.close("v", None, 1.0)


def test_close_non_numeric(check):
    with pytest.raises(CheckFailed, match=r"expected numbers of shape \(\)"):
        check.close("v", "abc", 1.0)


def test_close_tolerance(check):
    check.close("v", 1.0 + 1e-9, 1.0)  # 1e-9 <= 1e-12 + 1e-7 * 1
    check.close("v", [1e-13, 2.0], [0.0, 2.0])  # atol covers exact zero expectations
    with pytest.raises(CheckFailed, match=r"max relative error 1.00e-06 > 1e-07"):
        check.close("v", 1.0 + 1e-6, 1.0)  # |diff| / |expected| = 1e-6
    check.close("v", 1.0 + 1e-6, 1.0, rtol=1e-5)
    assert check.passed == 3


def test_close_message_shows_arrays(check):
    with pytest.raises(CheckFailed) as info:
        check.close("grad", np.array([1.0, 2.0, 3.5]), np.array([1.0, 2.0, 3.0]), where="backward")
    msg = str(info.value)
    assert "expected [1. 2. 3.]" in msg and "got [1.  2.  3.5]" in msg
    assert "where to look: backward" in msg


def test_long_values_are_truncated(check):
    with pytest.raises(CheckFailed) as info:
        check.equal("s", "a" * 1000, "b" * 1000)
    assert len(str(info.value)) < 600 and " ..." in str(info.value)


def test_true_and_equal(check):
    check.true("t", np.array([True, True]).all())
    check.equal("set", {1, 2}, {2, 1})
    with pytest.raises(CheckFailed, match="condition is false"):
        check.true("t", 0)
    with pytest.raises(CheckFailed, match="custom text"):
        check.true("t", [], message="custom text")
    with pytest.raises(CheckFailed, match=r"expected 'relu', got 'tanh'"):
        check.equal("name", "tanh", "relu")
    assert check.passed == 2


# ---------------------------------------------------------------- sympy_equal and gradients


def test_sympy_equal(check):
    x = sp.Symbol("x")
    s = 1 / (1 + sp.exp(-x))
    check.sympy_equal("dsigma", s * (1 - s), sp.exp(-x) / (1 + sp.exp(-x)) ** 2, [x])
    check.sympy_equal("dsigma str", "exp(-x)/(1+exp(-x))^2", s * (1 - s), [x])
    assert check.passed == 2
    with pytest.raises(CheckFailed, match=r"not equivalent.*differs at \{'x'"):
        check.sympy_equal("dsigma", s * (1 + s), s * (1 - s), [x], where="chain rule")
    for missing in (None, ...):
        with pytest.raises(CheckFailed, match="no expression given yet"):
            check.sympy_equal("dsigma", missing, s, [x])


def test_gradients_with_failing_report(check):
    A = np.array([[2.0, 1.0], [0.0, 3.0]])
    v = np.array([0.5, -1.0])
    loss = lambda p: float(p["w"] @ A @ v + np.sum(p["b"] ** 2))
    w, b = np.array([1.0, 2.0]), np.array([0.3, -0.4])
    good = gradcheck.check_gradients(loss, {"w": w, "b": b}, {"w": A @ v, "b": 2 * b})
    check.gradients("dL", good)
    bad = gradcheck.check_gradients(loss, {"w": w, "b": b}, {"w": A.T @ v, "b": 2 * b})
    with pytest.raises(CheckFailed) as info:
        check.gradients("dL", bad, where="backward of the linear layer")
    msg = str(info.value)
    assert "gradient check failed for ['w']" in msg
    assert "wrong" in msg and "rel error" in msg  # the report table is included
    assert "where to look: backward of the linear layer" in msg
    assert check.passed == 1


def test_error_location_points_at_the_callers_code_not_numpy():
    import numpy as np

    from course_utils.checks import CheckFailed, checking

    def solve_singular():
        return np.linalg.solve(np.zeros((2, 2)), np.ones(2))

    try:
        with checking("q"):
            solve_singular()
    except CheckFailed as exc:
        message = str(exc)
    assert "LinAlgError" in message
    assert "where to look: solve_singular()" in message


# ---------------------------------------------------------------- derivation_matches_code


@pytest.fixture
def logistic():
    """d/da of -log sigma(a) (= sigma(a) - 1) in SymPy, its NumPy code, a wrong code, and 4 points."""
    a = sp.Symbol("a")
    derived = sp.diff(-sp.log(1 / (1 + sp.exp(-a))), a)
    points = np.linspace(-2.0, 2.0, 4)[:, None]
    right = lambda v: 1 / (1 + np.exp(-v)) - 1
    return a, derived, points, right, lambda v: 1 / (1 + np.exp(-v))


def test_derivation_agreeing_with_code_passes(check, logistic):
    a, derived, points, right, _ = logistic
    check.derivation_matches_code("dnll/da", derived, [a], points, right(points[:, 0]))
    check.derivation_matches_code("as a string", "-exp(-a)/(1 + exp(-a))", [a], points, right(points[:, 0]))
    check.derivation_matches_code(
        "float32 code", derived, [a], points, right(points[:, 0]).astype(np.float32), rtol=1e-6
    )
    x, y = sp.symbols("x y")
    grid = np.array([[0.5, -1.0], [2.0, 3.0]])
    gradient = [2 * x * y, x**2]  # a list, a Matrix or a column: only the values in order count
    check.derivation_matches_code("grad", gradient, [x, y], grid, [[2 * p * q, p * p] for p, q in grid])
    check.derivation_matches_code("grad", sp.Matrix(gradient), [x, y], grid, [[2 * p * q, p * p] for p, q in grid])
    assert check.passed == 5


def test_derivation_disagreeing_with_code_says_where_and_which_is_wrong(check, logistic):
    a, derived, points, right, wrong = logistic
    with pytest.raises(CheckFailed) as info:
        check.derivation_matches_code("dnll/da", derived, [a], points, wrong(points[:, 0]), where="dnll_da, grad")
    message = str(info.value)
    assert "your SymPy result and your NumPy code disagree" in message and "at a=" in message
    assert "right" not in message  # no reference: the visible check cannot say which one
    reference = right(points[:, 0])
    with pytest.raises(CheckFailed, match="your derivation is right, your code is not"):
        check.derivation_matches_code("d", derived, [a], points, wrong(points[:, 0]), reference)
    with pytest.raises(CheckFailed, match="your code is right, your derivation is not"):
        check.derivation_matches_code("d", derived + 1, [a], points, reference, reference)
    with pytest.raises(CheckFailed, match="neither agrees with the reference"):
        check.derivation_matches_code("d", derived + 2, [a], points, wrong(points[:, 0]), reference)


def test_derivation_that_cannot_be_compared_says_why(check, logistic):
    a, derived, points, right, _ = logistic
    b = sp.Symbol("b")
    for answer, reason in [
        (None, "no SymPy result given yet"),
        (derived * b, r"uses symbols other than \['a'\]: \['b'\]"),
        (sp.Function("g")(a), "not a SymPy function"),
        (sp.I * a, "complex values"),
        ("import os", "cannot be compared with your code"),
    ]:
        with pytest.raises(CheckFailed, match=reason):
            check.derivation_matches_code("d", answer, [a], points, right(points[:, 0]))
    with pytest.raises(CheckFailed, match="1 entries per point, your code gives 2"):
        check.derivation_matches_code("d", derived, [a], points, np.ones((4, 2)))
    with pytest.raises(CheckFailed, match="disagree"):
        check.derivation_matches_code("d", derived, [a], points, np.full(4, np.nan))
