"""The demo's stock nbgrader commands: one per student, several at a time, one log in student order."""

import subprocess

import pytest

from course_utils.instructor import demo
from course_utils.instructor.commands import nbgrader_per_student


def test_failed_students_are_all_named_and_the_log_keeps_student_order(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    log = tmp_path / "demo.log"
    with pytest.raises(subprocess.CalledProcessError) as raised:  # no such assignment: every command fails
        nbgrader_per_student(tmp_path, ("autograde", "nope", "--force"), ["ann", "bob", "cy"], log, 2)
    assert raised.value.cmd[-1] == "--student=ann,bob,cy"
    commands = [line for line in log.read_text().splitlines() if line.startswith("$ nbgrader")]
    assert commands == [f"$ nbgrader autograde nope --force --student={s}" for s in ("ann", "bob", "cy")]
    assert "nbgrader autograde nope:" in capsys.readouterr().out  # the one line of the step


@pytest.mark.parametrize("value, jobs", [("", None), ("1", 1), (" 3 ", 3)])
def test_jobs_come_from_the_environment_or_the_cpu_count(monkeypatch, value, jobs):
    monkeypatch.setenv("COURSE_DEMO_JOBS", value)
    assert demo.jobs() == (jobs or demo.os.cpu_count())


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_jobs_value_is_a_clear_message(monkeypatch, value):
    monkeypatch.setenv("COURSE_DEMO_JOBS", value)
    with pytest.raises(SystemExit, match="COURSE_DEMO_JOBS"):
        demo.jobs()
