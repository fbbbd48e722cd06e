"""The autoencoder loss on planes through its parameters, fast enough for sliders (ps2, 3.7-3.8).

``AutoencoderSlices``: the error of the one-hidden-layer autoencoder
``f(x) = sigmoid(W2 phi(W1 x + b1) + b2)`` on the planes of problem set 2, 3.7-3.8::

    F11(z1, z2) = E(W1 + z1 U + z2 V, b1, W2, b2)
    F12(z1, z2) = E(W1 + z1 U, b1, W2 + z2 V, b2)
    F22(z1, z2) = E(W1, b1, W2 + z1 U + z2 V, b2)

evaluated exactly (up to float32 rounding) with the structure of each plane, about 1 ms per
point on 1,000 images and one core: a plane moves W1 along z1 U + z2 V, so the hidden
pre-activations are Z0 + z1 X U^T + z2 X V^T with X U^T, X V^T (N, H) computed once per draw of
directions: no grid point multiplies by X. F22 never recomputes the hidden activations and its
logits are ``A0 + z1 B_U + z2 B_V`` with ``B = phi(...) @ U.T`` computed once; F12 recomputes
the hidden activations once per value of z1 (one row of the grid), not per grid point; only
F11 needs a forward pass (one small GEMM) per point. The part of the likelihood loss linear in
the logits is a sum of (N, H) products. What is left per point, elementwise on (N, D): one
tanh per value for either loss (both are functions of tanh(a/2); logs of products of 32
factors, see ``_sum_log``). Float32 in row blocks, sums in float64, rows of the grid on
``threads`` threads (NumPy releases the GIL in ufuncs and BLAS).

Shapes: X (N, D) with pixels in [0, 1]; W1 (H, D), b1 (H,), W2 (D, H), b2 (D,).
Losses: ``"sq"`` is L = (x - y)^2 / 2, ``"lik"`` is L = -x log y - (1 - x) log(1 - y), with
y = sigmoid(a); E = (1/N) sum_n sum_i L(x_ni, y_ni).
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import blas
from .explorer import FastExplorer
from .numerics import sigmoid


def autoencoder_error(params, X, loss, phi=np.tanh):
    """Direct float64 evaluation of E (the definition, no structure): a float."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    X = np.asarray(X, dtype=np.float64)
    A = phi(X @ W1.T + b1) @ W2.T + b2
    if loss == "sq":
        return float(0.5 * np.sum((X - sigmoid(A)) ** 2) / len(X))
    if loss == "lik":  # -x log s(a) - (1 - x) log(1 - s(a)) = softplus(a) - x a
        return float(np.sum(np.maximum(A, 0) + np.log1p(np.exp(-np.abs(A))) - X * A) / len(X))
    raise ValueError(f"loss must be 'sq' or 'lik', not {loss!r}")


def _sum_log(v, k=32):
    """sum(log(v)) as a float, for values v (any shape, contiguous) in [1, 2].

    Sums of logs are logs of products: a product of k factors <= 2 is <= 2^k (no float32 overflow
    for k < 128), so there is one ``log`` per k values instead of one per value, with the rounding
    error of a sum of k logs; the logs are summed in float64.
    """
    v = v.reshape(-1)
    m = len(v) // k * k
    products = np.multiply.reduce(v[:m].reshape(k, -1), axis=0)
    return float(np.log(products).sum(dtype=np.float64)) + float(np.log(v[m:]).sum(dtype=np.float64))


def _sum_squares(u, rows=128):
    """sum(u ** 2) as a float, for u (R, D): float32 dot products of ``rows``-row chunks, summed in
    float64 (one float32 dot over 1,000 x 784 values loses ~1e-6 of relative accuracy)."""
    return sum(float(np.vdot(u[i : i + rows], u[i : i + rows])) for i in range(0, len(u), rows))


