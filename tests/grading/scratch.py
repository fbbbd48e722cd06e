"""Scratch courses (the `guard` and `plain` assignments), their submissions, and the grader's command line."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def make_course(root, db_url=None, assignment="guard"):
    """Copy one assignment of tests/grading/course into ``root`` and release it with stock nbgrader."""
    shutil.copytree(REPO / "tests/grading/course/source" / assignment, root / "source" / assignment)
    shutil.copy(REPO / "nbgrader_config.py", root)
    db = [f"--db={db_url}"] if db_url else []
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force", *db],
        cwd=root,
        env=ENV,
        check=True,
        capture_output=True,
    )
    return root


def make_plain_course(root, db_url=None):
    """A scratch course with the `plain` assignment: nbgrader's usual tests, bare `assert`s."""
    return make_course(root, db_url, "plain")


def solutions_of(source_cells):
    from course_utils.grading.assemble import without_markers

    return {
        c["metadata"]["nbgrader"]["grade_id"]: without_markers(c["source"])
        for c in source_cells
        if c["metadata"].get("nbgrader", {}).get("solution")
    }


@dataclass(frozen=True)
class Special:
    """What a submission's ``edit`` returns to submit a special file instead of a notebook.

    ``kind`` is "symlink" (the notebook is a symbolic link to ``target``), "fifo" (a named pipe),
    "hardlink" (a hard link to ``target``) or "symlinked-folder" (the submission folder itself is
    a symbolic link to ``target``). In ``target``, "{root}" stands for the course root.
    """

    kind: str
    target: str | None = None

    def __post_init__(self):
        assert self.kind in ("symlink", "fifo", "hardlink", "symlinked-folder"), self.kind
        assert (self.target is None) == (self.kind == "fifo"), "a target for every kind but fifo"

    def create(self, folder, notebook, root):
        """Create it at ``folder``/``notebook`` without opening anything (mkfifo never blocks)."""
        target = self.target and self.target.replace("{root}", str(root))
        if self.kind == "symlinked-folder":
            folder.parent.mkdir(parents=True)
            folder.symlink_to(target, target_is_directory=True)
            return
        folder.mkdir(parents=True)
        if self.kind == "symlink":
            (folder / notebook).symlink_to(target)
        elif self.kind == "hardlink":
            (folder / notebook).hardlink_to(target)
        else:
            os.mkfifo(folder / notebook)


def write_submission(root, submission, release_cells, solutions, assignment="guard"):
    """Write submitted/<name>/<assignment>/<assignment>.ipynb: the release with the submission's changes.

    Answer cells the submission does not answer get the reference solution. ``edit`` then gets
    the cells and returns cells, the file's bytes, a ``Special`` file, or None (no file).
    """
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
    folder = root / "submitted" / submission.name / assignment
    if isinstance(content, Special):
        content.create(folder, f"{assignment}.ipynb", root)
        return
    folder.mkdir(parents=True)
    if content is None:
        return
    data = (
        content
        if isinstance(content, bytes)
        else json.dumps({"cells": content, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    )
    (folder / f"{assignment}.ipynb").write_bytes(data)


def submit(root, submissions, assignment="guard"):
    """Write every submission of one assignment (submissions.Submission) into root/submitted/."""
    release = json.loads((root / f"release/{assignment}/{assignment}.ipynb").read_text())["cells"]
    solutions = solutions_of(json.loads((root / f"source/{assignment}/{assignment}.ipynb").read_text())["cells"])
    for submission in submissions:
        write_submission(root, submission, release, solutions, assignment)


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
