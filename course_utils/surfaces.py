"""Loss surfaces of larger models, fast enough for sliders.

Two pieces, both course code (no student answer lives here):

- ``FastExplorer``: a ``explorer.LossSurfaceExplorer`` with the same widgets, methods and
  ``last`` dictionary, whose picture is drawn without matplotlib on each update. The axes
  frame (ticks in units of the *scale* slider, -1..1) is drawn once; an update colour-maps the
  grid into it with Pillow (banded colours, like ``contourf``) and prints the coordinate range
  and the value range in a caption. About 10 ms per picture instead of about 100 ms.
- ``AutoencoderSlices``: the error of the one-hidden-layer autoencoder
  ``f(x) = sigmoid(W2 phi(W1 x + b1) + b2)`` on the planes of problem set 2, 3.7-3.8::

      F11(z1, z2) = E(W1 + z1 U + z2 V, b1, W2, b2)
      F12(z1, z2) = E(W1 + z1 U, b1, W2 + z2 V, b2)
      F22(z1, z2) = E(W1, b1, W2 + z1 U + z2 V, b2)

  evaluated with the structure of each plane: F22 never recomputes the hidden activations
  and its logits are ``A0 + z1 B_U + z2 B_V`` with ``B = phi(...) @ U.T`` computed once;
  F12 recomputes the hidden activations once per value of z1 (one row of the grid), not per
  grid point; only F11 needs a forward pass per point. Losses are summed in float32 in
  cache-sized row blocks, on ``threads`` threads (NumPy releases the GIL in ufuncs).

Shapes: X (N, D) with pixels in [0, 1]; W1 (H, D), b1 (H,), W2 (D, H), b2 (D,).
Losses: ``"sq"`` is L = (x - y)^2 / 2, ``"lik"`` is L = -x log y - (1 - x) log(1 - y), with
y = sigmoid(a); E = (1/N) sum_n sum_i L(x_ni, y_ni).
"""
import io
from concurrent.futures import ThreadPoolExecutor

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from .explorer import LossSurfaceExplorer

LEVELS = 24
_COLORS = (matplotlib.colormaps["viridis"](np.linspace(0, 1, LEVELS)) * 255).astype(np.uint8)


def _frame(xlabel, ylabel, y_ticks=True, size=(5.0, 4.0), dpi=80):
    """Axes drawn once: (RGBA array, pixel box (x0, y0, x1, y1) of the plotting area)."""
    fig = Figure(figsize=size, dpi=dpi)
    ax = fig.add_axes([0.15, 0.13, 0.8, 0.8])
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_xticks(np.linspace(-1, 1, 5))
    ax.set_yticks(np.linspace(-1, 1, 5) if y_ticks else [])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.array(canvas.buffer_rgba())
    box = ax.get_window_extent()
    height = rgba.shape[0]
    return rgba, (int(np.ceil(box.x0)) + 1, int(np.ceil(height - box.y1)) + 1,
                  int(np.floor(box.x1)), int(np.floor(height - box.y0)))


