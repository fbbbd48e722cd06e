"""A running course hub (make test-hub, as root): set up from hub/roster.csv, started on loopback.

Each run starts from an empty course: the course folder, the course's exchange folder, the
hub's database and the students' fetched copies are removed first (the accounts stay).
"""

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import requests
from people import ANSWERS, ARTIFACTS, ASSIGNMENT, NOTEBOOK, Person

from course_utils.instructor.demo import answer_like
from course_utils.instructor.hub import HUB_FILES, LAYOUT, REPO, read_roster


def free_port_block(size=4):
    """A port p such that p .. p+size-1 are free on 127.0.0.1 (the hub uses four)."""
    for base in range(18000, 30000, 10):
        sockets = []
        try:
            for port in range(base, base + size):
                probe = socket.socket()
                sockets.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
    raise OSError("no block of free ports")


def reset_course(people):
    """Remove last run's course, exchange folder, hub database and students' fetched copies."""
    shutil.rmtree(LAYOUT.course_dir, ignore_errors=True)
    shutil.rmtree(LAYOUT.exchange / LAYOUT.course, ignore_errors=True)
    for name in ("jupyterhub.sqlite",):
        (LAYOUT.state / name).unlink(missing_ok=True)
    for person in people:
        shutil.rmtree(Path("/home") / person["id"] / LAYOUT.course, ignore_errors=True)


@dataclass
class Hub:
    url: str
    passwords: dict
    people: list
    log: Path

    def ids(self, role):
        return [p["id"] for p in self.people if p["role"] == role]


def wait_until_up(url, process, log, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the hub exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/hub/api", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the hub did not answer in {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def hub():
    if os.geteuid() != 0:
        pytest.fail("the hub tests create Unix accounts: run make test-hub as root")
    roster = HUB_FILES / "roster.csv"
    people = read_roster(roster)
    reset_course(people)
    subprocess.run([sys.executable, "-m", "course_utils.instructor.hub", "setup", str(roster)], check=True)
    with open(LAYOUT.state / "passwords.csv", newline="") as handle:
        passwords = {row["id"]: row["password"] for row in csv.DictReader(handle)}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "jupyterhub.log"
    port = free_port_block()
    env = dict(os.environ, COURSE_HUB_PORT=str(port), COURSE_HUB_ROSTER=str(roster))
    command = [str(LAYOUT.venv / "bin" / "jupyterhub"), "-f", str(HUB_FILES / "jupyterhub_config.py")]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=LAYOUT.state, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        yield Hub(url, passwords, people, log)
    finally:
        # the course service ignores SIGINT (the hub's first, 10 s, request): stop it directly
        subprocess.run(["pkill", "-TERM", "-u", LAYOUT.course_account, "-f", "jupyterhub-singleuser"])
        process.terminate()  # the hub stops the users' servers on the way out
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


COURSE = LAYOUT.course


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


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium through Playwright (no browser download, no traffic off loopback)."""
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=flags)
        yield browser
        browser.close()
