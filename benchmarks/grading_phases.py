"""Where the seconds of grading one submission go, phase by phase, from one run.

    .venv/bin/python benchmarks/grading_phases.py [assignment] [example]   (default ps1 reference)

A scratch course gets the assignment (source/, release/, examples/), the example is submitted,
and the grader's own steps are run and timed one by one, as `course grade` runs them for one
student (empty reference cache): the reference run in judge mode and the student's run in probe
mode (each split into sandbox + interpreter + imports, until the first cell starts, and the
cells), the judge process, and the gradebook transaction. Also printed: a bare `python -c pass`
plain and sandboxed, and the share of each phase. Figures, not assertions.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def course(assignment, example):
    from course_utils.instructor import demo

    root = Path(tempfile.mkdtemp(prefix="phases-"))
    for part in ("source", "release", "examples"):
        shutil.copytree(REPO / part / assignment, root / part / assignment)
    shutil.copy(REPO / "nbgrader_config.py", root)
    demo.release(root, assignment)
    demo.build_submission(root, assignment, root / "examples" / assignment / example)
    return root


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def phases(root, assignment, student):
    """[(phase, seconds)] of grading ``student``'s ``assignment`` notebook by notebook."""
    from course_utils.grading import engine
    from course_utils.grading.assemble import (
        condition_skeletons,
        read_notebook,
        read_submitted_notebook,
        reference_plan,
        student_plan,
    )
    from course_utils.grading.judge import judge_notebook
    from course_utils.grading.settings import load_settings
    from course_utils.grading.store import Store, SubmissionResult

    settings, rows, scores = load_settings(root), [], {}
    with engine._slot() as slot:
        for source in sorted((root / "source" / assignment).glob("*.ipynb")):
            source_cells = read_notebook(source)
            release_cells = read_notebook(root / "release" / assignment / source.name)
            cells = read_submitted_notebook(root, f"submitted/{student}/{assignment}/{source.name}")
            plan = student_plan(source_cells, release_cells, cells)
            reference_plan_ = reference_plan(source_cells)
            reference = engine._run(reference_plan_, student, "judge", settings, slot)
            mine = engine._run(plan, student, "probe", settings, slot)
            for name, run in (("reference", reference), ("student", mine)):
                rows += [
                    (f"{source.stem}: {name} run, start (sandbox, interpreter, imports)", run.startup_seconds),
                    (f"{source.stem}: {name} run, cells", run.seconds - run.startup_seconds),
                ]
            verdicts, seconds = timed(
                judge_notebook,
                plan.tests,
                engine._by_grade_id(plan, mine),
                engine._by_grade_id(reference_plan_, reference),
                condition_skeletons(source_cells),
                engine._judge_run(settings, slot),
            )
            rows.append((f"{source.stem}: judge process", seconds))
            scores[source.stem] = {gid: v.score for gid, v in verdicts.items()}
    result = SubmissionResult(assignment, student, "graded", scores=scores)
    _, seconds = timed(Store(settings.db_url, settings.course_id).record, result)
    rows.append(("gradebook transaction", seconds))
    return rows


def main(assignment="ps1", example="reference"):
    from course_utils.grading.sandbox import measure_overhead

    root = course(assignment, example)
    try:
        plain, boxed = measure_overhead(5)
        rows = phases(root, assignment, example)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total = sum(seconds for _, seconds in rows)
    width = max(len(name) for name, _ in rows)
    print(f"grading {assignment}/{example}, one student, empty reference cache; load {os.getloadavg()[0]:.2f}")
    print(f"python -c pass: {plain * 1000:.0f} ms plain, {boxed * 1000:.0f} ms sandboxed")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:7.2f} s  {100 * seconds / total:5.1f}%")
    print(f"{'total':<{width}}  {total:7.2f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