class FastExplorer(LossSurfaceExplorer):
    """``LossSurfaceExplorer`` with a fast renderer (see module docstring); ``.view`` to display.

    The picture's axes are in units of the scale: the point (1, 0) is ``center + scale *
    directions[0]``. The caption gives the scale and the minimum and maximum of the view.
    """

    def __init__(self, *args, **kwargs):
        self.caption = widgets.HTML()
        self._frames = {}
        super().__init__(*args, **kwargs)
        self.view.children = (*self.view.children, self.caption)

    def _render(self):
        z, values = self.last["z"], np.asarray(self.last["values"], dtype=float)
        two_d = values.ndim == 2
        key = "2d" if two_d else "1d"
        if key not in self._frames:
            names = self.axis_labels
            self._frames[key] = _frame(f"{names[0]} / scale",
                                       f"{names[1]} / scale" if two_d else "loss (range below)", y_ticks=two_d)
        rgba, (x0, y0, x1, y1) = self._frames[key]
        width, height = x1 - x0, y1 - y0
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        span = hi - lo if hi > lo else 1.0
        picture = Image.fromarray(rgba)
        if two_d:
            field = np.nan_to_num(values, nan=hi, posinf=hi, neginf=lo).astype(np.float32)
            field = np.asarray(Image.fromarray(field[::-1]).resize((width, height), Image.BILINEAR))
            bands = np.clip(((field - lo) / span * LEVELS).astype(int), 0, LEVELS - 1)
            picture.paste(Image.fromarray(_COLORS[bands]), (x0, y0))
            draw = ImageDraw.Draw(picture)
            for label, (m1, m2) in self.projected_markers().items():
                u, v = m1 / z[-1], m2 / z[-1]
                if abs(u) <= 1 and abs(v) <= 1:
                    px, py = x0 + (u + 1) / 2 * (width - 1), y1 - 1 - (v + 1) / 2 * (height - 1)
                    draw.line([(px - 5, py), (px + 5, py)], fill=(255, 0, 0, 255), width=2)
                    draw.line([(px, py - 5), (px, py + 5)], fill=(255, 0, 0, 255), width=2)
                    draw.text((px + 6, py - 12), label, fill=(255, 255, 255, 255))
            shown = f"z1, z2 in [-{z[-1]:.3g}, {z[-1]:.3g}]; colour from {lo:.5g} (dark) to {hi:.5g} (bright)"
        else:
            draw = ImageDraw.Draw(picture)
            xs = x0 + (z - z[0]) / (z[-1] - z[0]) * (width - 1)
            ys = y1 - 1 - (np.nan_to_num(values, nan=hi, posinf=hi, neginf=lo) - lo) / span * (height - 1)
            draw.line(list(zip(xs.tolist(), ys.tolist())), fill=(31, 119, 180, 255), width=2)
            shown = f"{self.axis_labels[0]} in [-{z[-1]:.3g}, {z[-1]:.3g}]; loss from {lo:.5g} (bottom) to {hi:.5g} (top)"
        self.caption.value = f"<b>{self.last['loss']}</b> ({self.last['mode']}): {shown}"
        buffer = io.BytesIO()
        picture.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def _sigmoid64(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def autoencoder_error(params, X, loss, phi=np.tanh):
    """Direct float64 evaluation of E (the definition, no structure): a float."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    X = np.asarray(X, dtype=np.float64)
    A = phi(X @ W1.T + b1) @ W2.T + b2
    if loss == "sq":
        return float(0.5 * np.sum((X - _sigmoid64(A)) ** 2) / len(X))
    if loss == "lik":  # -x log s(a) - (1 - x) log(1 - s(a)) = softplus(a) - x a
        return float(np.sum(np.maximum(A, 0) + np.log1p(np.exp(-np.abs(A))) - X * A) / len(X))
    raise ValueError(f"loss must be 'sq' or 'lik', not {loss!r}")


class AutoencoderSlices:
    """Structured evaluation of F11, F12, F22 (see module docstring).

    params: dict W1 (H, D), b1 (H,), W2 (D, H), b2 (D,) (the centre of every plane);
    X: (N, D) images; phi: the hidden transfer function (elementwise);
    seed: directions are drawn from ``np.random.default_rng(seed)``; each direction matrix has
    the Frobenius norm of the weight matrix it moves, so z = 1 is a change as large as W itself.
    """

    KINDS = ("F11", "F12", "F22")
    LOSSES = {"sq": "square loss", "lik": "likelihood loss"}

    def __init__(self, params, X, phi=np.tanh, dtype=np.float32, seed=0, threads=2, block_rows=256):
        self.dtype = dtype
        self.params = {k: np.asarray(params[k], dtype=dtype) for k in ("W1", "b1", "W2", "b2")}
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.N = len(self.X)
        self.phi = phi
        self.threads = threads
        self.block_rows = block_rows
        p = self.params
        self.Z0 = self.X @ p["W1"].T + p["b1"]           # hidden pre-activations (N, H)
        self.H0 = phi(self.Z0)                            # hidden activations, reused by F22
        self.A0 = self.H0 @ p["W2"].T + p["b2"]           # output logits (N, D)
        self.C = 2 * self.X - 1                           # square loss: (x - s(a))^2 = (c - tanh(a/2))^2 / 4
        self.rng = np.random.default_rng(seed)
        self.new_directions()

    # ---- directions --------------------------------------------------------------------
    def new_directions(self):
        """Draw new random U, V for every plane and precompute what each plane reuses."""
        p = self.params

        def draw(like):
            u = self.rng.standard_normal(like.shape).astype(self.dtype)
            return u * (np.linalg.norm(like) / np.linalg.norm(u))

        self.U = {"F11": (draw(p["W1"]), draw(p["W1"])), "F12": (draw(p["W1"]), draw(p["W2"])),
                  "F22": (draw(p["W2"]), draw(p["W2"]))}
        self.XU11 = [self.X @ u.T for u in self.U["F11"]]      # (N, H): dZ per unit z
        self.XU12 = self.X @ self.U["F12"][0].T                # (N, H)
        self.B22 = [self.H0 @ u.T for u in self.U["F22"]]      # (N, D): dA per unit z

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

    # ---- losses of logits, in float32 row blocks ---------------------------------------
    def _blocks(self):
        return range(0, self.N, self.block_rows)

    def _loss_of(self, loss, logits_block, rows, scratch):
        """Sum over one row block of L(x, sigmoid(a)); ``logits_block`` may be overwritten."""
        a = logits_block
        if loss == "sq":
            np.multiply(a, 0.5, out=a)
            np.tanh(a, out=a)
            np.subtract(a, self.C[rows], out=a)
            return float(np.vdot(a, a)) / 8.0
        # softplus(a) - x a = (a + |a|)/2 + log1p(exp(-|a|)) - x a
        linear = 0.5 * float(a.sum()) - float(np.vdot(self.X[rows], a))
        np.abs(a, out=a)
        linear += 0.5 * float(a.sum())
        np.negative(a, out=a)
        np.exp(a, out=a)
        np.log1p(a, out=a)
        return linear + float(a.sum())

    def _error_logits(self, loss, first, second=None, z=0.0):
        """E for logits ``first + z * second`` (each (N, D)), summed block by block."""
        total = 0.0
        scratch = np.empty((self.block_rows, self.X.shape[1]), dtype=self.dtype)
        for start in self._blocks():
            rows = slice(start, min(start + self.block_rows, self.N))
            a = scratch[: rows.stop - rows.start]
            if second is None:
                np.copyto(a, first[rows])
            else:
                np.multiply(second[rows], self.dtype(z), out=a)
                a += first[rows]
            total += self._loss_of(loss, a, rows, scratch)
        return total / self.N

    # ---- the planes --------------------------------------------------------------------
    def _row(self, kind, loss, z1, z2s):
        """Values at (z1, z2) for every z2 in z2s: the work shared by one z1 is done once."""
        p = self.params
        if kind == "F22":
            base = self.A0 + self.dtype(z1) * self.B22[0]
            return [self._error_logits(loss, base, self.B22[1], z2) for z2 in z2s]
        if kind == "F12":
            hidden = self.phi(self.Z0 + self.dtype(z1) * self.XU12)
            base = hidden @ p["W2"].T + p["b2"]
            slope = hidden @ self.U["F12"][1].T
            return [self._error_logits(loss, base, slope, z2) for z2 in z2s]
        if kind == "F11":
            out = []
            for z2 in z2s:
                hidden = self.phi(self.Z0 + self.dtype(z1) * self.XU11[0] + self.dtype(z2) * self.XU11[1])
                out.append(self._error_logits(loss, hidden @ p["W2"].T + p["b2"]))
            return out
        raise ValueError(f"kind must be one of {self.KINDS}, not {kind!r}")

    def error(self, kind, loss, z1, z2):
        """E at the points (z1[m], z2[m]) of plane ``kind``: (M,) float64."""
        if loss not in self.LOSSES:
            raise ValueError(f"loss must be one of {list(self.LOSSES)}, not {loss!r}")
        z1, z2 = np.atleast_1d(np.asarray(z1, float)), np.atleast_1d(np.asarray(z2, float))
        groups = {}
        for m, (a, b) in enumerate(zip(z1, z2)):
            groups.setdefault(a, []).append(m)
        out = np.empty(len(z1))
        jobs = list(groups.items())

        def run(job):
            value, members = job
            return members, self._row(kind, loss, value, z2[members])

        if self.threads > 1 and len(jobs) > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                results = list(pool.map(run, jobs))
        else:
            results = [run(job) for job in jobs]
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

    entries = {f"{kind} {AutoencoderSlices.LOSSES[loss]}": slices.batched(kind, loss)
               for kind in kinds for loss, slices in slices_by_loss.items()}
    return PlaneExplorer(entries, center=np.zeros(2), directions=np.eye(2), extent=extent,
                         resolution=resolution)
