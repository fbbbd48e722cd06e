"""The grader as a service: killed mid-run, rerun, manual grades, Dask, PostgreSQL, export."""

import csv
import os
import signal
import subprocess
import sys

import pytest
from scratch import ENV, course, gradebook_scores, make_course, submit
from submissions import HONEST, Submission
from submissions import POINTS as FULL

BROKEN = Submission("broken", edit=lambda cells: b'{"cells": [', status="failed")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("service"))
    submit(root, HONEST[:5] + [BROKEN])
    return root


def _children(pid):
    """The pids of a process's children (Linux)."""
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def _statuses(root, db_url=None):
    from course_utils.grading.store import Store

    return Store(db_url or f"sqlite:///{root / 'gradebook.db'}").statuses("guard")


def test_killed_run_then_rerun_grades_everyone_once(scratch):
    grader = subprocess.Popen(
        [sys.executable, "-m", "course_utils.grading.cli", "grade", "guard", "--workers", "1"],
        cwd=scratch,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    recorded = []
    for line in grader.stdout:
        if line.startswith("  ") and ": graded" in line:
            recorded.append(line.split(":")[0].strip())
            if len(recorded) == 2:
                break
    killed = [grader.pid, *_children(grader.pid)]  # the grader and its worker processes
    os.killpg(grader.pid, signal.SIGKILL)
    grader.wait()
    before = _statuses(scratch)
    assert set(recorded) <= set(before) and len(before) < 6, before
    rerun = course(scratch, "grade", "guard", "--workers", "2")
    assert f"grading {6 - len([s for s in before.values() if s['status'] == 'graded'])} submission(s)" in rerun.stdout
    assert not any(f"  {student}:" in rerun.stdout for student in recorded)  # not graded twice
    # the killed workers' private tmpfs folders were unmounted by the rerun (or by another grader's start)
    with open("/proc/self/mounts") as table:
        left = [line.split()[1] for line in table if any(f"-{pid}-" in line.split()[1] for pid in killed)]
    assert left == []
    after = _statuses(scratch)
    assert {s: row["status"] for s, row in after.items()} == {
        **{h.name: "graded" for h in HONEST[:5]},
        "broken": "failed",
    }
    scores = gradebook_scores(scratch)
    assert set(scores) == {h.name for h in HONEST[:5]}  # one submission each; the broken one has none
    assert all({k: v for k, v in s.items() if k in FULL} == FULL for s in scores.values())


def test_manual_grade_survives_regrading_and_export_names_failures(scratch):
    from nbgrader.api import Gradebook

    url = f"sqlite:///{scratch / 'gradebook.db'}"
    student = HONEST[0].name
    with Gradebook(url, course_id="dl-workbook") as gb:
        grade = gb.find_grade("why_max", "guard", "guard", student)
        grade.manual_score = 1.0
        gb.db.commit()
    course(scratch, "grade", "guard", "--force", "--students", student)
    with Gradebook(url, course_id="dl-workbook") as gb:
        assert gb.find_grade("why_max", "guard", "guard", student).manual_score == 1.0
        assert gb.find_submission("guard", student).score == sum(FULL.values()) + 1.0
    course(scratch, "export", "-o", "status.csv")
    with open(scratch / "status.csv") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows["broken"]["status"].startswith("failed: guard.ipynb unreadable")
    assert rows["broken"]["score"] == ""  # no silent 0


def test_grading_on_a_dask_cluster(scratch):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run = course(
            scratch,
            "grade",
            "guard",
            "--force",
            "--scheduler",
            cluster.scheduler_address,
            "--students",
            *[h.name for h in HONEST[:3]],
        )
    assert cluster.scheduler_address in run.stdout
    assert all(_statuses(scratch)[h.name]["status"] == "graded" for h in HONEST[:3])
    assert run.stdout.count(": graded") == 3


def test_gradebook_on_postgresql(tmp_path, postgres_url):
    root = make_course(tmp_path, db_url=postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    submit(root, HONEST[:2] + [BROKEN])
    course(root, "grade", "guard", "--db-url", postgres_url)
    statuses = _statuses(root, postgres_url)
    assert {s: r["status"] for s, r in statuses.items()} == {
        HONEST[0].name: "graded",
        HONEST[1].name: "graded",
        "broken": "failed",
    }
    assert not (root / "gradebook.db").exists() or _statuses(root) == {}
    scores = gradebook_scores(root, postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    assert all({k: v for k, v in s.items() if k in FULL} == FULL for s in scores.values())


def test_prepare_runs_the_reference_before_grading(tmp_path):
    root = make_course(tmp_path)
    submit(root, HONEST[:2])
    run = course(root, "prepare", "guard")  # students from the gradebook and submitted/
    assert "(2/2)" in run.stdout
    cached = list((root / ".grading_cache" / "guard").glob("guard-*/*.json"))
    assert [p.name for p in cached] == ["_shared.json"]  # guard has no per-student variants
    course(root, "grade", "guard")
    assert all(row["status"] == "graded" for row in _statuses(root).values())
