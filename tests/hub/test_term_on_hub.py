"""One assignment's round trip on the course hub, as its people would do it through the hub.

Students log in with their Unix passwords, fetch ps1, answer it (alice: the reference answers,
bob: the partly-wrong example, carol: nothing), validate and submit from their own servers; the
instructor collects in Formgrader (the hub service), grades the class with the project grader
(the course account's one sudo rule), generates and releases feedback; each student fetches it.
"""

import csv
import pwd
import re

import pytest
from people import ANSWERS, ASSIGNMENT, NOTEBOOK, printed_function

from course_utils.instructor.hub import LAYOUT

COURSE = LAYOUT.course
pytestmark = pytest.mark.hub


def test_students_validate_and_submit_from_their_own_servers(term):
    """Validate runs in the student's own server; an empty verdict is nbgrader's "Success!"."""
    assert term["validated"]["alice"] == {"success": True, "value": {}}, term["validated"]["alice"]
    assert term["validated"]["bob"]["value"].get("failed"), "bob's wrong answers must fail validation"
    assert term["collected"]["success"], term["collected"]


def test_the_project_grader_grades_every_submission(term):
    graded = term["graded"]
    assert graded.returncode == 0, graded.stdout + graded.stderr
    for name in ANSWERS:
        assert re.search(rf"\b{name}: graded", graded.stdout), f"{name} missing from:\n{graded.stdout}"


def test_formgraders_autograde_button_runs_the_project_grader(term):
    regraded = term["regraded"]
    assert regraded["success"], regraded
    assert "carol: graded" in regraded["log"], regraded["log"][-2000:]


def test_each_grading_run_leaves_the_report_and_grades_csv_to_the_course_account(term):
    account = pwd.getpwnam(LAYOUT.course_account).pw_uid
    for name in (f"grades-{ASSIGNMENT}.csv", "grades.html"):
        path = LAYOUT.course_dir / name
        assert path.exists(), f"no {name} after grading"
        assert path.stat().st_uid == account, f"{name} is not the course account's"
    rows = list(csv.DictReader(open(LAYOUT.course_dir / f"grades-{ASSIGNMENT}.csv", newline="")))
    assert {r["student"] for r in rows} >= set(ANSWERS), rows[:3]
    root_owned = [str(p) for p in LAYOUT.course_dir.rglob("*") if p.lstat().st_uid == 0]
    assert not root_owned, f"files left to root by grading: {root_owned[:5]}"


def test_scores_in_formgrader_are_the_examples_expected_ones(term):
    """Formgrader's gradebook API says what the grader found: alice full auto marks, bob and carol
    lose exactly the tests their examples are expected to fail."""
    ada, formgrader = term["instructor"], term["formgrader"]
    submissions = ada.call("GET", f"{formgrader}/api/submissions/{ASSIGNMENT}").json()
    by_student = {s["student"]: s for s in submissions}
    assert set(ANSWERS) <= set(by_student), by_student.keys()
    scores = {name: (by_student[name]["code_score"], by_student[name]["max_code_score"]) for name in ANSWERS}
    assert scores["alice"][0] == scores["alice"][1] > 0, scores
    assert 0 < scores["bob"][0] < scores["bob"][1], scores
    assert scores["carol"][0] == 0, scores


def test_each_student_gets_feedback_with_their_own_numbers(term):
    for step in term["feedback"]:
        assert step["success"], step.get("error") or step
    functions = {name: printed_function(name) for name in ANSWERS}
    assert len(set(functions.values())) > 1, "the roster's students should not all share one variant"
    for name, person in term["students"].items():
        folder = f"{COURSE}/{ASSIGNMENT}/feedback"
        stamps = [item["name"] for item in person.contents(folder)["content"]]
        assert stamps, f"{name} fetched no feedback"
        html = person.contents(f"{folder}/{stamps[0]}/{NOTEBOOK}.html")["content"]
        assert functions[name] in html, f"{name}'s feedback does not show their function {functions[name]!r}"
        for marker in ("BEGIN HIDDEN TESTS", "Graders only", "Rubric", "Model answer"):
            assert marker not in html, f"{name}'s feedback leaks {marker!r}"
