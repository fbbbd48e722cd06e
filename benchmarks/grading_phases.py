"""Where the seconds of grading one submission go, phase by phase, from one run.

    .venv/bin/python benchmarks/grading_phases.py [assignment] [example]   (default ps1 reference)

A scratch course gets the assignment (source/, release/, examples/), the example is submitted,
and the grader's own steps are run and timed one by one, as `course grade` runs them for one
student (empty reference cache): the reference run in judge mode, the student's run in probe
mode, the judge process and the gradebook transaction; once with each process forked from the
warm zygote into its new sandbox (``grading.zygote``, what `course grade` does), once with a new
interpreter per process (`--no-zygote`). A run's start (until its
first cell starts) is split with the median ``python -c pass``, plain and sandboxed: sandbox
start = sandboxed - plain, interpreter start = plain, imports = the rest. Figures, not assertions.
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


def _run_rows(label, run, plain, boxed, forked):
    """[(phase, seconds)] of one notebook run: sandbox, interpreter, imports, cells."""
    if forked:  # a new sandbox, entered by a child of the warm zygote: no interpreter, no imports
        return [
            (f"{label}, new sandbox + fork from the zygote", run.startup_seconds),
            (f"{label}, cells", run.seconds - run.startup_seconds),
        ]
    return [
        (f"{label}, sandbox start", boxed - plain),
        (f"{label}, interpreter start", plain),
        (f"{label}, imports", run.startup_seconds - boxed),
        (f"{label}, cells", run.seconds - run.startup_seconds),
    ]


def phases(root, assignment, student, plain, boxed, forked=True):
    """[(phase, seconds)] of grading ``student``'s ``assignment`` notebook by notebook, each
    process forked from the zygote (``forked``, as `course grade` does) or a new interpreter."""
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

    settings, rows, scores = load_settings(root, zygote=forked), [], {}
    _, seconds = timed(engine.build_font_cache, root)
    rows.append(("matplotlib font list (once per course)", seconds))
    with engine._slot() as slot:
        if forked:
            _, seconds = timed(engine._zygote, settings, slot)
            rows.append(("zygote start and trial run (once per worker)", seconds))
        for source in sorted((root / "source" / assignment).glob("*.ipynb")):
            name = source.stem
            source_cells = read_notebook(source)
            release_cells = read_notebook(root / "release" / assignment / source.name)
            cells = read_submitted_notebook(root, f"submitted/{student}/{assignment}/{source.name}")
            plan = student_plan(source_cells, release_cells, cells)
            reference_plan_ = reference_plan(source_cells)
            reference = engine._run(reference_plan_, student, "judge", settings, slot, root)
            mine = engine._run(plan, student, "probe", settings, slot, root)
            rows += _run_rows(f"{name}: reference run", reference, plain, boxed, forked)
            rows += _run_rows(f"{name}: student run", mine, plain, boxed, forked)
            verdicts, seconds = timed(
                judge_notebook,
                plan.tests,
                engine._by_grade_id(plan, mine),
                engine._by_grade_id(reference_plan_, reference),
                condition_skeletons(source_cells),
                engine._judge_run(settings, slot),
            )
            rows.append((f"{name}: judge process", seconds))
            scores[name] = {gid: v.score for gid, v in verdicts.items()}
    result = SubmissionResult(assignment, student, "graded", scores=scores)
    store = Store(settings.db_url, settings.course_id)
    _, seconds = timed(store.record, result)
    rows.append(("gradebook transaction (first: imports nbgrader)", seconds))
    _, seconds = timed(store.record, result)
    rows.append(("gradebook transaction (next ones)", seconds))
    engine._close_zygote()
    return rows


def table(rows, title):
    """Lines of a phase table: seconds and share of the total."""
    total = sum(seconds for _, seconds in rows)
    width = max(len(name) for name, _ in rows)
    lines = [title]
    lines += [f"  {name:<{width}}  {seconds:7.2f} s  {100 * seconds / total:5.1f}%" for name, seconds in rows]
    return lines + [f"  {'total':<{width}}  {total:7.2f} s"]


def main(assignment="ps1", example="reference"):
    from course_utils.grading.sandbox import measure_overhead

    root = course(assignment, example)
    try:
        plain, boxed = measure_overhead(5)
        rows = phases(root, assignment, example, plain, boxed)
        fresh = phases(root, assignment, example, plain, boxed, forked=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"grading {assignment}/{example}, one student, empty reference cache; load {os.getloadavg()[0]:.2f}")
    print(f"python -c pass: {plain * 1000:.0f} ms plain, {boxed * 1000:.0f} ms sandboxed")
    print("\n".join(table(rows, "as `course grade` runs it (each process forked from the zygote into its sandbox):")))
    print("\n".join(table(fresh, "the same with a new interpreter per process (--no-zygote):")))


if __name__ == "__main__":
    main(*sys.argv[1:])
