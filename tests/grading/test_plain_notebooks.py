"""Ordinary nbgrader notebooks (bare `assert` tests) are graded with the same protection.

The `plain` assignment (tests/grading/course/source/plain) has no `checking`: its test cells are
plain asserts. `course grade` turns each assert into a condition judged outside the student's
process (grading/predicates.py), so an IPython hook that hides a failing cell's error, or an
object that claims to equal anything, gains nothing and is reported; honest answers keep full marks.
"""

import pytest
from scratch import course, gradebook_scores, make_plain_course, submit
from submissions import Submission

POINTS = {"test_squares": 1, "test_mean": 1, "test_normalise": 2}
HIDE_ERRORS = (
    "def _hide(result):\n    result.error_in_exec = None\nget_ipython().events.register('post_run_cell', _hide)\n"
)
SUBMISSIONS = [
    Submission("reference"),
    Submission(
        "honest-map",
        "squares with map, mean with numpy, normalise with a list",
        answers={
            "squares": "def squares(n):\n    return list(map(lambda i: i * i, range(1, n + 1)))",
            "mean": "def mean(xs):\n    return float(np.mean(xs))",
        },
    ),
    Submission(
        "wrong-mean",
        "the median instead of the mean",
        ("test_mean",),
        answers={"mean": "def mean(xs):\n    return sorted(xs)[len(xs) // 2]"},
    ),
    Submission(
        "hook-hides-errors",
        "a blank answer and a post_run_cell hook that hides the test cell's error",
        ("test_squares",),
        "event callbacks",
        {"squares": "def squares(n):\n    raise NotImplementedError()\n" + HIDE_ERRORS},
    ),
    Submission(
        "equal-to-anything",
        "squares returns an object equal to every list",
        ("test_squares",),
        "not plain data",
        {
            "squares": "class _Any:\n    def __eq__(self, other):\n        return True\n"
            "def squares(n):\n    return _Any()"
        },
    ),
    Submission(
        "patched-allclose",
        "a wrong normalise and np.allclose / np.isclose that always agree",
        ("test_normalise",),
        "patched numpy.allclose",
        {
            "normalise": "def normalise(v):\n    return np.asarray(v, dtype=float)\n"
            "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True"
        },
    ),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_plain_course(tmp_path_factory.mktemp("plain"))
    submit(root, SUBMISSIONS, assignment="plain")
    run = course(root, "grade", "plain", "--workers", "2", "--cell-timeout", "20")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    from course_utils.grading.store import Store

    return Store(f"sqlite:///{root / 'gradebook.db'}").statuses("plain"), gradebook_scores(root, assignment="plain")


@pytest.mark.parametrize("submission", SUBMISSIONS, ids=lambda s: s.name)
def test_plain_asserts_are_judged_outside_the_student_process(graded, submission):
    statuses, scores = graded
    assert statuses[submission.name]["status"] == "graded", statuses[submission.name]
    expected = {test: 0 if test in submission.zero else points for test, points in POINTS.items()}
    assert {t: scores[submission.name][t] for t in POINTS} == expected, statuses[submission.name]
    flags = statuses[submission.name]["flags"]
    if submission.finding:
        assert any(submission.finding in flag for flag in flags), flags
    else:
        assert flags == [], flags
