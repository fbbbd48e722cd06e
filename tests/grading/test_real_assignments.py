"""The project grader on every assignment's example submissions, in the sandbox.

Per assignment (ps1..ps5) a scratch course gets its source/, release/ and examples/, every
example is built into submitted/ and `course grade <a> --workers 2` grades them all. Then:

- each example fails exactly the tests its expected.json lists, as under stock nbgrader in
  test_pipeline.py (the out-of-process oracle agrees with nbgrader's verdicts);
- every honest example is "graded" and leaves no integrity finding at all: honest work is never
  accused. An example is honest unless it is a planted cheat (tags.json, or "flagged" in its
  expected.json); wrong, partial and blank answers are honest;
- every planted cheat is reported, and `reference` gets every test's points.
"""

import csv
import json
import shutil

import pytest
from scratch import REPO, course, gradebook_scores

from course_utils.instructor import demo

# ps1 in `make test` (the CI budget); all five in `make test-full`
ASSIGNMENTS = ["ps1", *(pytest.param(a, marks=pytest.mark.full) for a in ("ps2", "ps3", "ps4", "ps5"))]


def points_of_tests(root, assignment):
    """grade_id -> points of every autograded test cell of the assignment's source notebooks."""
    from course_utils.grading.assemble import read_notebook, reference_plan

    points = {}
    for notebook in sorted((root / "source" / assignment).glob("*.ipynb")):
        points |= reference_plan(read_notebook(notebook)).tests
    return points


def is_cheat(example):
    expected = json.loads((example / "expected.json").read_text())
    return (example / "tags.json").exists() or bool(expected.get("flagged"))


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    assignment = request.param
    root = tmp_path_factory.mktemp(assignment)
    for part in ("source", "release", "examples"):
        shutil.copytree(REPO / part / assignment, root / part / assignment)
    shutil.copy(REPO / "nbgrader_config.py", root)
    demo.release(root, assignment)  # puts the assignment into this course's gradebook
    examples = demo.example_students(root, assignment)
    for example in examples:
        demo.build_submission(root, assignment, example)
    run = course(root, "grade", assignment, "--workers", "2", timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    from course_utils.grading.store import Store

    with open(root / f"integrity-{assignment}.csv") as f:
        findings = {}
        for row in csv.DictReader(f):
            findings.setdefault(row["student"], []).append(row["finding"])
    return {
        "examples": examples,
        "statuses": Store(f"sqlite:///{root / 'gradebook.db'}").statuses(assignment),
        "findings": findings,
        "scores": gradebook_scores(root, assignment=assignment),
        "points": points_of_tests(root, assignment),
        "log": run.stdout,
    }


def test_each_example_fails_exactly_its_expected_tests(graded):
    for example in graded["examples"]:
        expected = json.loads((example / "expected.json").read_text())["fail"]
        tests = {gid: s for gid, s in graded["scores"][example.name].items() if gid.startswith("test_")}
        failed = sorted(gid for gid, s in tests.items() if not s)
        assert failed == sorted(tests if expected == "all" else expected), (example.name, graded["log"])


def test_honest_examples_are_graded_and_never_accused(graded):
    honest = [e.name for e in graded["examples"] if not is_cheat(e)]
    assert "reference" in honest
    assert {name: graded["statuses"][name]["status"] for name in honest} == dict.fromkeys(honest, "graded")
    assert {name: graded["findings"].get(name, []) for name in honest} == dict.fromkeys(honest, [])


def test_planted_cheats_are_reported(graded):
    cheats = [e.name for e in graded["examples"] if is_cheat(e)]
    assert all(graded["findings"].get(name) for name in cheats), graded["findings"]


def test_reference_gets_full_automatic_marks(graded):
    reference = graded["scores"]["reference"]
    assert {gid: reference[gid] for gid in graded["points"]} == graded["points"], graded["log"]