class AutoencoderSlices:
    """Structured evaluation of F11, F12, F22 (see module docstring).

    params: dict W1 (H, D), b1 (H,), W2 (D, H), b2 (D,) (the centre of every plane);
    X: (N, D) images; phi: the hidden transfer function (elementwise);
    seed: directions are drawn from ``np.random.default_rng(seed)``; each direction matrix has
    the Frobenius norm of the weight matrix it moves, so z = 1 is a change as large as W itself.
    threads: Python threads over the rows of a grid (each with one BLAS thread);
    block_rows: images per block of logits (1,024: one block for the notebook's 1,000 images; smaller
    blocks fit the L2 cache but cost more Python calls than they save: benchmarks/ps2_explorer_latency.py).

    Every value is the exact E of its point, up to float32 rounding: relative error <= 2e-7 against
    the float64 definition ``autoencoder_error`` on 1,000 images (tests/unit/test_surfaces.py: 1e-6).
    """

    KINDS = ("F11", "F12", "F22")
    LOSSES = {"sq": "square loss", "lik": "likelihood loss"}

    def __init__(self, params, X, phi=np.tanh, dtype=np.float32, seed=0, threads=2, block_rows=1024):
        self.dtype = dtype
        self.params = {k: np.asarray(params[k], dtype=dtype) for k in ("W1", "b1", "W2", "b2")}
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.N = len(self.X)
        self.phi = phi
        self.threads = threads
        self.block_rows = block_rows
        p = self.params
        # Both losses are functions of u = a/2 (see _block_sum): the arrays that give logits are
        # kept halved (exact in floating point), so no point pays an (N, D) pass to halve them.
        self.W2_half, self.b2_half = p["W2"] / 2, p["b2"] / 2
        self.Z0 = self.X @ p["W1"].T + p["b1"]  # hidden pre-activations (N, H)
        self.H0 = phi(self.Z0)  # hidden activations, reused by F22
        self.A0_half = self.H0 @ self.W2_half.T + self.b2_half  # u = a/2 at the centre (N, D)
        self.C = 2 * self.X - 1  # square loss (see _block_sum)
        self.G = 0.5 - self.X.astype(np.float64)  # likelihood loss: its linear part
        self.GW2 = self.G @ p["W2"]  # (N, H), see _error
        self.Gb2 = float(self.G.sum(axis=0) @ p["b2"])
        self.rng = np.random.default_rng(seed)
        self.new_directions()

    # ---- directions --------------------------------------------------------------------
    def new_directions(self):
        """Draw new random U, V for every plane and precompute what each plane reuses."""
        p = self.params

        def draw(like):
            u = self.rng.standard_normal(like.shape).astype(self.dtype)
            return u * (np.linalg.norm(like) / np.linalg.norm(u))

        self.U = {
            "F11": (draw(p["W1"]), draw(p["W1"])),
            "F12": (draw(p["W1"]), draw(p["W2"])),
            "F22": (draw(p["W2"]), draw(p["W2"])),
        }
        self.XU11 = [self.X @ u.T for u in self.U["F11"]]  # (N, H): dZ per unit z
        self.XU12 = self.X @ self.U["F12"][0].T  # (N, H)
        self.B22_half = [self.H0 @ u.T / 2 for u in self.U["F22"]]  # (N, D): du per unit z
        self.V12_half = self.U["F12"][1] / 2  # (D, H)
        self.GU22 = [self.G @ u for u in self.U["F22"]]  # (N, H), see _error
        self.GV12 = self.G @ self.U["F12"][1]  # (N, H)

    def params_at(self, kind, z1, z2):
        """The parameters of one point of a plane (float64 dict), for checks and plots."""
        p = {k: v.astype(np.float64) for k, v in self.params.items()}
        u, v = (m.astype(np.float64) for m in self.U[kind])
        if kind == "F11":
            p["W1"] = p["W1"] + z1 * u + z2 * v
        elif kind == "F12":
            p["W1"], p["W2"] = p["W1"] + z1 * u, p["W2"] + z2 * v
        elif kind == "F22":
            p["W2"] = p["W2"] + z1 * u + z2 * v
        else:
            raise ValueError(f"kind must be one of {self.KINDS}, not {kind!r}")
        return p

    # ---- E at one point from its logits: float32 row blocks, sums in float64 ----------------
    def _block_sum(self, loss, u, rows):
        """sum over images ``rows`` and pixels of L, from u = a/2 (R, D) (overwritten): a float.

        Both losses are functions of tanh(u) = 2 sigmoid(a) - 1 (one tanh per value, no exp):
        "sq": (x - sigmoid(a))^2 / 2 = (c - tanh u)^2 / 8 with c = 2x - 1;
        "lik": softplus(a) - x a = (1/2 - x) a + log(2 cosh u), with the linear part added by
        ``_error`` and log(2 cosh u) = |u| + log 2 - log(1 + tanh|u|), stable for any u
        (1 + tanh|u| is in [1, 2]).
        """
        if loss == "sq":
            np.tanh(u, out=u)
            u -= self.C[rows]
            return _sum_squares(u) / 8
        np.abs(u, out=u)
        total = float(u.sum()) + u.size * np.log(2)
        np.tanh(u, out=u)
        u += 1
        return total - _sum_log(u)

    def _error(self, loss, write_half_logits, hidden, GW):
        """E at one point whose logits are a = hidden @ W.T + b2 (hidden (N, H), W (D, H)): a float.

        write_half_logits(rows, out) writes u = a/2, (R, D), of the images ``rows`` into ``out``.
        GW = (1/2 - X) @ W, (N, H): the part of the likelihood loss linear in the logits needs no
        (N, D) array, sum_n (1/2 - x_n) . (W h_n + b2) = <GW, hidden> + (sum_n (1/2 - x_n)) . b2.
        """
        total = float(np.vdot(GW, hidden)) + self.Gb2 if loss == "lik" else 0.0
        scratch = np.empty((min(self.block_rows, self.N), self.X.shape[1]), dtype=self.dtype)
        for start in range(0, self.N, self.block_rows):
            rows = slice(start, min(start + self.block_rows, self.N))
            u = scratch[: rows.stop - start]
            write_half_logits(rows, u)
            total += self._block_sum(loss, u, rows)
        return total / self.N

    @staticmethod
    def _affine(P, Q, z):
        """P + z Q (P, Q (N, D)), as ``write_half_logits`` for ``_error``."""

        def write(rows, out):
            np.multiply(Q[rows], z, out=out)
            out += P[rows]

        return write

    @staticmethod
    def _output_layer(hidden, W2, b2):
        """hidden @ W2.T + b2 (hidden (N, H)), as ``write_half_logits`` for ``_error``.

        The bias is one more column of the product (a hidden unit fixed at 1): cheaper than
        adding b2 to the (N, D) result.
        """
        hidden1 = np.hstack([hidden, np.ones((len(hidden), 1), hidden.dtype)])  # (N, H + 1)
        W2b = np.hstack([W2, b2[:, None]])  # (D, H + 1)

        def write(rows, out):
            np.matmul(hidden1[rows], W2b.T, out=out)

        return write

    # ---- the planes --------------------------------------------------------------------
    def _row(self, kind, loss, z1, z2s):
        """Values at (z1, z2) for every z2 in z2s: a list; the work shared by one z1 is done once."""
        t, W2, b2 = self.dtype, self.W2_half, self.b2_half  # everything in u = a/2
        if kind == "F22":  # u = A0/2 + z1 B_U/2 + z2 B_V/2: no forward pass at all
            (GU, GV), (BU, BV) = self.GU22, self.B22_half
            base = self.A0_half + t(z1) * BU
            return [
                self._error(loss, self._affine(base, BV, t(z2)), self.H0, self.GW2 + z1 * GU + z2 * GV) for z2 in z2s
            ]
        if kind == "F12":  # hidden activations once per z1, then u = P + z2 Q
            hidden, V = self.phi(self.Z0 + t(z1) * self.XU12), self.V12_half
            if len(z2s) == 1:  # a single point (a 1-D slice): one GEMM, not two
                halves = [self._output_layer(hidden, W2 + t(z2s[0]) * V, b2)]
            else:
                P, Q = hidden @ W2.T + b2, hidden @ V.T
                halves = [self._affine(P, Q, t(z2)) for z2 in z2s]
            return [self._error(loss, write, hidden, self.GW2 + z2 * self.GV12) for write, z2 in zip(halves, z2s)]
        if kind == "F11":  # a forward pass per point from X W1^T + z1 X U^T + z2 X V^T: no GEMM with X
            (XU, XV), out = self.XU11, []
            for z2 in z2s:
                hidden = self.phi(self.Z0 + t(z1) * XU + t(z2) * XV)
                out.append(self._error(loss, self._output_layer(hidden, W2, b2), hidden, self.GW2))
            return out
        raise ValueError(f"kind must be one of {self.KINDS}, not {kind!r}")

    def error(self, kind, loss, z1, z2):
        """E at the points (z1[m], z2[m]) of plane ``kind``: (M,) float64."""
        if loss not in self.LOSSES:
            raise ValueError(f"loss must be one of {list(self.LOSSES)}, not {loss!r}")
        z1, z2 = np.atleast_1d(np.asarray(z1, float)), np.atleast_1d(np.asarray(z2, float))
        groups = {}  # F12, F22: one job per row (shared z1); F11 shares nothing: one job per point
        for m, (a, b) in enumerate(zip(z1, z2)):
            groups.setdefault(a if kind != "F11" else m, []).append(m)
        out = np.empty(len(z1))

        def run(members):
            return members, self._row(kind, loss, z1[members[0]], z2[members])

        with blas.blas_threads(1):  # parallel over rows, not inside each small product
            if self.threads > 1 and len(groups) > 1:
                with ThreadPoolExecutor(self.threads) as pool:
                    results = list(pool.map(run, groups.values()))
            else:
                results = [run(members) for members in groups.values()]
        for members, values in results:
            out[members] = values
        return out

    def grid(self, kind, loss, z1, z2):
        """F[i, j] = E at (z1[j], z2[i]): (len(z2), len(z1))."""
        g1, g2 = np.meshgrid(z1, z2)
        return self.error(kind, loss, g1.ravel(), g2.ravel()).reshape(g1.shape)

    def batched(self, kind, loss):
        """A batched loss for the explorers: P (M, 2) plane coordinates -> (M,)."""
        return lambda P: self.error(kind, loss, np.asarray(P)[:, 0], np.asarray(P)[:, 1])

    def explorer(self, kinds=KINDS, losses=("sq", "lik"), extent=0.5, resolution=12):
        """A FastExplorer over the planes of these slices (see ``slices_explorer``)."""
        return slices_explorer({loss: self for loss in losses}, kinds, extent, resolution)


def slices_explorer(slices_by_loss, kinds=AutoencoderSlices.KINDS, extent=0.5, resolution=12):
    """One explorer over several ``AutoencoderSlices``: {"sq": slices, "lik": other_slices}.

    Each loss may have its own centre (e.g. the optimum found with that loss). The dropdown lists
    every (plane, loss); *new random directions* redraws U and V of every evaluator. The grid is
    ``resolution`` x ``resolution`` (the cost is one loss evaluation on all images per point).
    """
    evaluators = list({id(s): s for s in slices_by_loss.values()}.values())

    class PlaneExplorer(FastExplorer):
        def new_directions(self):
            for slices in evaluators:
                slices.new_directions()
            self.update()

    entries = {
        f"{kind} {AutoencoderSlices.LOSSES[loss]}": slices.batched(kind, loss)
        for kind in kinds
        for loss, slices in slices_by_loss.items()
    }
    return PlaneExplorer(entries, center=np.zeros(2), directions=np.eye(2), extent=extent, resolution=resolution)
