"""One assignment's round trip on the course hub, as its people would do it through the hub.

Students log in with their Unix passwords, fetch ps1, answer it (alice: the reference answers,
bob: the partly-wrong example, carol: nothing), validate and submit from their own servers; the
instructor collects in Formgrader (the hub service), grades the class with the project grader
(the course account's one sudo rule), generates and releases feedback; each student fetches it.
"""

import json
import re
import subprocess

import nbformat
import pytest
import sympy as sp
from people import Person

from course_utils import variants
from course_utils.instructor.demo import answer_like
from course_utils.instructor.hub import LAYOUT, REPO

COURSE = LAYOUT.course
ASSIGNMENT, NOTEBOOK = "ps1", "problem_set_1"
ANSWERS = {"alice": "reference", "bob": "partly-wrong", "carol": "blank"}
pytestmark = pytest.mark.hub


def as_course_account(*argv):
    """A command run by the course account (what an instructor types in the Formgrader service's terminal)."""
    account = LAYOUT.course_account
    return subprocess.run(
        ["/usr/sbin/runuser", "-u", account, "--", *argv], cwd=LAYOUT.course_dir, capture_output=True, text=True
    )


def answer(person, example):
    """Fill the fetched notebook in the student's server as the example folder says."""
    path = f"{COURSE}/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
    released = nbformat.from_dict(person.contents(path)["content"])
    source = nbformat.read(REPO / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    person.save_notebook(path, answer_like(REPO / "examples" / ASSIGNMENT / example, released, source))
    return path


@pytest.fixture(scope="module")
def term(hub):
    """The round trip, once; the tests below check what each person got from it."""
    students = {name: Person(hub, name).log_in().start_server() for name in ANSWERS}
    validated = {}
    for name, person in students.items():
        person.nbgrader("fetch", ASSIGNMENT, COURSE)
        path = answer(person, ANSWERS[name])
        reply = person.call("POST", f"{person.server}/assignments/validate", data={"path": path})
        validated[name] = reply.json()
        person.nbgrader("submit", ASSIGNMENT, COURSE)
    ada = Person(hub, "ada").log_in()
    formgrader = f"{hub.url}/services/{COURSE}/formgrader"
    ada.http.get(formgrader).raise_for_status()  # the OAuth round trip into the course service
    collected = ada.call("POST", f"{formgrader}/api/assignment/{ASSIGNMENT}/collect").json()
    graded = as_course_account("sudo", "-n", str(LAYOUT.grade_command), ASSIGNMENT)
    feedback = [
        ada.call("POST", f"{formgrader}/api/assignment/{ASSIGNMENT}/{step}").json()
        for step in ("generate_feedback", "release_feedback")
    ]
    for person in students.values():
        person.nbgrader("fetch_feedback", ASSIGNMENT, COURSE)
    return {
        "students": students,
        "instructor": ada,
        "formgrader": formgrader,
        "validated": validated,
        "collected": collected,
        "graded": graded,
        "feedback": feedback,
    }


def expected_scores(example):
    spec = json.loads((REPO / "examples" / ASSIGNMENT / example / "expected.json").read_text())
    return spec


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


def printed_function(student):
    """What ps1's locked first cell prints for ``student`` (the grader's side of the variant)."""
    c = variants.choice("1.1", [3, 6, 9, 12], sid=student)
    x, y = sp.symbols("x y", real=True)
    return f"your function: f(x, y) = {x**2 * y + x * y**2 - c * x * y}"


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
        # alice and bob pasted the model answers (rubric included) into their written answers; carol wrote nothing
        leaks = ("BEGIN HIDDEN TESTS", "Graders only") + (("Rubric", "Model answer") if name == "carol" else ())
        for marker in leaks:
            assert marker not in html, f"{name}'s feedback leaks {marker!r}"
