"""The grading round trip with stock nbgrader commands, on the bundled example submissions.

    python -m course_utils.instructor.demo release ps1     # nbgrader generate_assignment -> release/
    python -m course_utils.instructor.demo all ps1         # release, submit examples, autograde,
                                                # feedback, export grades.csv, score table

Run from anywhere; it works in the course root (the folder with nbgrader_config.py).
Every step overwrites its own output, so the demo can be rerun. Autograde and feedback split the
students into ``COURSE_DEMO_JOBS`` groups (default: one per CPU), one nbgrader command each, all at once.

Example submissions live in ``examples/<assignment>/<student>/``:

- ``from.txt``: ``source`` (the release with the reference solution in every answer cell) or
  ``release`` (a blank copy);
- ``<grade_id>.py`` files: replacement sources for those answer cells (e.g. plausible mistakes);
- ``tags.json`` (optional): ``{grade_id: [tag, ...]}`` cell tags a student added;
- ``expected.json``: the test cells that must fail, ``{"fail": [grade_id, ...]}``.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from ..grading.assemble import without_markers
from .commands import course_root, nbgrader, nbgrader_in_groups
from .report import failed_summary, gradebook_results, write_report


def demo_log(root):
    """The file that gets the nbgrader commands' whole output (one line per step is printed)."""
    return Path(root) / "demo.log"


def release(root, assignment, scratch_gradebook=False):
    """nbgrader generate_assignment; with scratch_gradebook, the course gradebook is not touched.

    The release depends on source/ only; a scratch gradebook lets `make release` regenerate it
    even after the course gradebook holds submissions (nbgrader then refuses changed cells).
    """
    if not scratch_gradebook:
        try:
            return nbgrader(root, "generate_assignment", assignment, "--force", log=demo_log(root))
        except subprocess.CalledProcessError:
            sys.exit(
                f"generate_assignment failed (see above and {demo_log(root)}). If it says cells cannot be "
                f"added or removed "
                f"because of submissions, source/{assignment} changed after grading: grade with the old "
                f"release, or discard the demo's grades with `make clean` and rerun."
            )
    with tempfile.TemporaryDirectory() as scratch:
        nbgrader(
            root,
            "generate_assignment",
            assignment,
            "--force",
            f"--db=sqlite:///{scratch}/gradebook.db",
            log=demo_log(root),
        )


def example_students(root, assignment):
    """Folders of the bundled example submissions of one assignment."""
    return sorted(p for p in (root / "examples" / assignment).iterdir() if p.is_dir())


