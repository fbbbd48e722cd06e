"""Throughput of the project grader vs stock `nbgrader autograde`, from one run.

    .venv/bin/python benchmarks/grader_throughput.py [assignment] [n_students]   (default ps1 20)

A scratch copy of the course gets n submissions of one assignment, built from its examples
(reference, partly wrong, blank, ...) under distinct student ids, so per-student variants
differ. Then, each on the same submissions, one after the other:

1. stock `nbgrader autograde <a> --force --create` (sequential, in-kernel verdicts);
2. `course grade <a> --workers 2` with an empty reference cache (its reference runs are part of
   the cost), and the same with `--no-zygote` (a new interpreter for every run and judge process
   instead of a fork of the worker's warm zygote into each new sandbox);
3. `course prepare <a>` (the reference runs, as before a deadline), then `course grade <a>
   --workers 2` again: only the students' runs, judges and gradebook writes;
4. the per-phase breakdown of one submission (``grading_phases``: sandbox start, interpreter
   start, imports, cells, judge, gradebook).

Prints seconds, submissions per minute and the ratios to stock (targets: >= 4x with an empty
cache, >= 6x after prepare). Figures, not assertions: the machine is shared and noisy, so
compare the ratios of one run, and rerun when the load printed beside a step is high.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import figure  # benchmarks/figures.py: the headline figures of make bench

from course_utils.instructor import demo

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def scratch_course(assignment, n):
    course = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    for part in ("source", "release", "examples", "nbgrader_config.py", ".grading_secret"):
        if (ROOT / part).is_dir():
            shutil.copytree(ROOT / part, course / part)
        elif (ROOT / part).exists():
            shutil.copy(ROOT / part, course / part)
    demo.nbgrader(course, "generate_assignment", assignment, "--force")
    examples = demo.example_students(course, assignment)
    for i in range(n):
        example = examples[i % len(examples)]
        built = demo.build_submission(course, assignment, example)  # submitted/<example>/<assignment>
        built.parent.rename(course / "submitted" / f"s{i:02d}-{example.name}")
    return course


def timed(course, *argv):
    start = time.perf_counter()
    subprocess.run(argv, cwd=course, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


NBGRADER = (sys.executable, "-m", "nbgrader")
COURSE = (sys.executable, "-m", "course_utils.grading.cli")


def course_grade(course, assignment, *extra, cache=False):
    if not cache:
        shutil.rmtree(course / ".grading_cache", ignore_errors=True)
    return timed(course, *COURSE, "grade", assignment, "--force", *extra)


def course_prepare(course, assignment):
    shutil.rmtree(course / ".grading_cache", ignore_errors=True)
    return timed(course, *COURSE, "prepare", assignment, "--workers", "2")


def main(assignment="ps1", n=20):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import grading_phases

    from course_utils.grading.sandbox import measure_overhead

    n = int(n)
    course = scratch_course(assignment, n)
    students = sorted(p.name for p in (course / "submitted").iterdir())
    print(f"{assignment}: {len(students)} submissions in {course}")
    rows = []
    for name, run in (
        (
            "stock nbgrader autograde (sequential)",
            lambda: timed(course, *NBGRADER, "autograde", assignment, "--force", "--create"),
        ),
        ("course grade --workers 2, empty cache", lambda: course_grade(course, assignment, "--workers", "2")),
        (
            "  the same, --no-zygote",
            lambda: course_grade(course, assignment, "--workers", "2", "--no-zygote"),
        ),
        ("course prepare --workers 2", lambda: course_prepare(course, assignment)),
        (
            "course grade --workers 2, after prepare",
            lambda: course_grade(course, assignment, "--workers", "2", cache=True),
        ),
    ):
        load = os.getloadavg()[0]
        rows.append((name, run(), load))
    stock = rows[0][1]
    print(f"{'':40} {'seconds':>8} {'subs/min':>9} {'vs stock':>9} {'load':>5}")
    for name, seconds, load in rows:
        rate = 60 * len(students) / seconds
        print(f"{name:40} {seconds:8.1f} {rate:9.1f} {stock / seconds:8.2f}x {load:5.2f}")
    print(
        f"ratios to stock: {stock / rows[1][1]:.2f}x with an empty cache (target >= 4x), "
        f"{stock / rows[4][1]:.2f}x after course prepare (target >= 6x)"
    )
    figure("course grade / stock autograde, empty reference cache", stock / rows[1][1], "x", 4, "higher")
    figure("course grade / stock autograde, after course prepare", stock / rows[4][1], "x", 6, "higher")
    plain, boxed = measure_overhead(5)
    phase_rows = grading_phases.phases(course, assignment, students[0], plain, boxed)
    fresh = grading_phases.phases(course, assignment, students[0], plain, boxed, forked=False)
    print(f"python -c pass: {plain * 1000:.0f} ms plain, {boxed * 1000:.0f} ms sandboxed")
    print("\n".join(grading_phases.table(phase_rows, f"one submission ({students[0]}), phase by phase:")))
    print("\n".join(grading_phases.table(fresh, "the same with a new interpreter per process (--no-zygote):")))
    shutil.rmtree(course, ignore_errors=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
