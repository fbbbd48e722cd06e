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


def nbgrader_in_groups(root, args, students, log, jobs):
    """``nbgrader <args>`` for ``students`` split into ``jobs`` groups: one command per group, all at once.

    Stock nbgrader grades one notebook at a time, and each command costs ~2 s of start-up, so a
    command per group keeps the CPUs busy without paying that per student. A group's command excludes
    every other student folder (``CourseDirectory.student_id_exclude``). Each command writes its own
    file first; they are appended to ``log`` in group order. One line with the step's time is printed.
    A failed command does not stop the others; then the end of each failed log is printed and
    CalledProcessError names the failed students (those its errors name, else its whole group).
    """
    start = time.perf_counter()
    groups = [students[i::jobs] for i in range(max(1, jobs)) if students[i::jobs]]
    everyone = set(students) | _student_folders(root)
    commands = [(*args, f"--CourseDirectory.student_id_exclude={','.join(sorted(everyone - set(g)))}") for g in groups]
    with tempfile.TemporaryDirectory() as scratch:
        logs = [Path(scratch) / f"{number}.log" for number in range(len(groups))]
        with ThreadPoolExecutor(len(groups)) as pool:
            statuses = list(pool.map(lambda c, own: _run_logged(root, c, own), commands, logs))
        with open(log, "a") as out:
            out.writelines(own.read_text() for own in logs)
        seconds = time.perf_counter() - start
        print(f"nbgrader {_step(args)}: {seconds:.1f} s ({len(students)} students in {len(groups)} commands at once)")
        failed = []
        for group, own, status in zip(groups, logs, statuses):
            if status:
                _print_tail(own)
                failed += _named_in_errors(own.read_text(), group) or group
    if failed:
        raise subprocess.CalledProcessError(1, ["nbgrader", *args, f"--student={','.join(failed)}"])


def _student_folders(root):
    """Names of the student folders nbgrader would visit (submitted/ and autograded/)."""
    return {
        p.name
        for part in ("submitted", "autograded")
        if (Path(root) / part).is_dir()
        for p in (Path(root) / part).iterdir()
    }


def _named_in_errors(text, students):
    """The students an ERROR line of an nbgrader log names (by their folder, or as "for student 'x'")."""
    errors = [line for line in text.splitlines() if "| ERROR]" in line]
    return [s for s in students if any(f"/{s}/" in line or f"student '{s}'" in line for line in errors)]
