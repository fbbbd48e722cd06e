"""Start-up time of the project's `course` command vs stock nbgrader's, from one run.

    .venv/bin/python benchmarks/cli_startup.py

Median of 5 runs each: `course grade --help` (argument parsing: what every command pays before
any work), `nbgrader --help` and a bare `import nbgrader`. Target: course <= 1.5 s.
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def median_seconds(argv, runs=5):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    rows = [
        ("course grade --help", median_seconds([str(BIN / "course"), "grade", "--help"])),
        ("nbgrader --help", median_seconds([str(BIN / "nbgrader"), "--help"])),
        ("python -c 'import nbgrader'", median_seconds([sys.executable, "-c", "import nbgrader"])),
    ]
    for name, seconds in rows:
        print(f"{name:30} {seconds:6.2f} s   {seconds / 1.5:5.2f} of the 1.5 s target")


if __name__ == "__main__":
    main()
