"""Visible checks cover every requirement class the hidden tests test (Validate predicts grading)."""

import json
from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import CheckFailed, checking
from course_utils.instructor.requirements import checked_cells, classes_of, classify_call, gaps, split_hidden

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in (REPO / "source").iterdir() if p.is_dir())


def test_every_hidden_requirement_class_is_among_the_visible_checks():
    missing = [f"{c.notebook} {c.grade_id}: {sorted(c.missing)}" for c in gaps(SOURCES)]
    assert missing == [], "hidden tests test requirements no visible check does:\n" + "\n".join(missing)


def test_every_notebook_has_test_cells_with_hidden_tests_to_compare():
    cells = [cell for folder in SOURCES for nb in folder.glob("*.ipynb") for cell in checked_cells(nb)]
    assert len(cells) > 100 and all(cell.visible for cell in cells), [c.grade_id for c in cells if not c.visible]


@pytest.mark.parametrize(
    ("method", "code", "classes"),
    [
        ("gradients", '"dW", report', {"gradient"}),
        ("sympy_equal", '"nll", nll', {"symbolic"}),
        ("equal", '"shape of grad", np.shape(g)', {"shape"}),
        ("close", '"sigmoid(+-1e3)", sigmoid(x)', {"stability", "value"}),
        ("true", '"no overflow", not overflows(sigmoid, x)', {"stability", "property"}),
        ("close", '"sigma\'(0)", float(sp.sympify(d).subs(z, 0))', {"symbolic", "value"}),
        ("close", '"a value", f(x) "f: the shape of the answer"', {"value"}),
        ("true", '"PSD on random data", eig.min() >= 0', {"property"}),
    ],
)
def test_a_check_call_is_classified_by_its_kind_and_what_it_says(method, code, classes):
    assert classify_call(method, code) == classes


def test_the_hidden_block_is_what_lies_between_the_markers():
    visible, hidden = split_hidden(
        "with checking('q', hidden=1) as check:\n    check.close('a', f(0), 1)\n"
        "    ### BEGIN HIDDEN TESTS\n    check.gradients('g', r)\n    ### END HIDDEN TESTS\n"
    )
    assert classes_of(visible) == {"value"} and classes_of(hidden) == {"gradient"}


def release_cell(notebook, grade_id):
    cells = json.loads((REPO / "release" / notebook).read_text())["cells"]
    return next("".join(c["source"]) for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.parametrize(
    ("sigmoid", "passes"),
    [(lambda x: 1 / (1 + np.exp(-x)), False), (lambda x: np.exp(-np.logaddexp(0, -x)), True)],
    ids=["naive", "stable"],
)
def test_a_naive_sigmoid_fails_validate(sigmoid, passes, capsys):
    namespace = {"np": np, "checking": checking, "sigmoid": sigmoid}
    exec(release_cell("ps2/convexity_and_autodiff.ipynb", "overflow_helper"), namespace)
    test_cell = release_cell("ps2/convexity_and_autodiff.ipynb", "test_sigmoid")
    if passes:
        exec(test_cell, namespace)
        assert "visible checks passed" in capsys.readouterr().out
    else:
        with pytest.raises(CheckFailed, match="no overflow at"):
            exec(test_cell, namespace)


@pytest.mark.parametrize("assignment", [p.name for p in SOURCES])
def test_every_assignment_ties_a_derivation_to_its_code(assignment):
    """Issue 17: a student's SymPy result is compared with their own NumPy code in each assignment."""
    cells = [cell for nb in (REPO / "source" / assignment).glob("*.ipynb") for cell in checked_cells(nb)]
    assert [c.grade_id for c in cells if "derivation" in c.visible & c.hidden], f"{assignment}: no derivation check"
