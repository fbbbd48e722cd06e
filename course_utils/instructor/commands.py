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


def nbgrader(root, *args):
    """Run one stock nbgrader command in the course root; raises on failure."""
    bin_dir = Path(sys.executable).parent  # nbgrader runs `alembic` from PATH
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    print("$ nbgrader", " ".join(args), flush=True)
    start = time.perf_counter()
    subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=root, env=env, check=True)
    print(f"  ({time.perf_counter() - start:.1f} s)", flush=True)
