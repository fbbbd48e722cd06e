"""ps2 explorers: latency of one slider move (recompute + redraw), from one run.

    .venv/bin/python benchmarks/ps2_explorer_latency.py

1.6-1.7: the logistic-regression losses at N = 200, D = 10 on a 50 x 50 grid, in
surfaces.FastExplorer (what the notebook uses) and, for comparison, in the matplotlib-rendered
explorer.LossSurfaceExplorer. Target: <= 100 ms per move.
3.7-3.8: the autoencoder planes F11, F12, F22 for both losses on 1,000 test images, in
surfaces.slices_explorer (12 x 12 grid, as in the notebook, and 15 x 15). Target: <= 200 ms.

A move of the *scale* slider recomputes the 2-D grid; a move of the *z2 of slice* slider in the
1-D view recomputes a slice of 4 x resolution points. Medians of 5 moves; figures, not assertions.
"""
import statistics
import time

import matplotlib
import numpy as np

matplotlib.use("Agg")

from course_utils import blas, data, explorer, numerics, surfaces  # noqa: E402


def move_latency(ex, control, values):
    """Median seconds of setting ``control.value`` to each of ``values`` (observers run synchronously)."""
    times = []
    for value in values:
        start = time.perf_counter()
        control.value = value
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    for name, cls in [("FastExplorer (notebook)", surfaces.FastExplorer),
                      ("LossSurfaceExplorer (matplotlib)", explorer.LossSurfaceExplorer)]:
        ex = cls({"lik": lik, "sq": sq}, center=v[0], directions=v[1:], extent=1.0, resolution=50)
        row = []
        for loss in ("lik", "sq"):
            ex.loss.value = loss
            ex.mode.value = "2-D surface"
            row.append(f"{loss} scale {1e3 * move_latency(ex, ex.extent, [0.5, 0.7, 1.0, 1.4, 2.0]):.0f} ms")
            ex.mode.value = "1-D slice"
            row.append(f"{loss} slice {1e3 * move_latency(ex, ex.offset, [-0.4, -0.2, 0.0, 0.2, 0.4]):.0f} ms")
        print(f"  {name:<34} " + ", ".join(row))


def autoencoder_explorers():
    X = data.load_flat("fashion-mnist", "test", n=1000)[0]
    rng = np.random.default_rng(0)
    H, D = 30, 784
    params = {"W1": rng.standard_normal((H, D)) / np.sqrt(D), "b1": np.zeros(H),
              "W2": rng.standard_normal((D, H)) / np.sqrt(H), "b2": np.zeros(D)}
    slices = surfaces.AutoencoderSlices(params, X, seed=1)
    print("3.7-3.8: 1,000 images, H = 30 (target <= 200 ms per move)")
    for resolution in (12, 15):
        ex = surfaces.slices_explorer({"sq": slices, "lik": slices}, resolution=resolution)
        for name in ex.losses:
            ex.loss.value = name
            ex.mode.value = "2-D surface"
            grid = move_latency(ex, ex.extent, [0.3, 0.4, 0.5, 0.6, 0.7])
            ex.mode.value = "1-D slice"
            line = move_latency(ex, ex.offset, [-0.4, -0.2, 0.0, 0.2, 0.4])
            print(f"  {resolution}x{resolution} {name:<22} scale move {1e3 * grid:6.0f} ms "
                  f"({1e3 * grid / resolution ** 2:.2f} ms/point); slice move ({4 * resolution} points) "
                  f"{1e3 * line:6.0f} ms")


if __name__ == "__main__":
    blas.set_threads(1)  # as in the notebooks; the evaluator runs two Python threads itself
    logistic_explorers()
    autoencoder_explorers()
