"""The grader against 40 attacks and 11 honest-but-different solutions, all in ONE run.

A scratch course gets the `guard` assignment (tests/grading/course), released by stock
`nbgrader generate_assignment`; every submission of `submissions.py` is written into
submitted/, and `python -m course_utils.grading.cli grade guard --workers 2` grades them all
in the sandbox. Then, per submission: the status, every test's score in nbgrader's own
gradebook, and the integrity CSV.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from submissions import EVERY_TEST as TESTS, HONEST, attacks

REPO = Path(__file__).resolve().parents[2]
POINTS = {"test_softmax": 2, "test_dsigma": 1, "test_mse_grad": 2, "test_classify": 1, "test_log_sigmoid": 1}


def _solutions(source_cells):
    markers = ("### BEGIN SOLUTION", "### END SOLUTION")
    return {c["metadata"]["nbgrader"]["grade_id"]: "".join(
                line for line in "".join(c["source"]).splitlines(True) if line.strip() not in markers)
            for c in source_cells if c["metadata"].get("nbgrader", {}).get("solution")}


def write_submission(root, submission, release_cells, solutions):
    cells = json.loads(json.dumps(release_cells))
    for cell in cells:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in submission.answers:
            cell["source"] = submission.answers[gid]
        elif gid in solutions and cell["cell_type"] == "code":
            cell["source"] = solutions[gid]
        if gid in submission.tags:
            cell["metadata"]["tags"] = submission.tags[gid]
    content = submission.edit(cells) if submission.edit else cells
    folder = root / "submitted" / submission.name / "guard"
    folder.mkdir(parents=True)
    if content is None:
        return
    data = content if isinstance(content, bytes) else json.dumps(
        {"cells": content, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    (folder / "guard.ipynb").write_bytes(data)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO / "tests/grading/course/source", root / "source")
    shutil.copy(REPO / "nbgrader_config.py", root)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "guard", "--force"],
                   cwd=root, env=env, check=True, capture_output=True)
    release = json.loads((root / "release/guard/guard.ipynb").read_text())["cells"]
    solutions = _solutions(json.loads((root / "source/guard/guard.ipynb").read_text())["cells"])
    everyone = attacks(root) + HONEST
    for submission in everyone:
        write_submission(root, submission, release, solutions)
    run = subprocess.run([sys.executable, "-m", "course_utils.grading.cli", "grade", "guard", "--workers", "2",
                          "--cell-timeout", "10"], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    from course_utils.grading.store import Store
    statuses = Store(f"sqlite:///{root / 'gradebook.db'}").statuses("guard")
    with open(root / "integrity-guard.csv") as f:
        integrity = list(csv.DictReader(f))
    return {"root": root, "statuses": statuses, "scores": _gradebook_scores(root), "integrity": integrity,
            "log": run.stdout, "gradebook_before": None}


def _gradebook_scores(root):
    """student -> grade_id -> auto_score, read with nbgrader's own API."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.student.id: {g.name: g.auto_score for g in s.notebooks[0].grades}
                for s in gb.find_assignment("guard").submissions}


ATTACKS = [a.name for a in attacks(Path("/course"))]


@pytest.mark.parametrize("name", ATTACKS)
def test_attack_gains_nothing_and_is_reported(graded, name):
    attack = next(a for a in attacks(graded["root"]) if a.name == name)
    status = graded["statuses"][name]
    assert status["status"] == attack.status, (status, graded["log"])
    scores = graded["scores"].get(name)
    if attack.status == "graded":
        for test in TESTS:
            expected = 0 if test in attack.zero else POINTS[test]
            assert scores[test] == expected, f"{name}: {test} scored {scores[test]}, expected {expected}; {status}"
    else:
        assert not scores or all(scores.get(t, 0) == 0 for t in attack.zero)
    findings = [row["finding"] for row in graded["integrity"] if row["student"] == name]
    assert any(attack.finding in f for f in findings), f"{name}: no finding with {attack.finding!r} in {findings}"


@pytest.mark.parametrize("name", [h.name for h in HONEST])
def test_honest_variant_keeps_full_marks_and_no_finding(graded, name):
    assert graded["statuses"][name]["status"] == "graded", graded["statuses"][name]
    assert graded["scores"][name] == {**{t: POINTS[t] for t in TESTS}, "why_max": 0}
    assert graded["statuses"][name]["flags"] == []


def test_at_least_30_attacks_and_10_honest_variants():
    assert len(ATTACKS) >= 30 and len(HONEST) >= 10


def test_integrity_csv_has_a_row_per_flagged_student(graded):
    flagged = {row["student"] for row in graded["integrity"]}
    assert flagged == set(ATTACKS)