def _answer_cells(nb):
    """grade_id -> source of each answer cell, with nbgrader's solution markers removed; a written
    (markdown) answer is the model answer as a student would write it: no label, no rubric."""
    return {
        cell.metadata.nbgrader.grade_id: _as_student_wrote(cell)
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def _as_student_wrote(cell):
    text = without_markers(cell.source).rstrip("\n")
    if cell.cell_type != "markdown":
        return text
    paragraphs = [part.lstrip() for part in text.split("\n\n") if not part.lstrip().startswith("Rubric")]
    return "\n\n".join(re.sub(r"^Model answer[^:]*:\s*", "", part) for part in paragraphs)


def answer_like(example, released, source):
    """The released notebook ``released`` answered as the example folder ``example`` says.

    ``source`` examples fill every answer cell with the reference solution (read from the
    ``source`` notebook), then the example's replacements (<grade_id>.py) and tags apply.
    """
    origin = (example / "from.txt").read_text().strip()
    if origin not in ("source", "release"):
        raise ValueError(f"{example / 'from.txt'} must say 'source' or 'release', not {origin!r}")
    replacements = {p.stem: p.read_text().rstrip("\n") for p in example.glob("*.py")}
    tags = json.loads((example / "tags.json").read_text()) if (example / "tags.json").exists() else {}
    answers = _answer_cells(source) if origin == "source" else {}
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replacements:
            cell.source = replacements[grade_id]
        elif grade_id in answers:
            cell.source = answers[grade_id]
        if grade_id in tags:
            cell.metadata["tags"] = tags[grade_id]
    return released


def build_submission(root, assignment, example):
    """Write submitted/<student>/<assignment>/ from one example folder, like a student would:
    each released notebook answered by `answer_like`."""
    target = root / "submitted" / example.name / assignment
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    unused = {p.stem for p in example.glob("*.py")}
    for released in sorted((root / "release" / assignment).glob("*.ipynb")):
        nb = nbformat.read(released, as_version=4)
        unused -= {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
        source = nbformat.read(root / "source" / assignment / released.name, 4)
        nbformat.write(answer_like(example, nb, source), target / released.name)
    if unused:
        raise ValueError(f"{example}: no answer cells named {sorted(unused)}")
    return target


def submit_examples(root, assignment):
    for example in example_students(root, assignment):
        print(f"submitted/{example.name}/{assignment}: from {(example / 'from.txt').read_text().strip()}")
        build_submission(root, assignment, example)


def jobs():
    """How many nbgrader commands run at once: COURSE_DEMO_JOBS (a whole number >= 1), else one per CPU."""
    value = os.environ.get("COURSE_DEMO_JOBS", "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"COURSE_DEMO_JOBS={value!r}: give how many nbgrader commands may run at once (1, 2, ...)")
    return int(value)


def for_each_student(root, assignment, *args):
    """One nbgrader command for the assignment, or with several jobs() one per group of its students
    (stock nbgrader grades one notebook at a time)."""
    at_once = jobs()
    if at_once == 1:
        return nbgrader(root, *args, log=demo_log(root))
    students = [example.name for example in example_students(root, assignment)]
    nbgrader_in_groups(root, args, students, demo_log(root), at_once)


def autograde(root, assignment):
    for_each_student(root, assignment, "autograde", assignment, "--force", "--create")


def feedback(root, assignment):
    for_each_student(root, assignment, "generate_feedback", assignment, "--force")


def export(root):
    nbgrader(root, "export", "--to", str(root / "grades.csv"), log=demo_log(root))


def scores_by_cell(root, assignment):
    """{student: {grade_id: (auto_score, max_score)}} for the auto-graded cells, from the gradebook."""
    return {student: result.scores for student, result in sorted(gradebook_results(root, assignment).items())}


def score_table(root, assignment):
    """The per-student table printed at the end, from grades.csv and the gradebook."""
    with open(root / "grades.csv", newline="") as fh:
        totals = {row["student_id"]: row for row in csv.DictReader(fh) if row["assignment"] == assignment}
    scores = scores_by_cell(root, assignment)
    width = max([len("student")] + [len(student) for student in scores])
    lines = [f"{'student':<{width}} {'auto score':>11} {'total (csv)':>12}  failed tests"]
    for student, cells in scores.items():
        row = totals.get(student, {})
        total = f"{float(row['score']):.1f}/{float(row['max_score']):.1f}" if row else "n/a"
        if any(score is None for score, _ in cells.values()):
            lines.append(f"{student:<{width}} {'NOT GRADED':>11} {total:>12}  (autograde did not score it)")
            continue
        got = sum(score for score, _ in cells.values())
        out_of = sum(points for _, points in cells.values())
        failed = [gid for gid, (score, points) in cells.items() if score < points]
        lines.append(
            f"{student:<{width}} {f'{got:.1f}/{out_of:.1f}':>11} {total:>12}  {failed_summary(failed, len(cells))}"
        )
    return "\n".join(lines)


def term(root):
    """The class list (examples/roster.csv) and the due dates of nbgrader_config.py in the gradebook,
    as `course roster import` and `course due-dates` write them."""
    from ..grading.cli import _store, sync_due_dates
    from ..grading.engine import STUDENT_ID
    from ..grading.settings import load_settings
    from ..grading.store import read_roster

    settings = load_settings(root)
    store = _store(settings, create=True)
    store.import_roster(read_roster(root / "examples" / "roster.csv", STUDENT_ID))
    sync_due_dates(store, settings, quiet=True)
    store.close()


def run_all(root, assignments):
    demo_log(root).write_text("")  # this run's log only
    for assignment in assignments:
        release(root, assignment)
        term(root)  # roster and due dates: names in exports and the report, late penalties
        submit_examples(root, assignment)
        autograde(root, assignment)
        feedback(root, assignment)
    export(root)
    for assignment in assignments:
        print(f"\n== {assignment}: automatic points (manual questions are pending) ==")
        print(score_table(root, assignment))
    print(
        f"\nfeedback HTML: {root / 'feedback'}/<student>/<assignment>/\ngrades: {root / 'grades.csv'}"
        f"\nreport: {write_report(root, assignments)}\nfull log of the nbgrader commands: {demo_log(root)}"
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] not in ("release", "all"):
        sys.exit("usage: python -m course_utils.instructor.demo {release|all} ASSIGNMENT [ASSIGNMENT ...]")
    root = course_root()
    if argv[0] == "release":
        for assignment in argv[1:]:
            release(root, assignment, scratch_gradebook=True)
    else:
        run_all(root, argv[1:])


if __name__ == "__main__":
    main()
