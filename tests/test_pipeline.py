"""The grading round trip, end to end with stock nbgrader, in a scratch copy of the course.

One `make demo`-equivalent run per session (module fixture), run twice to prove it is
rerunnable; then the release, scores, feedback and export are checked against the
bundled examples' expectations (examples/<assignment>/<student>/expected.json).
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.demo import scores_by_cell
from course_utils.report import collect

REPO = Path(__file__).resolve().parent.parent
# COURSE_ASSIGNMENTS="ps1 ps2" restricts the round trip to some assignments while authoring.
ASSIGNMENTS = os.environ.get("COURSE_ASSIGNMENTS", "").split() or \
    sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir())
pytestmark = pytest.mark.pipeline


def run_demo(course, assignments):
    result = subprocess.run([sys.executable, "-m", "course_utils.demo", "all", *assignments],
                            cwd=course, capture_output=True, text=True)
    assert result.returncode == 0, f"demo failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def table_of(output, assignment):
    """The score table the demo printed for one assignment."""
    section = output[output.index(f"== {assignment}:"):]
    return section[:section.index("\n\n")] if "\n\n" in section else section


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def assignment(request):
    return request.param


@pytest.fixture(scope="module")
def course(tmp_path_factory, assignment):
    """One graded scratch course per assignment (so assignments can run on different workers)."""
    root = tmp_path_factory.mktemp(f"course-{assignment}")
    for name in ("source", "examples"):
        shutil.copytree(REPO / name / assignment, root / name / assignment)
    shutil.copy(REPO / "nbgrader_config.py", root)
    return {"root": root, "output": run_demo(root, [assignment])}


@pytest.mark.parametrize("assignment", ASSIGNMENTS[:1], indirect=True)
def test_demo_is_rerunnable(course, assignment):
    """A second run (of the first assignment only, to save time) regrades to the same table."""
    again = run_demo(course["root"], [assignment])
    assert table_of(again, assignment) == table_of(course["output"], assignment)


def test_committed_release_is_what_nbgrader_generates(course, assignment):
    generated = sorted((course["root"] / "release" / assignment).rglob("*"))
    committed = sorted((REPO / "release" / assignment).rglob("*"))
    assert [p.relative_to(course["root"]) for p in generated] == [p.relative_to(REPO) for p in committed], \
        "release/ differs from nbgrader's output: run `make release` and commit it"
    for new, old in zip(generated, committed):
        if new.suffix == ".ipynb":
            assert nbformat.read(new, 4) == nbformat.read(old, 4), f"{old} is stale: run `make release`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_hides_solutions_and_hidden_tests(assignment):
    for path in (REPO / "release" / assignment).glob("*.ipynb"):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "Rubric", "Model answer"):
            assert marker not in text, f"{path} leaks {marker!r}"
    assert not list((REPO / "release").rglob("gradebook.db*"))


def expected(assignment, student):
    return json.loads((REPO / "examples" / assignment / student / "expected.json").read_text())


def expected_failures(assignment, student, test_ids):
    spec = expected(assignment, student)
    return set(test_ids) if spec["fail"] == "all" else set(spec["fail"])


def test_example_scores_are_exactly_the_expected_ones(course, assignment):
    scores = scores_by_cell(course["root"], assignment)
    students = sorted(p.name for p in (REPO / "examples" / assignment).iterdir() if p.is_dir())
    assert sorted(scores) == students
    for student, cells in scores.items():
        assert all(score is not None for score, _ in cells.values()), f"{student}: ungraded cells"
        failed = {gid for gid, (score, points) in cells.items() if score < points}
        assert failed == expected_failures(assignment, student, cells), student
        assert all(score in (0, points) for score, points in cells.values())


def test_every_failure_says_where_to_look(course, assignment):
    """Each failed test cell of an example ends in a CheckFailed message with 'where to look'."""
    for example in (REPO / "examples" / assignment).iterdir():
        for path in (course["root"] / "autograded" / example.name / assignment).glob("*.ipynb"):
            for cell in nbformat.read(path, 4).cells:
                errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
                if cell.metadata.get("nbgrader", {}).get("grade") and errors:
                    assert errors[0].ename == "CheckFailed" and "where to look" in errors[0].evalue, \
                        f"{example.name}/{path.name}:{cell.metadata.nbgrader.grade_id}: {errors[0].evalue[:300]}"


def test_feedback_shows_messages_but_no_hidden_tests(course, assignment):
    for student in ("partly-wrong", "blank"):
        for html in (course["root"] / "feedback" / student / assignment).glob("*.html"):
            text = html.read_text()
            assert "CheckFailed" in text and "where to look" in text
            assert "BEGIN HIDDEN TESTS" not in text


def test_grades_csv_has_every_student(course, assignment):
    with open(course["root"] / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    students = {p.name for p in (REPO / "examples" / assignment).iterdir() if p.is_dir()}
    assert {r["student_id"] for r in rows if r["assignment"] == assignment} == students


HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_announced_hidden_counts_match_the_hidden_checks(assignment):
    """`checking(..., hidden=N)` must tell students how many check statements are hidden."""
    for path in (REPO / "source" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, 4).cells:
            if not cell.metadata.get("nbgrader", {}).get("grade") or cell.cell_type != "code":
                continue
            announced = re.search(r"checking\(.*hidden=(\d+)\)", cell.source)
            block = HIDDEN_BLOCK.search(cell.source)
            written = len(re.findall(r"^\s*check\.\w+\(", block.group(1), re.M)) if block else 0
            assert (int(announced.group(1)) if announced else 0) == written, \
                f"{path.name}:{cell.metadata.nbgrader.grade_id} announces a different hidden count"


def test_reference_solution_runs_clean_when_graded(course, assignment):
    """No error and nothing on stderr in any cell (widgets, progress bars, plots included)."""
    for path in (course["root"] / "autograded" / "reference" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, 4).cells:
            for output in cell.get("outputs", []):
                assert output.output_type != "error", f"{path.name}: {output.get('evalue')}"
                assert output.get("name") != "stderr", f"{path.name}: stderr {output.get('text')[:300]}"


def test_instructor_report_lists_every_submission(course, assignment):
    page = (course["root"] / "grades.html").read_text()
    assert "data:image/png;base64," in page and f"<h2>{assignment}</h2>" in page
    for example in (REPO / "examples" / assignment).iterdir():
        assert f"<td>{example.name}</td>" in page
    assert "0 failed to grade" in page


def test_integrity_flags_exactly_for_the_tampered_examples(course, assignment):
    """Honest submissions carry no flag; examples marked "flagged" in expected.json do."""
    for student, result in collect(course["root"], assignment).items():
        assert bool(result.flags) == expected(assignment, student).get("flagged", False), \
            f"{student}: {result.flags}"
