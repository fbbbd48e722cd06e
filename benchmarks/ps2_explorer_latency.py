"""ps2 explorers: latency of one slider move (recompute + redraw), from one run.

    .venv/bin/python benchmarks/ps2_explorer_latency.py
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ps2_explorer_latency.py

1.6-1.7: the logistic-regression losses at N = 200, D = 10 on a 50 x 50 grid, in
explorer.FastExplorer (what the notebook uses) and, for comparison, in the matplotlib-rendered
explorer.LossSurfaceExplorer. Target: <= 100 ms per move (medians of 5 moves).
3.7-3.8: the autoencoder planes F11, F12, F22 for both losses on 1,000 test images, in
autoencoder_slices.slices_explorer (12 x 12 grid, as in the notebook, and 15 x 15). Target: <= 200 ms per
move. A table with one line per grid x plane x loss x slider: median and max of 7 moves and
max / target (above 1.00 misses the target).

A move of the *scale* slider recomputes the 2-D grid; a move of the *z2 of slice* slider in the
1-D view recomputes a slice of 4 x resolution points. Figures, not assertions (shared machine: the
load average is printed with the table).
"""

import os
import statistics
import time

import matplotlib
import numpy as np

matplotlib.use("Agg")

from figures import figure  # noqa: E402 (benchmarks/figures.py: the headline figures of make bench)

from course_utils import autoencoder_slices, blas, data, explorer, numerics  # noqa: E402


def move_times(control, values):
    """Seconds of setting ``control.value`` to each of ``values`` (observers run synchronously)."""
    times = []
    for value in values:
        start = time.perf_counter()
        control.value = value
        times.append(time.perf_counter() - start)
    return times


def move_latency(ex, control, values):
    """Median seconds of one move (see ``move_times``)."""
    return statistics.median(move_times(control, values))


def logistic_explorers():
    rng = np.random.default_rng(0)
    N, D = 200, 10
    X = rng.standard_normal((N, D))
    c = (X @ rng.standard_normal(D) > 0).astype(float)

    def lik(W):
        A = W @ X.T
        return -np.mean(c * numerics.log_sigmoid(A) + (1 - c) * numerics.log_sigmoid(-A), axis=1)

    def sq(W):
        return np.mean((c - numerics.sigmoid(W @ X.T)) ** 2, axis=1)

    v = 10 * rng.standard_normal((3, D))
    print("1.6-1.7: N = 200, D = 10, 50 x 50 grid (target <= 100 ms per move)")
    for name, cls in [
        ("FastExplorer (notebook)", explorer.FastExplorer),
        ("LossSurfaceExplorer (matplotlib)", explorer.LossSurfaceExplorer),
    ]:
        ex = cls({"lik": lik, "sq": sq}, center=v[0], directions=v[1:], extent=1.0, resolution=50)
        medians = {}
        for loss in ("lik", "sq"):
            ex.loss.value = loss
            ex.mode.value = "2-D surface"
            medians[f"{loss} scale"] = move_latency(ex, ex.extent, [0.5, 0.7, 1.0, 1.4, 2.0])
            ex.mode.value = "1-D slice"
            medians[f"{loss} slice"] = move_latency(ex, ex.offset, [-0.4, -0.2, 0.0, 0.2, 0.4])
        print(f"  {name:<34} " + ", ".join(f"{what} {1e3 * t:.0f} ms" for what, t in medians.items()))
        if cls is explorer.FastExplorer:
            slowest = 1e3 * max(medians.values())
            figure("ps2 1.6-1.7 explorer: slowest median slider move", slowest, "ms", LOGISTIC_TARGET_MS, "lower")


AE_TARGET = 0.200  # seconds per slider move, 3.7-3.8
LOGISTIC_TARGET_MS = 100  # per slider move (median), 1.6-1.7


def autoencoder_explorers():
    X = data.load_flat("fashion-mnist", "test", n=1000)[0]
    rng = np.random.default_rng(0)
    H, D = 30, 784
    params = {
        "W1": rng.standard_normal((H, D)) / np.sqrt(D),
        "b1": np.zeros(H),
        "W2": rng.standard_normal((D, H)) / np.sqrt(H),
        "b2": np.zeros(D),
    }
    slices = autoencoder_slices.AutoencoderSlices(params, X, seed=1)
    print(
        f"3.7-3.8: 1,000 images, H = {H}; one slider move, 7 moves each (target <= "
        f"{1e3 * AE_TARGET:.0f} ms); OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"BLAS threads {blas.get_threads()}, load average {os.getloadavg()[0]:.2f}"
    )
    print(f"  {'grid':<6} {'plane':<5} {'loss':<16} {'slider':<24} {'median':>8} {'max':>8} {'max/target':>11}")
    worst = 0.0
    for resolution in (12, 15):
        ex = autoencoder_slices.slices_explorer({"sq": slices, "lik": slices}, resolution=resolution)
        for name in ex.losses:
            ex.loss.value = name
            plane, loss = name.split(" ", 1)
            ex.mode.value = "2-D surface"
            ex.extent.value = 0.2
            moves = {f"scale ({resolution**2} points)": move_times(ex.extent, [0.3, 0.4, 0.5, 0.6, 0.7, 0.5, 0.3])}
            ex.mode.value = "1-D slice"
            moves[f"z2 of slice ({4 * resolution} points)"] = move_times(
                ex.offset, [-0.4, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8]
            )
            ex.offset.value = 0.0
            for slider, times in moves.items():
                worst = max(worst, max(times))
                print(
                    f"  {resolution}x{resolution:<3} {plane:<5} {loss:<16} {slider:<24} "
                    f"{1e3 * statistics.median(times):5.0f} ms {1e3 * max(times):5.0f} ms "
                    f"{max(times) / AE_TARGET:11.2f}"
                )
    print(
        f"  slowest move: {1e3 * worst:.0f} ms = {worst / AE_TARGET:.2f} x target "
        f"(load average now {os.getloadavg()[0]:.2f}: other processes on the 2 cores slow every move)"
    )
    figure("ps2 3.7-3.8 autoencoder explorer: slowest slider move", 1e3 * worst, "ms", 1e3 * AE_TARGET, "lower")


if __name__ == "__main__":
    blas.set_threads(1)  # as in the notebooks; the evaluator runs two Python threads itself
    logistic_explorers()
    autoencoder_explorers()
