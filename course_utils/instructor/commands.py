"""The course folder, and stock nbgrader commands run in it."""

import os
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def course_root():
    """The course folder: the current one if it has nbgrader_config.py, else this repository."""
    here = Path.cwd()
    return here if (here / "nbgrader_config.py").exists() else REPOSITORY


def nbgrader(root, *args, log=None):
    """Run one stock nbgrader command in the course root; raises on failure.

    log: a file that gets the command's whole output, while one line with its time is printed
    (on failure, the end of the log too); None: the output goes to the terminal.
    """
    bin_dir = Path(sys.executable).parent  # nbgrader runs `alembic` from PATH
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [str(bin_dir / "nbgrader"), *args]
    start = time.perf_counter()
    if log is None:
        print("$ nbgrader", " ".join(args), flush=True)
        subprocess.run(command, cwd=root, env=env, check=True)
        print(f"  ({time.perf_counter() - start:.1f} s)", flush=True)
        return
    with open(log, "a") as out:
        out.write(f"$ nbgrader {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    step = " ".join(a for a in args[:2] if not a.startswith("-"))
    print(f"nbgrader {step}: {time.perf_counter() - start:.1f} s", flush=True)
    if done.returncode:
        tail = Path(log).read_text().splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        raise subprocess.CalledProcessError(done.returncode, command)
