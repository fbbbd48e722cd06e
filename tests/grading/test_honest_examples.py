"""Every assignment's honest example submissions are graded by `course grade` with no finding.

Per assignment (ps1..ps5), a scratch course gets its source/, release/ and examples/, the honest
examples are built into submitted/ as test_real_assignments.py builds them, and
`course grade <a> --workers 2` grades them in the sandbox. An example is honest unless it is a
planted cheat: one that adds cell tags (tags.json), that expected.json marks "flagged", or whose
name says cheat or tamper. Wrong, partial and blank answers are honest: they may lose points but
must leave no integrity finding. Each honest example must be "graded" with no finding, and
`reference` must get every test cell's points. Takes several minutes (marker grader_all).
"""

import csv
import json
import shutil

import pytest
from scratch import REPO, course, gradebook_scores

from course_utils.instructor import demo

pytestmark = pytest.mark.grader_all

ASSIGNMENTS = ["ps1", "ps2", "ps3", "ps4", "ps5"]


def is_cheat(example):
    """Whether an example folder is a planted cheat (see the module docstring)."""
    expected = json.loads((example / "expected.json").read_text())
    named = any(word in example.name for word in ("cheat", "tamper"))
    return named or (example / "tags.json").exists() or bool(expected.get("flagged"))


def points_of_tests(root, assignment):
    """grade_id -> points of every autograded test cell (a graded code cell that is not an answer)."""
    points = {}
    for notebook in sorted((root / "source" / assignment).glob("*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution"):
                points[meta["grade_id"]] = meta["points"]
    return points


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    assignment = request.param
    root = tmp_path_factory.mktemp(assignment)
    for part in ("source", "release", "examples"):
        shutil.copytree(REPO / part / assignment, root / part / assignment)
    shutil.copy(REPO / "nbgrader_config.py", root)
    demo.release(root, assignment)  # puts the assignment into this course's gradebook
    honest = [e for e in demo.example_students(root, assignment) if not is_cheat(e)]
    for example in honest:
        demo.build_submission(root, assignment, example)
    run = course(root, "grade", assignment, "--workers", "2", timeout=1800)
    from course_utils.grading.store import Store

    with open(root / f"integrity-{assignment}.csv") as f:
        findings = list(csv.DictReader(f))
    return {
        "honest": [e.name for e in honest],
        "statuses": Store(f"sqlite:///{root / 'gradebook.db'}").statuses(assignment),
        "findings": findings,
        "scores": gradebook_scores(root, assignment=assignment),
        "points": points_of_tests(root, assignment),
        "log": run.stdout,
    }


def test_every_honest_example_is_graded(graded):
    assert "reference" in graded["honest"]
    statuses = {name: graded["statuses"].get(name, {}).get("status") for name in graded["honest"]}
    assert statuses == dict.fromkeys(graded["honest"], "graded"), graded["log"]


def test_honest_examples_leave_no_integrity_finding(graded):
    assert graded["findings"] == [], graded["log"]
    flags = {name: graded["statuses"][name]["flags"] for name in graded["honest"]}
    assert not any(flags.values()), flags


def test_reference_gets_full_automatic_marks(graded):
    scores = graded["scores"]["reference"]
    assert {gid: scores.get(gid) for gid in graded["points"]} == graded["points"], graded["log"]
