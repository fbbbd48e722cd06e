"""`make bench`: the benchmarks with targets, run one after another, and one table of their figures.

    .venv/bin/python benchmarks/summary.py [--quick]

Each benchmark prints its details as it runs (figures.figure lines mark the headline ones); the
table at the end has one row per headline figure: value, target, met or missed. --quick runs the
autoencoder epoch on 10,000 images instead of 60,000. Figures, never assertions.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import FIGURES_VARIABLE, meets

HERE = Path(__file__).resolve().parent


def benchmarks(quick):
    """[(title, argv)] in the order they run (lightest first)."""
    return [
        ("ps2 explorers: slider latency", ["ps2_explorer_latency.py"]),
        ("ps2 autoencoder: NumPy epoch", ["ps2_autoencoder.py", *(["--images", "10000"] if quick else [])]),
        ("course grade vs stock nbgrader autograde", ["grader_throughput.py"]),
    ]


def run(title, argv, figures_file):
    """One benchmark in its own process; returns (seconds, exit code)."""
    print(f"\n=== {title} ({' '.join(argv)}) ===", flush=True)
    started = time.monotonic()
    env = dict(os.environ, **{FIGURES_VARIABLE: figures_file})
    code = subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]], env=env).returncode
    return time.monotonic() - started, code


def table(rows):
    """The summary: one line per figure."""
    lines = [f"{'figure':<58} {'value':>12} {'target':>14}  result", "-" * 96]
    for row in rows:
        if "why" in row:
            lines.append(f"{row['name']:<58} {'-':>12} {'-':>14}  not measured: {row['why']}")
            continue
        sign = "<=" if row["better"] == "lower" else ">="
        value = f"{row['value']:.3g} {row['unit']}"
        target = f"{sign} {row['target']:g} {row['unit']}"
        result = "meets" if meets(row["value"], row["target"], row["better"]) else "MISSES"
        lines.append(f"{row['name']:<58} {value:>12} {target:>14}  {result}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the autoencoder epoch on 10,000 images")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as figures_file:
        failed = []
        for title, bench_argv in benchmarks(args.quick):
            seconds, code = run(title, bench_argv, figures_file.name)
            print(f"=== {title}: {seconds:.0f} s{'' if code == 0 else f', exit code {code}'}", flush=True)
            if code:
                failed.append(title)
        rows = [json.loads(line) for line in figures_file.read().splitlines() if line.strip()]
    print(f"\nSummary (load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; 2 cores shared):")
    print(table(rows))
    if failed:
        print(f"benchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
