"""A term's instructor workflow on a real nbgrader course: roster, due dates, late policy, missing
students, pending manual grades, feedback HTML, exports and the report.

One small course (one notebook: an autograded test, a written answer) goes through the stock
commands (`nbgrader generate_assignment`, `autograde`, `generate_feedback`, `export`) and the
project's (`course roster import`, `course due-dates`, `course export`), with the course's own
nbgrader_config.py.
"""

import csv
import math
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from course_utils.grading.settings import load_settings
from course_utils.grading.store import RosterError, Store, read_roster
from course_utils.instructor.late_policy import CourseLatePolicy, LatePolicy, parse_due_date

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ASSIGNMENT, NOTEBOOK = "ps1", "term"
HOURS_LATE = 30  # the late student's timestamp: 30 h after the due date, i.e. 2 started days


def run(root, *command):
    """A command of the venv (nbgrader, course) in the course folder; its output on failure."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def source_notebook():
    """An answer cell, its test (2 points), and a written answer graded by hand (3 points)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}

    def meta(grade_id, **flags):
        return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, "grade": False, "solution": False,
                             "locked": False, **flags}}  # fmt: skip

    nb.cells = [
        nbformat.v4.new_markdown_cell("Maths for MathJax: $e^{i\\pi} + 1 = 0$."),
        nbformat.v4.new_code_cell(
            "### BEGIN SOLUTION\nx = 2\n### END SOLUTION", metadata=meta("answer", solution=True)
        ),
        nbformat.v4.new_code_cell("assert x == 2", metadata=meta("test_x", grade=True, locked=True, points=2)),
        nbformat.v4.new_markdown_cell(
            "=== BEGIN MARK SCHEME ===\nsay why\n=== END MARK SCHEME ===",
            metadata=meta("essay", grade=True, solution=True, points=3),
        ),
    ]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course after release, two submissions (one on time, one late) and stock autograde."""
    root = tmp_path_factory.mktemp("term")
    shutil.copy(REPO / "nbgrader_config.py", root)
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source_notebook(), root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    shutil.copy(REPO / "examples" / "roster.csv", root / "roster.csv")
    run(root, "course", "roster", "import", "roster.csv")
    run(root, "nbgrader", "generate_assignment", ASSIGNMENT, "--force")
    run(root, "course", "due-dates")
    due = parse_due_date(load_settings(root).due_dates[ASSIGNMENT])
    roster = [row["id"] for row in read_roster(root / "roster.csv")]
    on_time, late = roster[0], roster[1]
    for student, stamp in ((on_time, due - timedelta(hours=1)), (late, due + timedelta(hours=HOURS_LATE))):
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nb = nbformat.read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
        nb.cells[1].source = "x = 2"
        nb.cells[3].source = "Because $x^2 = 4$."  # answered: nbgrader leaves it to a grader
        nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")
        (folder / "timestamp.txt").write_text(f"{stamp:%Y-%m-%d %H:%M:%S.%f} UTC")
    run(root, "nbgrader", "autograde", ASSIGNMENT, "--force")
    run(root, "nbgrader", "generate_feedback", ASSIGNMENT, "--force")
    run(root, "nbgrader", "export", "--to", "nbgrader_grades.csv")
    run(root, "course", "export", "-o", "course_grades.csv")
    return {"root": root, "roster": roster, "on_time": on_time, "late": late, "due": due}


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def expected_penalty(score, seconds_late, settings):
    """The policy as README states it, from the course's settings."""
    if seconds_late <= settings.late_grace_minutes * 60:
        return 0.0
    return score * min(settings.late_penalty_max, settings.late_penalty_per_day * math.ceil(seconds_late / 86400))


