"""What hostile submissions cost the grader: `course grade` on the guard course, from one run each.

    .venv/bin/python benchmarks/grader_under_attack.py [cell_timeout]   (default 10 s, as test_adversarial)

Two fresh scratch courses with the `guard` assignment (tests/grading/course): one gets the honest
submissions of tests/grading/submissions.py (HONEST), the other the same plus every attack
(attacks(root) + HONEST: fork and memory bombs, endless loops, 50 MB prints, forged messages...).
Each class is graded by one `course grade guard --workers 2 --cell-timeout <cell_timeout>` run,
with an empty reference cache.

Prints, per run, the wall time and the peak RSS of the `course grade` process tree, and the
ratios hostile / honest. Peak RSS is the kernel's ru_maxrss of that one child process, read with
os.wait4 (the figure resource.getrusage(RUSAGE_CHILDREN) gives, but for this run alone): the
largest resident set of any single process in its tree that was waited for (workers and
sandboxed kernels included), not the sum over the tree. Figures, not assertions: the machine is
shared and noisy (the load average is printed).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests/grading"))
from scratch import ENV, make_course, submit  # noqa: E402
from submissions import HONEST, attacks  # noqa: E402


def grade(root, cell_timeout):
    """Seconds and peak RSS (MiB) of one `course grade guard` run in ``root``, as a child process."""
    argv = [sys.executable, "-m", "course_utils.grading.cli", "grade", "guard", "--workers", "2"]
    with open(root / "grade.log", "w") as log:
        start = time.perf_counter()
        child = subprocess.Popen(
            [*argv, "--cell-timeout", str(cell_timeout)], cwd=root, env=ENV, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's rusage alone, unlike RUSAGE_CHILDREN
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"course grade failed ({child.returncode}): see {root / 'grade.log'}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def graded_class(name, submissions_of, cell_timeout):
    """(name, number of submissions, seconds, peak MiB) for a fresh guard course with these submissions."""
    root = make_course(Path(tempfile.mkdtemp(prefix="grader-attack-")))
    try:
        submissions = submissions_of(root)
        submit(root, submissions)
        return (name, len(submissions), *grade(root, cell_timeout))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(cell_timeout="10"):
    cell_timeout = float(cell_timeout)
    print(f"course grade guard --workers 2 --cell-timeout {cell_timeout:g}; load average {os.getloadavg()[0]:.2f}")
    honest = graded_class("honest only", lambda root: HONEST, cell_timeout)
    hostile = graded_class("honest + hostile", lambda root: attacks(root) + HONEST, cell_timeout)
    print(f"{'':20} {'submissions':>11} {'seconds':>8} {'s/submission':>12} {'peak RSS MiB':>12}")
    for name, n, seconds, peak in (honest, hostile):
        print(f"{name:20} {n:11d} {seconds:8.1f} {seconds / n:12.2f} {peak:12.0f}")
    (_, n0, s0, m0), (_, n1, s1, m1) = honest, hostile
    print(f"{'hostile / honest':20} {n1 / n0:10.2f}x {s1 / s0:7.2f}x {(s1 / n1) / (s0 / n0):11.2f}x {m1 / m0:11.2f}x")


if __name__ == "__main__":
    main(*sys.argv[1:])
