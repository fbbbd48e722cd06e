"""Run time of every source notebook, in grading mode and in full mode, from one run.

    .venv/bin/python benchmarks/notebook_times.py [assignment ...]

Prints seconds per notebook (kernel start included) and the ratio to the targets
(grading mode 60 s, full mode 300 s): a ratio below 1 meets the target. Figures, not
assertions: the machines are shared and noisy.
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"autograde": 60.0, "full": 300.0}


def run_seconds(path, mode):
    """Execute the notebook in its folder; returns wall seconds. mode: 'autograde' or 'full'."""
    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get("NBGRADER_EXECUTION")
    if mode == "autograde":
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.perf_counter() - start
    finally:
        if env_before is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = env_before


def main(assignments):
    print(f"{'notebook':<40} {'grading s':>10} {'/60 s':>6} {'full s':>8} {'/300 s':>7}")
    for assignment in assignments:
        for path in sorted((ROOT / "source" / assignment).glob("*.ipynb")):
            grading, full = run_seconds(path, "autograde"), run_seconds(path, "full")
            print(
                f"{assignment + '/' + path.name:<40} {grading:>10.1f} {grading / TARGETS['autograde']:>6.2f}"
                f" {full:>8.1f} {full / TARGETS['full']:>7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()))
