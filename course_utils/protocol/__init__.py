"""The check protocol: what a notebook's test cells and the project grader agree on.

Both sides import this package and nothing of each other: the student-facing helpers
(``course_utils.checks``, ``gradcheck``, ``variants``) and the grader (``course_utils.grading``).

A test cell's ``check.<method>(what, ...)`` call is a check of one of the kinds in ``KINDS``.
Each kind says which argument holds the expected value (removed from the copy of the test
cell that runs in the student's process), which values each side records, and how a value
is judged (``protocol.judges``: the same rule for a visible check in JupyterLab and for the
grader's oracle). Adding a kind = one ``CheckKind`` entry, its judge, a ``Checker`` method
and their tests.

The grader runs every notebook twice, each run in its own sandboxed process:

- the student's notebook in **probe** mode: each check records the student's value as plain
  data (``protocol.codec``) and judges nothing;
- the instructor's notebook in **judge** mode: each check judges as usual and records the
  expected value and tolerances.

The oracle (``grading.oracle``) then judges the student's records against the reference's.

Environment contract (the grader sets these for each sandboxed run):

==========================  ===============================================================
``COURSE_CHECK_MODE``       ``probe``, ``judge``, or unset/empty (normal: judge, record nothing)
``COURSE_STUDENT_ID``       the student whose variant numbers the run uses (``variants``)
``COURSE_READABLE``         host paths (``os.pathsep``-separated) the run may read besides
                            its own folder and the Python install (the data sets)
``COURSE_RESULT_FD``        file descriptor of the result channel (runner -> grader, JSON lines)
``NBGRADER_EXECUTION``      ``autograde`` or ``validate`` (set by nbgrader, and by the grader):
                            training cells run a short budget
==========================  ===============================================================
"""

import os
from dataclasses import dataclass, field

from . import codec, judges
from .judges import Mismatch

MODE_VARIABLE = "COURSE_CHECK_MODE"
STUDENT_VARIABLE = "COURSE_STUDENT_ID"
READABLE_VARIABLE = "COURSE_READABLE"
RESULT_FD_VARIABLE = "COURSE_RESULT_FD"
EXECUTION_VARIABLE = "NBGRADER_EXECUTION"
MODES = ("", "probe", "judge")


def check_mode():
    """'probe', 'judge' or '' (normal): how test-cell checks behave in this process."""
    return os.environ.get(MODE_VARIABLE, "")


@dataclass(frozen=True)
class CheckKind:
    """One kind of check: its ``Checker`` method, its expected argument, its records, its judge."""

    name: str  # the record's "kind"
    method: str  # the Checker method a test cell calls
    expected_argument: tuple  # (position, keyword) of the expected value in that call, or ()
    student_fields: tuple  # values the student's (probe) run records
    reference_fields: tuple  # values the reference (judge) run records
    judge: object  # judge(**student values, **reference values); raises Mismatch
    target: str = ""  # the reference field a misconception's value stands in for (``protocol.misconceptions``)


KINDS = {
    kind.name: kind
    for kind in (
        CheckKind("true", "true", (), ("got", "message"), (), judges.true),
        CheckKind("equal", "equal", (2, "expected"), ("got",), ("expected",), judges.equal, "expected"),
        CheckKind("close", "close", (2, "expected"), ("got",), ("expected", "rtol", "atol"), judges.close, "expected"),
        CheckKind("gradients", "gradients", (), ("analytic",), ("numeric", "used"), judges.gradients, "numeric"),
        CheckKind(
            "sympy",
            "sympy_equal",
            (2, "reference"),
            ("got",),
            ("expected", "symbols", "options"),
            judges.sympy,
            "expected",
        ),
        CheckKind(
            "derivation",
            "derivation_matches_code",
            (5, "reference"),
            ("derived", "got"),
            ("symbols", "points", "reference", "rtol"),
            judges.derivation,
        ),
    )
}


@dataclass
class RunState:
    """What one notebook process tells the grader besides its outputs (drained per cell)."""

    records: list = field(default_factory=list)  # check records of the current cell, each as JSON text
    count: int = 0  # records ``record`` made in the current cell (the runner compares it with the list)
    student_id_used: bool = False  # did any cell ask for the student id?


RUN = RunState()


def record(kind, question, what, where, values):
    """Append one check record (values encoded as plain data, frozen as JSON text) to ``RUN.records``."""
    import json

    data = {"kind": kind, "question": str(question), "what": str(what), "where": str(where)}
    data |= {name: codec.encode(value) for name, value in values.items()}
    RUN.records.append(json.dumps(data))
    RUN.count += 1


def counted(n, noun):
    """'1 check', '2 checks': a count with its noun in the right number."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def all_passed(n):
    """'all 6 checks passed', 'the 1 check passed'."""
    return f"{'the' if n == 1 else 'all'} {counted(n, 'check')} passed"


def failure_text(question, what, message, where=""):
    """The one-paragraph message of a failed check: question, check, why, where to look."""
    return f"[{question}] {what}: {message}" + (f"\n  where to look: {where}" if where else "")


__all__ = ["KINDS", "CheckKind", "Mismatch", "RUN", "all_passed", "check_mode", "counted", "failure_text", "record"]