def test_example_roster_matches_the_example_submissions():
    ids = {row["id"] for row in read_roster(REPO / "examples" / "roster.csv")}
    examples = {p.name for p in (REPO / "examples").glob("*/*") if p.is_dir()}
    assert examples <= ids, f"example students without a roster row: {sorted(examples - ids)}"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("id,first_name,last_name,email\n,Ada,L,a@x.org\n", "line 2: empty id"),
        ("id,first_name,last_name,email\nada,Ada,L,a@x.org\nada,A,L,b@x.org\n", "line 3: student id 'ada' already"),
        ("id,first_name,last_name,email\nada,Ada,L,not-an-address\n", "line 2: email"),
        ("id,first_name,last_name,email\nada b,Ada,L,a@x.org\n", "line 2: student id 'ada b'"),
        ("id,firstname,last_name,email\nada,Ada,L,a@x.org\n", "unknown: firstname"),
        ("id,first_name,last_name,email\nada,Ada,L,a@x.org,extra\n", "line 2: more fields"),
    ],
)
def test_bad_roster_rows_are_named_and_nothing_is_imported(tmp_path, text, problem):
    from course_utils.grading.engine import STUDENT_ID

    (tmp_path / "roster.csv").write_text(text)
    with pytest.raises(RosterError, match=problem):
        read_roster(tmp_path / "roster.csv", STUDENT_ID)


def test_due_dates_need_a_time_zone():
    assert parse_due_date("2026-10-16 23:59 Europe/Berlin") == datetime(2026, 10, 16, 21, 59)
    assert parse_due_date("2026-10-16T23:59:00+02:00") == datetime(2026, 10, 16, 21, 59)
    with pytest.raises(ValueError, match="no time zone"):
        parse_due_date("2026-10-16 23:59")
    with pytest.raises(ValueError, match="not 'YYYY-MM-DD"):
        parse_due_date("2026-10-16 23:59 Mars/Olympus")


def test_policy_shares_follow_the_settings():
    settings = load_settings(REPO)
    policy = LatePolicy.from_settings(settings)
    for hours in (0.1, 0.3, 23.9, 24.1, 30, 100, 1000):
        seconds = hours * 3600
        assert policy.penalty(10.0, seconds) == pytest.approx(expected_penalty(10.0, seconds, settings)), hours


def test_roster_names_reach_both_exports(course):
    names = {row["id"]: row for row in read_roster(course["root"] / "roster.csv")}
    for path, key in (("course_grades.csv", "student"), ("nbgrader_grades.csv", "student_id")):
        for row in read_csv(course["root"] / path):
            assert (row["first_name"], row["last_name"]) == (
                names[row[key]]["first_name"],
                names[row[key]]["last_name"],
            )


def test_stock_autograde_and_course_store_apply_the_same_penalty(course):
    """Stock autograde ran CourseLatePolicy; the store recomputes it on a copy of the gradebook."""
    root, settings = course["root"], load_settings(course["root"])
    stock = {
        row["student_id"]: row for row in read_csv(root / "nbgrader_grades.csv") if row["assignment"] == ASSIGNMENT
    }
    late = stock[course["late"]]
    expected = expected_penalty(float(late["raw_score"]), HOURS_LATE * 3600, settings)
    assert expected > 0 and float(late["late_submission_penalty"]) == pytest.approx(expected)
    assert float(stock[course["on_time"]]["late_submission_penalty"]) == 0.0

    copy = root / "gradebook-copy.db"
    shutil.copy(root / "gradebook.db", copy)
    with Store(f"sqlite:///{copy}", late_policy=LatePolicy.from_settings(settings)) as store:
        _clear_penalties(store)
        assert store.refresh_late_penalties(ASSIGNMENT) == 1
        rows = {row["student"]: row for row in store.rows([ASSIGNMENT])}
    assert rows[course["late"]]["late_submission_penalty"] == pytest.approx(expected)
    assert rows[course["late"]]["score"] == pytest.approx(float(late["score"]))


def _clear_penalties(store):
    from nbgrader.api import SubmittedNotebook

    with store._session() as session:
        for notebook in session.query(SubmittedNotebook):
            notebook.late_submission_penalty = None


