"""The course folder, and stock nbgrader commands run in it."""

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import STDOUT

REPOSITORY = Path(__file__).resolve().parents[2]


def course_root():
    """The course folder: the current one if it has nbgrader_config.py, else this repository."""
    here = Path.cwd()
    return here if (here / "nbgrader_config.py").exists() else REPOSITORY


def _command(args):
    """The nbgrader of this interpreter's environment, with its arguments."""
    return [str(Path(sys.executable).parent / "nbgrader"), *args]


def _environment():
    """This interpreter's bin folder first on PATH: nbgrader runs `alembic` from PATH."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def _run_logged(root, args, log):
    """One stock nbgrader command in the course root, its whole output appended to ``log``; its exit status."""
    with open(log, "a") as out:
        out.write(f"$ nbgrader {' '.join(args)}\n")
        out.flush()
        return subprocess.run(_command(args), cwd=root, env=_environment(), stdout=out, stderr=STDOUT).returncode


def _fail_with_log(log, args):
    """The end of a failed command's log on stderr, then CalledProcessError."""
    _print_tail(log)
    raise subprocess.CalledProcessError(1, ["nbgrader", *args])


def _step(args):
    """'autograde ps1' of an nbgrader command's arguments: the line that names it with its time."""
    return " ".join(a for a in args[:2] if not a.startswith("-"))


def _print_tail(log):
    print("\n".join(Path(log).read_text().splitlines()[-40:]), file=sys.stderr)


def nbgrader(root, *args, log=None):
    """Run one stock nbgrader command in the course root; raises on failure.

    log: a file that gets the command's whole output, while one line with its time is printed
    (on failure, the end of the log too); None: the output goes to the terminal.
    """
    start = time.perf_counter()
    if log is None:
        print("$ nbgrader", " ".join(args), flush=True)
        subprocess.run(_command(args), cwd=root, env=_environment(), check=True)
        print(f"  ({time.perf_counter() - start:.1f} s)", flush=True)
        return
    status = _run_logged(root, args, log)
    print(f"nbgrader {_step(args)}: {time.perf_counter() - start:.1f} s", flush=True)
    if status:
        _fail_with_log(log, args)


def nbgrader_per_student(root, args, students, log, jobs):
    """``nbgrader <args> --student=<s>`` for each student, ``jobs`` commands at a time.

    Each command writes its own file first; they are appended to ``log`` in student order, so the log
    reads like one sequential run. One line with the step's time is printed. A failed command does
    not stop the others; then the end of each failed log is printed and CalledProcessError names
    the failed students.
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        logs = [Path(scratch) / f"{number}.log" for number in range(len(students))]
        commands = [(*args, f"--student={student}") for student in students]
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            statuses = list(pool.map(lambda c, own: _run_logged(root, c, own), commands, logs))
        with open(log, "a") as out:
            out.writelines(own.read_text() for own in logs)
        print(
            f"nbgrader {_step(args)}: {time.perf_counter() - start:.1f} s ({len(students)} students, {jobs} at a time)"
        )
        failed = [(student, own) for student, own, status in zip(students, logs, statuses) if status]
        for _, own in failed:
            _print_tail(own)
    if failed:
        raise subprocess.CalledProcessError(1, ["nbgrader", *args, f"--student={','.join(s for s, _ in failed)}"])
