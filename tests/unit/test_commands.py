"""The demo's stock nbgrader commands: one per group of students, all at once, one log."""

import subprocess

import pytest

from course_utils.instructor import demo
from course_utils.instructor.commands import _named_in_errors, nbgrader_in_groups


def test_each_group_excludes_every_other_student_and_failed_groups_are_named(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    (tmp_path / "submitted" / "someone-else").mkdir(parents=True)  # a real student: in no group's command
    log = tmp_path / "demo.log"
    with pytest.raises(subprocess.CalledProcessError) as raised:  # no such assignment: every command fails
        nbgrader_in_groups(tmp_path, ("autograde", "nope", "--force"), ["ann", "bob", "cy"], log, 2)
    assert raised.value.cmd[-1] == "--student=ann,cy,bob"  # the errors name no student: whole groups
    commands = [line for line in log.read_text().splitlines() if line.startswith("$ nbgrader")]
    exclude = "$ nbgrader autograde nope --force --CourseDirectory.student_id_exclude="
    assert commands == [exclude + "bob,someone-else", exclude + "ann,cy,someone-else"]
    assert "nbgrader autograde nope:" in capsys.readouterr().out  # the one line of the step


def test_a_failed_groups_errors_name_its_failed_students():
    log = (
        "[AutogradeApp | INFO] Autograding /c/autograded/ann/ps1/a.ipynb\n"
        "[AutogradeApp | ERROR] There was an error processing assignment: /c/submitted/cy/ps1\n"
        "[AutogradeApp | ERROR] There was an error processing assignment 'ps1' for student 'dee'\n"
    )
    assert _named_in_errors(log, ["ann", "cy", "dee"]) == ["cy", "dee"]
    assert _named_in_errors(log, ["ann"]) == []


@pytest.mark.parametrize("value, jobs", [("", None), ("1", 1), (" 3 ", 3)])
def test_jobs_come_from_the_environment_or_the_cpu_count(monkeypatch, value, jobs):
    monkeypatch.setenv("COURSE_DEMO_JOBS", value)
    assert demo.jobs() == (jobs or demo.os.cpu_count())


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_jobs_value_is_a_clear_message(monkeypatch, value):
    monkeypatch.setenv("COURSE_DEMO_JOBS", value)
    with pytest.raises(SystemExit, match="COURSE_DEMO_JOBS"):
        demo.jobs()
