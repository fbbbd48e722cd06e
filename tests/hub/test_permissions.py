"""What a student's Unix account and hub login can reach, after a round trip on the hub.

Each refusal is checked as the student's own account (runuser), next to a control that the
same command works on the student's own files, so a broken check cannot pass silently.
"""

import glob
import re
import subprocess

import pytest
from people import ASSIGNMENT, NOTEBOOK

from course_utils.instructor.hub import LAYOUT, REPO

pytestmark = pytest.mark.hub


def as_student(name, *argv):
    return subprocess.run(["/usr/sbin/runuser", "-u", name, "--", *argv], capture_output=True, text=True)


def reads(name, path):
    """Whether account ``name`` can list (a folder) or read (a file) ``path``."""
    return (
        as_student(name, "sh", "-c", 'if [ -d "$1" ]; then ls "$1"; else head -c1 "$1"; fi', "-", path).returncode == 0
    )


def only_path(pattern):
    found = glob.glob(pattern)
    assert len(found) == 1, f"expected one match of {pattern}, found {found}"
    return found[0]


def test_a_student_reads_only_their_own_work(term):
    course = LAYOUT.course_dir
    own = f"/home/alice/{LAYOUT.course}/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
    assert reads("alice", own), "control: alice must read her own notebook"
    inbound = LAYOUT.exchange / LAYOUT.course / "inbound"
    others = {
        "bob's home": "/home/bob",
        "bob's fetched notebook": f"/home/bob/{LAYOUT.course}/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        "the exchange's inbound listing": str(inbound),
        "bob's collected submission": f"{course}/submitted/bob/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        "bob's graded notebook": f"{course}/autograded/bob/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        "the course's source (solutions, hidden tests)": f"{course}/source/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        "the gradebook": f"{course}/gradebook.db",
        "the course account's config": f"{LAYOUT.course_home}/nbgrader_config.py",
        "the repository's source": f"{REPO}/source/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        "the hub's passwords": f"{LAYOUT.state}/passwords.csv",
    }
    readable = [what for what, path in others.items() if reads("alice", path)]
    assert not readable, f"alice can read: {readable}"


def test_submissions_in_the_exchange_cannot_be_found(term):
    """nbgrader's design: inbound/ can be written but not listed (0733), and each submission's
    folder name ends in 72 random bits, so another student cannot name bob's submission."""
    inbound = LAYOUT.exchange / LAYOUT.course / "inbound"
    assert inbound.stat().st_mode & 0o777 == 0o733, oct(inbound.stat().st_mode)  # writable, not listable
    folder = only_path(f"{inbound}/bob+{ASSIGNMENT}+*")
    assert re.fullmatch(rf".*/bob\+{ASSIGNMENT}\+[^+]+\+[A-Za-z0-9_-]{{12}}", folder), folder
    assert not reads("alice", str(inbound)) and reads("bob", f"/home/bob/{LAYOUT.course}/{ASSIGNMENT}")


def test_a_student_cannot_reach_formgrader_or_grade(term):
    alice = term["students"]["alice"]
    formgrader = term["formgrader"]
    assert alice.http.get(f"{formgrader}/").status_code == 403
    reply = alice.call("POST", f"{formgrader}/api/submission/{ASSIGNMENT}/alice/autograde")
    assert reply.status_code in (403, 405) or "success" not in reply.text, reply.text[:300]
    staff = term["instructor"]
    assert staff.http.get(f"{formgrader}/").status_code == 200, "control: the instructor reaches Formgrader"
    refused = as_student("alice", "sudo", "-n", str(LAYOUT.grade_command), ASSIGNMENT)
    assert refused.returncode != 0 and "graded" not in refused.stdout


def test_a_student_cannot_move_the_courses_folders_in_the_exchange(term):
    """The exchange is world-writable (nbgrader wants 777); its sticky bit keeps each entry its owner's."""
    exchange = LAYOUT.exchange
    assert exchange.stat().st_mode & 0o7777 == 0o1777, oct(exchange.stat().st_mode)
    course_folder, decoy = exchange / LAYOUT.course, exchange / "alice-decoy"
    attempts = {
        "rename it": ["mv", str(course_folder), str(exchange / "moved")],
        "rename its outbound": ["mv", str(course_folder / "outbound"), str(decoy)],
    }
    done = [what for what, argv in attempts.items() if as_student("alice", *argv).returncode == 0]
    assert not done, f"alice could {done} in the exchange"
    assert (course_folder / "outbound" / ASSIGNMENT).is_dir(), "the release is gone"
    made = as_student("alice", "mkdir", str(decoy)).returncode == 0
    removed = as_student("alice", "rmdir", str(decoy)).returncode == 0
    assert made and removed, "control: alice may create and remove her own entry in the exchange"
