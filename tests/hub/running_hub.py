"""Set up and start the course hub for a test or a benchmark, from an empty course.

The course folder, the course's exchange folder, the hub's database and the students' fetched
copies are removed first (the accounts stay); the hub's log goes to a file.
"""

import contextlib
import csv
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from people import ASSIGNMENT
from servers import wait_until_answers

from course_utils.instructor.hub import HUB_FILES, LAYOUT, read_roster


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


@contextlib.contextmanager
def running_hub(roster, log):
    """A Hub of ``roster`` on free loopback ports; stopped (servers and service too) on exit."""
    people = read_roster(roster)
    reset_course(people)
    setup = [sys.executable, "-m", "course_utils.instructor.hub", "setup", str(roster), "--assignments", ASSIGNMENT]
    subprocess.run(setup, check=True)
    with open(LAYOUT.state / "passwords.csv", newline="") as handle:
        passwords = {row["id"]: row["password"] for row in csv.DictReader(handle)}
    log.parent.mkdir(parents=True, exist_ok=True)
    port = free_port_block()
    env = dict(os.environ, COURSE_HUB_PORT=str(port), COURSE_HUB_ROSTER=str(roster))
    command = [str(LAYOUT.venv / "bin" / "jupyterhub"), "-f", str(HUB_FILES / "jupyterhub_config.py")]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=LAYOUT.state, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/hub/api", process, log.read_text, seconds=90)
        yield Hub(url, passwords, people, log)
    finally:
        # the course service ignores SIGINT (the hub waits its 30 s interrupt timeout): stop it directly
        subprocess.run(["pkill", "-TERM", "-u", LAYOUT.course_account, "-f", "jupyterhub-singleuser"])
        process.terminate()  # the hub stops the users' servers on the way out
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
