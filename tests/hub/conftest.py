"""The course hub of hub/roster.csv, running on loopback (make test-hub, as root), and one
round trip of ps1 through it that the tests check."""

import os
import subprocess

import pytest
from people import ANSWERS, ARTIFACTS, ASSIGNMENT, Person, answer
from running_hub import running_hub

from course_utils.instructor.hub import HUB_FILES, LAYOUT


@pytest.fixture(scope="session")
def hub():
    if os.geteuid() != 0:
        pytest.fail("the hub tests create Unix accounts: run make test-hub as root")
    with running_hub(HUB_FILES / "roster.csv", ARTIFACTS / "jupyterhub.log") as started:
        yield started


COURSE = LAYOUT.course


def as_course_account(*argv):
    """A command run by the course account (what an instructor types in the Formgrader service's terminal)."""
    account = LAYOUT.course_account
    return subprocess.run(
        ["/usr/sbin/runuser", "-u", account, "--", *argv], cwd=LAYOUT.course_dir, capture_output=True, text=True
    )


@pytest.fixture(scope="session")
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
    regraded = ada.call("POST", f"{formgrader}/api/submission/{ASSIGNMENT}/carol/autograde").json()  # the button
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
        "regraded": regraded,
        "feedback": feedback,
    }


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium through Playwright (no browser download, no traffic off loopback)."""
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=flags)
        yield browser
        browser.close()
