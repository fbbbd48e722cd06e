"""Integrity flags: what the instructor report finds in a submission that grading would hide."""

import json

import nbformat
import pytest

from course_utils.instructor.report import StudentResult, failed_summary, flag_groups, integrity_flags, render


def released_notebook():
    answer = nbformat.v4.new_code_cell(
        "x = 1", metadata={"nbgrader": {"grade_id": "answer", "solution": True, "grade": False, "locked": False}}
    )
    test = nbformat.v4.new_code_cell(
        "assert x == 1",
        metadata={"nbgrader": {"grade_id": "test", "solution": False, "grade": True, "locked": True, "points": 1}},
    )
    return nbformat.v4.new_notebook(cells=[answer, test])


@pytest.fixture
def paths(tmp_path):
    released, submitted = tmp_path / "release.ipynb", tmp_path / "submitted.ipynb"
    nbformat.write(released_notebook(), released)
    return released, submitted


def submit(nb, path):
    path.write_text(json.dumps(nb))  # as a student's file: not validated (a duplicated cell keeps its id)
    return path.name  # relative to the course folder (tmp_path)


def flags_of(submitted, released):
    return integrity_flags(released.parent, submitted if isinstance(submitted, str) else submitted.name, released)


def test_honest_submission_has_no_flags(paths):
    released, submitted = paths
    nb = released_notebook()
    nb.cells[0].source = "x = 2 - 1"  # answers may change freely
    assert flags_of(submit(nb, submitted), released) == []


@pytest.mark.parametrize(
    "tamper, flag",
    [
        (lambda nb: nb.cells.pop(1), "cell test: deleted (restored from the release)"),
        (
            lambda nb: nb.cells.append(nbformat.from_dict(nb.cells[1])),
            "cell test: duplicated (only the first copy counts)",
        ),
        (
            lambda nb: nb.cells[1].metadata.__setitem__("tags", ["skip-execution"]),
            "cell test: tags changed to ['skip-execution']",
        ),
        (
            lambda nb: setattr(nb.cells[1], "source", "pass"),
            "test cell test: source edited (the instructor's version was run)",
        ),
        (
            lambda nb: nb.cells[0].metadata.nbgrader.__setitem__("grade_id", "other"),
            "unknown grade id 'other' (run as an ordinary cell)",
        ),
        (lambda nb: nb.cells[1].metadata.nbgrader.__setitem__("points", 100), "cell test: nbgrader metadata changed"),
    ],
)
def test_tampering_is_flagged(paths, tamper, flag):
    released, submitted = paths
    nb = released_notebook()
    tamper(nb)
    assert flag in flags_of(submit(nb, submitted), released)


def test_retyped_cell_is_flagged(paths):
    released, submitted = paths
    nb = released_notebook()
    nb.cells[1] = nbformat.v4.new_markdown_cell("assert x == 1", metadata=nb.cells[1].metadata)
    assert "cell test: type changed to 'markdown'" in flags_of(submit(nb, submitted), released)


def test_broken_and_missing_notebooks_are_flags_not_crashes(paths):
    released, submitted = paths
    assert flags_of(submitted, released) == ["submitted.ipynb: notebook missing"]
    submitted.write_text("{ not json")
    flags = flags_of(submitted, released)
    assert len(flags) == 1 and flags[0].startswith("submitted.ipynb: unreadable notebook (not valid JSON")


@pytest.mark.parametrize("make", ["symlink", "fifo", "hardlink"])
def test_links_and_fifos_are_unreadable_not_followed(paths, make):
    import os

    released, submitted = paths
    if make == "symlink":
        submitted.symlink_to(released)  # e.g. the instructor's notebook
    elif make == "fifo":
        os.mkfifo(submitted)  # would block a reader forever
    else:
        os.link(released, submitted)
    flags = flags_of(submitted, released)
    assert len(flags) == 1 and "unreadable notebook" in flags[0], flags


def test_render_marks_failed_and_flagged_students():
    results = {
        "ok": StudentResult("ok", {"t1": (1.0, 1.0), "t2": (0.0, 2.0)}),
        "broken": StudentResult("broken", {"t1": (None, 1.0)}, flags=["test cell t1: source edited"]),
    }
    page = render({"ps1": results})
    assert "1 failed to grade" in page and "1 with integrity flags" in page
    assert "FAILED: not graded" in page and "test cell t1: source edited" in page
    assert "<td>1/3</td>" in page and "<td>t2</td>" in page


def test_nothing_to_act_on_is_not_red():
    page = render({"ps1": {"ok": StudentResult("ok", {"t1": (1.0, 1.0)})}})
    assert "0 missing; 0 failed to grade; 0 with integrity flags" in page
    assert "class='bad'" not in page


def test_a_skip_tag_case_is_one_folded_line_not_a_wall_of_red():
    tags = [f"cell test_{i}: tags changed to ['skip-execution']" for i in range(15)]
    flags = [*tags, "cell test_3: nbgrader metadata changed", "unknown grade id 'x' (run as an ordinary cell)"]
    assert flag_groups(flags) == [
        ("cell: tags changed to ['skip-execution']", [f"test_{i}" for i in range(15)], tags[0]),
        ("cell: nbgrader metadata changed", ["test_3"], flags[15]),
        (flags[16], [], flags[16]),
    ]
    page = render({"ps1": {"cheat": StudentResult("cheat", {"t1": (0.0, 1.0)}, flags=flags)}})
    assert page.count("class='bad'") == 2  # '1 with integrity flags' and '17 findings'
    assert "<span class='bad'>17 findings</span>" in page
    assert "<summary>cell: tags changed to [&#x27;skip-execution&#x27;] (15 cells)</summary>" in page
    assert "<br>cell test_3: nbgrader metadata changed<br>" in page


def test_failed_summary():
    assert failed_summary(["a", "b"], 2) == "all 2"
    assert failed_summary(["a"], 2) == "a"
    assert failed_summary([], 2) == "-"


def test_render_shows_names_missing_pending_and_the_policy_formula():
    from datetime import datetime

    from course_utils.instructor.late_policy import LatePolicy

    due = datetime(2026, 10, 16, 21, 59)
    row = {"status": "graded", "first_name": "Ada", "last_name": "Lovelace", "duedate": due,
           "timestamp": datetime(2026, 10, 17, 9, 59), "pending_manual_points": 6.0, "late_submission_penalty": 0.2,
           "score": 0.8, "max_score": 7.0}  # fmt: skip
    results = {
        "ada": StudentResult("ada", {"t1": (1.0, 1.0)}, row=row),
        "kurt": StudentResult("kurt", row={"status": "missing", "first_name": "Kurt", "last_name": "Absent"}),
    }
    policy = LatePolicy()
    page = render({"ps1": results}, policy)
    assert "Lovelace, Ada" in page and "Absent, Kurt" in page and "1 missing" in page
    assert "6 points pending" in page and "(12.0 h late)" in page and "0.8/7" in page and "not final" in page
    assert policy.describe() in page and "\\lceil t/24" in page
    assert "cdnjs" not in page and "static/jupyter_server_mathjax/MathJax.js" in page


def test_a_student_before_the_due_date_is_not_yet_submitted_not_failed():
    results = {"kurt": StudentResult("kurt", row={"status": "not submitted yet", "first_name": "K", "last_name": "A"})}
    page = render({"ps5": results})
    assert "not submitted yet</td>" in page and "FAILED" not in page and "0 failed to grade" in page
