"""ps2 autoencoder: one training epoch of the reference NumPy code vs the same model in PyTorch.

    .venv/bin/python benchmarks/ps2_autoencoder.py [--images 60000]
    /work/bench-venv/bin/python benchmarks/ps2_autoencoder.py    # a venv that also has torch

The NumPy code is the reference solution of source/ps2/autoencoder.ipynb (its answer cells are
executed here, so the benchmark times exactly what the notebook trains with): H = 30 tanh units,
sigmoid outputs, square loss, mini-batches of 100, the hand-written ADAM, float32, one BLAS thread
(as the notebook sets). PyTorch gets the same layers, loss, batch size and torch.optim.Adam, and is
timed with 1 and with all intra-op threads; the faster of the two is compared.

Prints figures, never asserts (shared, noisy machines):
- seconds per epoch for each, and the ratio torch / numpy (target: NumPy >= 1.5x faster);
- GFLOP/s of the NumPy epoch, counting the five GEMMs per step (10 B D H flops), against the
  machine's float32 GEMM peak measured here with NumPy (2048^2 matrices; target >= 25%).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from figures import figure, not_measured  # benchmarks/figures.py: the headline figures of make bench

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "source" / "ps2" / "autoencoder.ipynb"
CELLS = ("ae_setup", "ae_model", "ae_backprop_answer", "adam_answer", "train_answer")
B, D, H = 100, 784, 30


def reference_namespace():
    """Run the setup and reference answer cells of the notebook; returns their globals."""
    namespace = {}
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:  # plain JSON: no nbformat needed
        if cell["metadata"].get("nbgrader", {}).get("grade_id") in CELLS:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            exec(compile(source, f"<{NOTEBOOK.name}>", "exec"), namespace)
    return namespace


def gemm_peak(threads):
    """Best float32 GFLOP/s of a 2048 x 2048 product with the given BLAS threads."""
    from course_utils import blas

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((2048, 2048), dtype=np.float32) for _ in range(2))
    with blas.blas_threads(threads):
        a @ b
        best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * 2048**3 / best / 1e9


def _timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def numpy_epoch(ns, X):
    os.environ["NBGRADER_EXECUTION"] = "benchmark"  # plain-text progress bar
    ns["train_autoencoder"](X[:2000], "sq", H=H, epochs=1, batch_size=B)  # warm-up
    return min(_timed(lambda: ns["train_autoencoder"](X, "sq", H=H, epochs=1, batch_size=B)) for _ in range(2))


def torch_epoch(X, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, D))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    data = torch.from_numpy(X)

    def epoch(n):
        order = torch.randperm(n)
        for start in range(0, n, B):
            xb = data[order[start : start + B]]
            loss = 0.5 * ((xb - torch.sigmoid(model(xb))) ** 2).sum() / len(xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    epoch(2000)  # warm-up
    return min(_timed(lambda: epoch(len(X))) for _ in range(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60000)
    args = parser.parse_args()
    ns = reference_namespace()
    X = ns["data"].load_flat(ns["DATASET"], "train", n=args.images)[0].astype(np.float32)
    steps = -(-len(X) // B)
    flops = 10 * B * D * H * steps
    print(f"\n{len(X)} images, {steps} ADAM steps of {B} images, H = {H}; {flops / 1e9:.2f} GFLOP of GEMMs per epoch")
    peak1, peak_all = gemm_peak(1), gemm_peak(os.cpu_count() or 1)
    print(
        f"float32 GEMM peak (2048^2, NumPy): {peak1:.1f} GFLOP/s on 1 thread, "
        f"{peak_all:.1f} GFLOP/s on {os.cpu_count()} threads"
    )
    t_np = numpy_epoch(ns, X)
    print(
        f"NumPy reference epoch: {t_np:.2f} s, {flops / t_np / 1e9:.1f} GFLOP/s = "
        f"{flops / t_np / 1e9 / peak_all:.0%} of the {os.cpu_count()}-thread peak "
        f"({flops / t_np / 1e9 / peak1:.0%} of the 1-thread peak; target >= 25%)"
    )
    share = 100 * flops / t_np / 1e9 / peak_all
    figure("ps2 autoencoder: NumPy epoch, share of the GEMM peak", share, "%", 25, "higher")
    try:
        import torch
    except ImportError:
        print(
            "torch not installed: skipping the comparison (make a separate venv with torch, see this file's docstring)"
        )
        not_measured("ps2 autoencoder: PyTorch epoch / NumPy epoch", "no torch in this venv (see ps2_autoencoder.py)")
        return
    times = {threads: torch_epoch(X, threads) for threads in sorted({1, os.cpu_count() or 1})}
    for threads, t in times.items():
        print(f"PyTorch {torch.__version__} epoch, {threads} thread(s): {t:.2f} s")
    best = min(times.values())
    print(f"ratio PyTorch / NumPy (best PyTorch setting): {best / t_np:.2f}x (target >= 1.5x)")
    figure("ps2 autoencoder: PyTorch epoch / NumPy epoch", best / t_np, "x", 1.5, "higher")


if __name__ == "__main__":
    sys.exit(main())