def test_the_plugin_reads_the_policy_from_nbgrader_config():
    from traitlets.config import Config

    config = Config({"CourseGrader": {"late_penalty_per_day": 0.25, "late_penalty_max": 1.0, "late_grace_minutes": 0}})
    plugin = CourseLatePolicy(config=config)
    assert plugin.late_submission_penalty("s", 8.0, 3 * 86400 + 1) == pytest.approx(8.0)  # 4 started days x 25%
    assert plugin.late_submission_penalty("s", 8.0, 1) == pytest.approx(2.0)


def test_a_roster_student_without_submission_is_missing_not_zero(course):
    rows = {row["student"]: row for row in read_csv(course["root"] / "course_grades.csv")}
    absent = [s for s in course["roster"] if s not in (course["on_time"], course["late"])]
    assert absent
    for student in absent:
        assert rows[student]["status"] == "missing"
        assert rows[student]["score"] == rows[student]["raw_score"] == ""


def test_pending_manual_points_are_pending_in_the_export(course):
    rows = {row["student"]: row for row in read_csv(course["root"] / "course_grades.csv")}
    row = rows[course["on_time"]]
    assert float(row["pending_manual_points"]) == 3.0  # the written answer's points, from source_notebook()
    assert row["score_is_final"] == "no"
    assert float(rows[course["late"]]["late_submission_penalty"]) > 0


def feedback_html(course, student):
    return (course["root"] / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()


def test_feedback_says_pending_and_late_and_loads_no_cdn(course):
    page = feedback_html(course, course["late"])
    assert "points await a grader" in page and "pending: awaits a grader" in page
    assert "(Score: 2.0 / 5.0)" not in page  # the partial score is never shown as final
    assert "Score: 0.0 / 3.0" not in page and "Score: pending: awaits a grader / 3.0" in page  # the cell too
    assert "Penalty: 20% of the points scored, 0.4 points" in page
    assert LatePolicy.from_settings(load_settings(course["root"])).describe() in page
    assert "cdnjs" not in page and "static/jupyter_server_mathjax/MathJax.js" in page
    assert "mark scheme" not in page.lower()  # the rubric stays out of what a student receives
    assert "white-space: pre-wrap" in page  # a failed check's message wraps, not cut at the right edge


def test_manual_grade_makes_the_score_final(course, tmp_path):
    """After a grader scores the written answer, feedback shows the final score."""
    from nbgrader.api import Gradebook

    root = course["root"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="dl-workbook") as gradebook:
        grade = gradebook.find_grade("essay", NOTEBOOK, ASSIGNMENT, course["on_time"])
        grade.manual_score, grade.needs_manual_grade = 3.0, False
        gradebook.db.commit()
    run(root, "nbgrader", "generate_feedback", ASSIGNMENT, "--force", "--student", course["on_time"])
    page = feedback_html(course, course["on_time"])
    assert "(Score: 5.0 / 5.0)" in page and "await a grader" not in page
    run(root, "course", "export", "-o", "after_manual.csv")
    row = next(r for r in read_csv(root / "after_manual.csv") if r["student"] == course["on_time"])
    assert (row["pending_manual_points"], row["score_is_final"], row["score"]) == ("0", "yes", "5")


def test_formgrader_exporter_keeps_nbgrader_templates(course):
    """The feedback template is configured under GenerateFeedback only."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course["root"])).load_config()
    from nbgrader.server_extensions.formgrader import handlers

    config.HTMLExporter.template_name = "formgrade"  # what Formgrader sets for its own exporter
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    formgrader = HTMLExporter(config=config)
    assert formgrader.template_name == "formgrade" and "course_feedback" not in " ".join(formgrader.template_paths)
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)  # as nbgrader's converters do
    assert exporter.template_name == "course_feedback"


def test_report_names_missing_pending_and_late(course):
    from course_utils.instructor.report import write_report

    page = write_report(course["root"]).read_text()
    first = read_roster(course["root"] / "roster.csv")[0]
    assert f"{first['last_name']}, {first['first_name']}" in page
    assert "missing</td>" in page and "points pending" in page and "h late)" in page and "not final" in page
    assert "cdnjs" not in page and "jupyter_server_mathjax" in page
