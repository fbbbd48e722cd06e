"""Headline figures of the benchmarks, collected by `make bench` into one table (benchmarks/summary.py).

A benchmark prints its own detailed lines as before and, for each figure that has a target, calls

    figure("ps2 explorer: slowest slider move", 0.143, "s", target=0.200, better="lower")

which prints one line and, when COURSE_BENCH_FIGURES names a file, appends the figure to it as
one JSON line. Figures, never assertions: the machines are shared and noisy.
"""

import json
import os

FIGURES_VARIABLE = "COURSE_BENCH_FIGURES"


def meets(value, target, better):
    """Whether ``value`` meets ``target`` (better = 'lower' | 'higher')."""
    return value <= target if better == "lower" else value >= target


def figure(name, value, unit, target, better):
    """Print one headline figure with its target; record it for the summary table."""
    sign = "<=" if better == "lower" else ">="
    verdict = "meets" if meets(value, target, better) else "MISSES"
    print(f"  figure: {name}: {value:.3g} {unit} (target {sign} {target:g} {unit}: {verdict})", flush=True)
    path = os.environ.get(FIGURES_VARIABLE)
    if path:
        with open(path, "a") as out:
            row = {"name": name, "value": value, "unit": unit, "target": target, "better": better}
            out.write(json.dumps(row) + "\n")


def not_measured(name, why):
    """A figure this run could not measure (e.g. PyTorch absent), said in the table instead of hidden."""
    print(f"  figure: {name}: not measured ({why})", flush=True)
    path = os.environ.get(FIGURES_VARIABLE)
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"name": name, "why": why}) + "\n")
