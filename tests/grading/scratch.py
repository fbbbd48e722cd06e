"""A scratch course with the `guard` assignment, its submissions, and the grader's command line."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def make_course(root, db_url=None):
    """Copy the guard assignment into ``root`` and release it with stock nbgrader."""
    shutil.copytree(REPO / "tests/grading/course/source", root / "source")
    shutil.copy(REPO / "nbgrader_config.py", root)
    db = [f"--db={db_url}"] if db_url else []
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "guard", "--force", *db],
        cwd=root,
        env=ENV,
        check=True,
        capture_output=True,
    )
    return root


def solutions_of(source_cells):
    from course_utils.grading.assemble import without_markers

    return {
        c["metadata"]["nbgrader"]["grade_id"]: without_markers(c["source"])
        for c in source_cells
        if c["metadata"].get("nbgrader", {}).get("solution")
    }


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
    data = (
        content
        if isinstance(content, bytes)
        else json.dumps({"cells": content, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    )
    (folder / "guard.ipynb").write_bytes(data)


def submit(root, submissions):
    release = json.loads((root / "release/guard/guard.ipynb").read_text())["cells"]
    solutions = solutions_of(json.loads((root / "source/guard/guard.ipynb").read_text())["cells"])
    for submission in submissions:
        write_submission(root, submission, release, solutions)


def course(root, *args, timeout=900):
    """Run `python -m course_utils.grading.cli *args` in the course folder."""
    run = subprocess.run(
        [sys.executable, "-m", "course_utils.grading.cli", *args],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def gradebook_scores(root, db_url=None, assignment="guard"):
    """student -> grade_id -> auto_score (all notebooks), read with nbgrader's own API."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url or f"sqlite:///{root / 'gradebook.db'}", course_id="dl-workbook") as gb:
        return {
            s.student.id: {g.name: g.auto_score for nb in s.notebooks for g in nb.grades}
            for s in gb.find_assignment(assignment).submissions
        }
