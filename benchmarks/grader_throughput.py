"""Throughput of the project grader vs stock `nbgrader autograde`, from one run.

    .venv/bin/python benchmarks/grader_throughput.py [assignment] [n_students]   (default ps1 20)

A scratch copy of the course gets n submissions of one assignment, built from its examples
(reference, partly wrong, blank, ...) under distinct student ids, so per-student variants
differ. Then, each on the same submissions:

1. stock `nbgrader autograde <a> --force --create` (sequential, in-kernel verdicts);
2. `course grade <a> --workers 1` and `--workers 2` (sandboxed, out-of-process oracle), each
   with an empty reference cache (its reference run is part of the cost), and `--workers 2`
   again with the cache filled (as after `course prepare` before the deadline, or a regrade);
3. the sandbox's overhead per notebook run (the reference notebook run sandboxed and not,
   alternating, median of 5), and the start-up cost of one sandboxed process alone.

Prints seconds and submissions per minute, and the ratios to stock (target: >= 4x with 2
workers). Figures, not assertions: the machine is shared and noisy.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def course_grade(course, assignment, *extra, cache=False):
    if not cache:
        shutil.rmtree(course / ".grading_cache", ignore_errors=True)
    return timed(course, sys.executable, "-m", "course_utils.grading.cli", "grade", assignment, "--force", *extra)


def sandbox_overhead(course, assignment, runs=5):
    """Median seconds of one notebook's reference run, sandboxed and not, alternating."""
    import statistics

    from course_utils.grading.assemble import read_notebook, reference_plan
    from course_utils.grading.engine import _run
    from course_utils.grading.settings import Settings

    lines = []
    for source in sorted((course / "source" / assignment).glob("*.ipynb")):
        plan = reference_plan(read_notebook(source))
        times = {True: [], False: []}
        for _ in range(runs):
            for unsandboxed in (False, True):
                times[unsandboxed].append(_run(plan, "s00", "judge", Settings(unsandboxed=unsandboxed), 200).seconds)
        boxed, plain = statistics.median(times[False]), statistics.median(times[True])
        lines.append(
            f"sandbox overhead, {source.stem}: {boxed:.2f} s sandboxed vs {plain:.2f} s plain "
            f"(median of {runs}): {1000 * (boxed - plain):+.0f} ms per notebook run"
        )
    return "\n".join(lines)


def main(assignment="ps1", n=20):
    n = int(n)
    course = scratch_course(assignment, n)
    students = sorted(p.name for p in (course / "submitted").iterdir())
    print(f"{assignment}: {len(students)} submissions in {course}")
    stock = timed(course, sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", "--create")
    rows = [
        ("stock nbgrader autograde (sequential)", stock),
        ("course grade --workers 1", course_grade(course, assignment, "--workers", "1")),
        ("course grade --workers 2", course_grade(course, assignment, "--workers", "2")),
        (
            "course grade --workers 2, after course prepare",
            course_grade(course, assignment, "--workers", "2", cache=True),
        ),
    ]
    print(f"{'':44} {'seconds':>8} {'subs/min':>9} {'vs stock':>9}")
    for name, seconds in rows:
        print(f"{name:44} {seconds:8.1f} {60 * len(students) / seconds:9.1f} {stock / seconds:8.2f}x")
    print(sandbox_overhead(course, assignment))
    from course_utils.grading.sandbox import measure_overhead

    bare, boxed = measure_overhead(runs=15)
    print(
        f"sandbox start-up alone (python -c pass, median of 15): {bare * 1000:.0f} ms plain, "
        f"{boxed * 1000:.0f} ms sandboxed, +{(boxed - bare) * 1000:.0f} ms per process"
    )
    print("target: course grade --workers 2 >= 4x stock throughput")
    shutil.rmtree(course, ignore_errors=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
