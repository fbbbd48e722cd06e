"""40 students on the course hub at once: spawn, fetch, answer, submit; then collect and grade.

    sudo .venv/bin/python benchmarks/hub_load.py [--students 40] [--parallel 8]   (make bench-hub)

Each student logs in through the hub's login form (PAM), starts their JupyterLab, fetches ps1,
saves the reference answers and submits through their own server (Assignment List's calls), all
on loopback, in a bounded pool of concurrent students. Prints spawn time and submit latency
(median, p95) and the wall time of the whole class; then the instructor collects in Formgrader
and grades with the project grader, and the run fails unless every submission is collected and
graded (none lost). The accounts load-01.. stay on the machine for the next run.
"""

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "hub"))

from figures import figure  # noqa: E402 (benchmarks/figures.py)
from people import ARTIFACTS, ASSIGNMENT, Person, answer  # noqa: E402
from running_hub import running_hub  # noqa: E402

from course_utils.instructor.hub import HUB_FILES, LAYOUT, read_roster  # noqa: E402

CLASS_TARGET = 60  # seconds for the whole class to spawn, fetch and submit (issue: "within a minute")


def load_roster(students, folder):
    """hub/roster.csv's staff plus ``students`` students load-01, load-02, ..."""
    path = Path(folder) / "roster.csv"
    staff = [p for p in read_roster(HUB_FILES / "roster.csv") if p["role"] != "student"]
    names = [f"load-{i:02d}" for i in range(1, students + 1)]
    rows = staff + [dict(id=n, first_name="Load", last_name=n, email=f"{n}@example.edu", role="student") for n in names]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", "first_name", "last_name", "email", "role"])
        writer.writeheader()
        writer.writerows(rows)
    return path, names


def one_student(hub, name):
    """(seconds to a ready server, seconds of the submit call) for one student's session."""
    person = Person(hub, name).log_in()
    start = time.monotonic()
    person.start_server(seconds=300)
    spawned = time.monotonic() - start
    person.nbgrader("fetch", ASSIGNMENT, LAYOUT.course)
    answer(person, "reference")
    start = time.monotonic()
    person.nbgrader("submit", ASSIGNMENT, LAYOUT.course)
    return spawned, time.monotonic() - start


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--parallel", type=int, default=8, help="students acting at the same time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        roster, names = load_roster(args.students, folder)
        with running_hub(roster, ARTIFACTS / "jupyterhub-load.log") as hub:
            start = time.monotonic()
            with ThreadPoolExecutor(args.parallel) as pool:
                timings = list(pool.map(lambda n: one_student(hub, n), names))
            class_seconds = time.monotonic() - start
            spawn, submit = [t[0] for t in timings], [t[1] for t in timings]
            print(f"{len(names)} students, {args.parallel} at a time: all submitted in {class_seconds:.1f} s")
            figure(f"hub: {len(names)} students spawn, fetch and submit", class_seconds, "s", CLASS_TARGET, "lower")
            for label, values in (("spawn to ready", spawn), ("submit call", submit)):
                print(
                    f"  {label:15s} median {statistics.median(values):5.2f} s   p95 {percentile(values, 0.95):5.2f} s"
                    f"   max {max(values):5.2f} s"
                )
            ada = Person(hub, "ada").log_in()
            formgrader = f"{hub.url}/services/{LAYOUT.course}/formgrader"
            ada.http.get(formgrader).raise_for_status()
            collected = ada.call("POST", f"{formgrader}/api/assignment/{ASSIGNMENT}/collect").json()
            assert collected["success"], collected
            start = time.monotonic()
            graded = subprocess.run(
                ["/usr/sbin/runuser", "-u", LAYOUT.course_account, "--", "sudo", "-n", str(LAYOUT.grade_command)]
                + [ASSIGNMENT],
                capture_output=True,
                text=True,
            )
            grade_seconds = time.monotonic() - start
            submitted = {p.name for p in (LAYOUT.course_dir / "submitted").iterdir()}
            done = {n for n in names if f"{n}: graded" in graded.stdout}
            print(
                f"collected {len(submitted & set(names))}/{len(names)}; graded {len(done)}/{len(names)} "
                f"in {grade_seconds:.1f} s"
            )
            lost = sorted(set(names) - (submitted & done))
            if graded.returncode or lost:
                sys.exit(f"lost or failed: {lost}\n{graded.stdout[-2000:]}{graded.stderr[-2000:]}")


if __name__ == "__main__":
    main()
