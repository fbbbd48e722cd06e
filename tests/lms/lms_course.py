"""The course of the LMS tests: its constants, nbgrader_config.py and a gradebook graded like a term
(final, late, pending, missing, a student the LMS does not know)."""

import sys
from datetime import timedelta
from pathlib import Path

from lti_platform import INSTRUCTOR, LEARNER

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ASSIGNMENT, NOTEBOOK, COURSE = "ps1", "problem1", "dl-workbook"
CELLS = {"q1": ("code", 2.0), "q2": ("code", 3.0), "q3": ("markdown", 5.0)}  # q3: graded by hand
CLIENT_ID, DEPLOYMENT_ID, CONTEXT_ID = "tool-client-17", "deployment-1", "lms-course-4242"
STUDENTS = {  # LTI sub (= hub user name = nbgrader student id) -> what happened to their ps1
    "stu-ada": "final",
    "stu-bob": "late",
    "stu-cy": "pending",
    "stu-dee": "missing",
    "stu-zed": "not in the LMS course",
}
MEMBERS = {sub: [LEARNER] for sub in STUDENTS if sub != "stu-zed"} | {
    "ins-eve": [INSTRUCTOR],
    "men-max": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"],
}
DUE = "2026-10-16 23:59 UTC"


def config_text(root, platform=None):
    """The course's nbgrader_config.py: course id, gradebook, due date, and the LMS when given."""
    lines = [
        "c = get_config()",
        f"c.CourseDirectory.course_id = {COURSE!r}",
        f"c.CourseDirectory.db_url = 'sqlite:///{root / 'gradebook.db'}'",
        f"c.CourseGrader.due_dates = {{{ASSIGNMENT!r}: {DUE!r}}}",
    ]
    if platform is not None:
        lines += [
            f"c.CourseLMS.issuer = {platform.issuer!r}",
            f"c.CourseLMS.client_id = {CLIENT_ID!r}",
            f"c.CourseLMS.deployment_id = {DEPLOYMENT_ID!r}",
            f"c.CourseLMS.token_url = {platform.url + '/token'!r}",
            f"c.CourseLMS.lineitems_url = {platform.lineitems_url!r}",
            "c.CourseLMS.backoff = 0.05",
        ]
    return "\n".join(lines) + "\n"


def build_gradebook(root):
    """What `nbgrader generate_assignment` and `course grade` leave, then a grader's manual scores."""
    from nbgrader.api import Gradebook

    from course_utils.grading.settings import load_settings
    from course_utils.grading.store import Store, SubmissionResult
    from course_utils.instructor.late_policy import LatePolicy, parse_due_date

    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url, course_id=COURSE) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT)
        gradebook.update_or_create_notebook(NOTEBOOK, ASSIGNMENT)
        for name, (cell_type, points) in CELLS.items():
            gradebook.update_or_create_grade_cell(name, NOTEBOOK, ASSIGNMENT, max_score=points, cell_type=cell_type)
        gradebook.update_or_create_solution_cell("q3", NOTEBOOK, ASSIGNMENT)
    due = parse_due_date(DUE)
    policy = LatePolicy.from_settings(load_settings(root))
    automatic = {"stu-ada": (2.0, 3.0), "stu-bob": (2.0, 1.5), "stu-cy": (0.0, 3.0), "stu-zed": (2.0, 2.0)}
    with Store(url, COURSE, late_policy=policy, create=True) as store:
        store.import_roster(
            [{"id": s, "first_name": s[4:].title(), "last_name": "Test", "email": None} for s in STUDENTS]
        )
        store.set_due_dates({ASSIGNMENT: due})
        for student, (q1, q2) in automatic.items():
            stamp = due + (timedelta(hours=30) if STUDENTS[student] == "late" else -timedelta(hours=2))
            scores = {NOTEBOOK: {"q1": q1, "q2": q2, "q3": None}}
            store.record(
                SubmissionResult(
                    ASSIGNMENT, student, "graded", scores=scores, timestamp=f"{stamp:%Y-%m-%d %H:%M:%S} UTC"
                )
            )
    for student in ("stu-ada", "stu-bob", "stu-zed"):  # a grader scored their written answer
        set_manual(root, student, 4.0)


def set_manual(root, student, points):
    """A grader's manual score for the written answer q3 (as Formgrader stores it)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id=COURSE) as gradebook:
        grade = gradebook.find_grade("q3", NOTEBOOK, ASSIGNMENT, student)
        grade.manual_score, grade.needs_manual_grade = points, False
        gradebook.db.commit()
