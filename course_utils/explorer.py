"""An ipywidgets explorer of a loss along a 1-D slice or over a 2-D plane.

The plane through ``center`` (D,) spanned by ``directions`` (2, D) is
``theta(z1, z2) = center + z1 * directions[0] + z2 * directions[1]``.
Losses are *batched*: ``loss(thetas)`` maps an (M, D) array of parameter
vectors to (M,) values, so a whole grid is one vectorised call.

Everything the widgets show is computed by plain methods (``surface``,
``slice``) and kept in ``explorer.last``, so the explorer can be driven and
tested without a browser: setting ``explorer.extent.value`` recomputes
synchronously. The picture is a PNG in an ``ipywidgets.Image``. For a 2-D
problem viewed along the coordinate axes the picture shows real coordinates.

``FastExplorer`` is the same explorer (widgets, methods, ``last``) whose picture is drawn
without matplotlib on each update, for losses of larger models: the axes frame (ticks in
units of the *scale* slider, -1..1) is drawn once; an update colour-maps the grid into it
with Pillow (banded colours, like ``contourf``) and prints the coordinate range and the value
range in a caption. About 10 ms per picture instead of about 100 ms.

``FigureExplorer`` is ``ipywidgets.interactive`` for a matplotlib figure: controls redraw a
``Figure`` shown in the same kind of ``Image``. The explorers use no ``Output`` widget: run
without a front end (nbgrader, nbclient), the client answers an Output widget's captured output
with comm messages on the kernel's shell socket while it awaits the cell's reply on that socket,
and can then miss the reply until the cell's timeout.
"""

import html
import io
import traceback

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont


def batched(f):
    """Turn a loss of one (D,) vector into a batched loss (M, D) -> (M,) (slow but simple)."""
    return lambda thetas: np.array([f(t) for t in thetas])


def random_directions(dim, rng, center=None):
    """Two orthonormal random directions (2, D); filter-normalised to ||center|| if given."""
    q, _ = np.linalg.qr(rng.standard_normal((dim, 2)))
    scale = np.linalg.norm(center) if center is not None and np.linalg.norm(center) > 0 else 1.0
    return q.T * scale


class LossSurfaceExplorer:
    """Sliders over a loss surface; ``.view`` is the widget to display.

    losses: dict label -> batched loss (M, D) -> (M,).
    center: (D,) point the plane goes through; directions: (2, D) or None (random).
    markers: optional dict label -> (D,) points drawn (projected) on the plane.
    """

    def __init__(
        self, losses, center, directions=None, extent=1.0, resolution=50, markers=None, seed=0, axis_labels=("z1", "z2")
    ):
        self.losses = dict(losses)
        self.center = np.asarray(center, dtype=float)
        self.rng = np.random.default_rng(seed)
        self.directions = (
            random_directions(self.center.size, self.rng, self.center)
            if directions is None
            else np.asarray(directions, dtype=float)
        )
        self.markers = dict(markers or {})
        self.axis_labels = axis_labels
        self.resolution = resolution
        self.last = {}
        fit = {"style": {"description_width": "initial"}}  # labels at their own width, never cut ("scal...")
        self.loss = widgets.Dropdown(options=list(self.losses), description="loss", **fit)
        self.mode = widgets.ToggleButtons(options=["2-D surface", "1-D slice"], description="view", **fit)
        self.extent = widgets.FloatLogSlider(
            value=extent, base=10, min=-2, max=2, step=0.05, description="scale", **fit
        )
        self.offset = widgets.FloatSlider(
            value=0.0, min=-1.0, max=1.0, step=0.02, description=f"{axis_labels[1]} of slice", **fit
        )
        self.redraw = widgets.Button(description="new random directions", layout=widgets.Layout(width="auto"))
        self.image = widgets.Image(format="png")
        for control in (self.loss, self.mode, self.extent, self.offset):
            control.observe(lambda change: self.update(), names="value")
        self.redraw.on_click(lambda button: self.new_directions())
        self.view = widgets.VBox(
            [widgets.HBox([self.loss, self.mode]), widgets.HBox([self.extent, self.offset, self.redraw]), self.image]
        )
        self.update()

    def thetas(self, z1, z2):
        """Parameter vectors (M, D) at plane coordinates z1, z2 (each (M,))."""
        return self.center + np.outer(z1, self.directions[0]) + np.outer(z2, self.directions[1])

    def surface(self, name=None, extent=None, resolution=None):
        """Grid values: (z (R,), F (R, R)) with F[i, j] = loss(theta(z[j], z[i]))."""
        extent = self.extent.value if extent is None else extent
        resolution = resolution or self.resolution
        z = np.linspace(-extent, extent, resolution)
        z1, z2 = np.meshgrid(z, z)
        values = self.losses[name or self.loss.value](self.thetas(z1.ravel(), z2.ravel()))
        return z, values.reshape(resolution, resolution)

    def slice(self, name=None, extent=None, offset=None, resolution=None):
        """1-D slice along directions[0] at z2 = offset * extent: (z (R,), F (R,))."""
        extent = self.extent.value if extent is None else extent
        offset = self.offset.value if offset is None else offset
        z = np.linspace(-extent, extent, resolution or 4 * self.resolution)
        values = self.losses[name or self.loss.value](self.thetas(z, np.full_like(z, offset * extent)))
        return z, values

    def new_directions(self):
        self.directions = random_directions(self.center.size, self.rng, self.center)
        self.update()

    def projected_markers(self):
        """Plane coordinates (z1, z2) of each marker (least-squares projection)."""
        out = {}
        for label, point in self.markers.items():
            coef, *_ = np.linalg.lstsq(self.directions.T, np.asarray(point, float) - self.center, rcond=None)
            out[label] = coef
        return out

    def update(self):
        """Recompute the current view and re-render the image."""
        if self.mode.value == "2-D surface":
            z, values = self.surface()
        else:
            z, values = self.slice()
        self.last = {"mode": self.mode.value, "loss": self.loss.value, "z": z, "values": values}
        self.image.value = self._render()

    def _render(self):
        fig = Figure(figsize=(5.5, 4), dpi=80)
        ax = fig.add_subplot()
        z, values = self.last["z"], self.last["values"]
        # On the plane of the two coordinate axes of a 2-D problem, show real coordinates.
        shift = self.center if self.center.size == 2 and np.allclose(self.directions, np.eye(2)) else np.zeros(2)
        if values.ndim == 2:
            contour = ax.contourf(z + shift[0], z + shift[1], values, levels=30, cmap="viridis")
            fig.colorbar(contour, ax=ax)
            for label, (m1, m2) in self.projected_markers().items():
                if abs(m1) <= z[-1] and abs(m2) <= z[-1]:
                    m1, m2 = m1 + shift[0], m2 + shift[1]
                    ax.plot(m1, m2, "r*", markersize=12)
                    ax.annotate(label, (m1, m2), color="white", xytext=(4, 4), textcoords="offset points")
            ax.set_ylabel(self.axis_labels[1])
        else:
            ax.plot(z + shift[0], values)
            ax.set_ylabel(self.last["loss"])
        ax.set_xlabel(self.axis_labels[0])
        where = "" if values.ndim == 2 else f" at {self.axis_labels[1]} = {self.offset.value * self.extent.value:.2f}"
        ax.set_title(f"{self.last['loss']}: {self.last['mode']}{where}")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


LEVELS = 24
_COLORS = (matplotlib.colormaps["viridis"](np.linspace(0, 1, LEVELS)) * 255).astype(np.uint8)
_FONT = ImageFont.load_default(size=12)  # Pillow's bundled font: the colour bar's numbers


def _frame(xlabel, ylabel, two_d=True, size=(5.6, 4.2), dpi=100):
    """Axes drawn once: (RGBA array, pixel box (x0, y0, x1, y1) of the plotting area, pixel box of
    the colour bar (2-D) or None)."""
    fig = Figure(figsize=size, dpi=dpi)
    ax = fig.add_axes([0.13, 0.12, 0.66, 0.82])
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_xticks(np.linspace(-1, 1, 5))
    ax.set_yticks(np.linspace(-1, 1, 5) if two_d else [])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    bar = fig.add_axes([0.82, 0.12, 0.035, 0.82]) if two_d else None
    if bar is not None:
        bar.set_xticks([])
        bar.set_yticks([])
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.array(canvas.buffer_rgba())
    return rgba, _pixel_box(ax, rgba.shape[0]), _pixel_box(bar, rgba.shape[0]) if bar is not None else None


def _pixel_box(ax, height):
    """(x0, y0, x1, y1): the pixels inside ``ax``'s frame, y from the top."""
    box = ax.get_window_extent()
    return (
        int(np.ceil(box.x0)) + 1,
        int(np.ceil(height - box.y1)) + 1,
        int(np.floor(box.x1)),
        int(np.floor(height - box.y0)),
    )


def _colour_bar(picture, box, lo, hi):
    """The colour scale in ``box`` (bright at the top) and its low, middle and high values beside it."""
    x0, y0, x1, y1 = box
    bands = np.clip(((1 - (np.arange(y1 - y0) + 0.5) / (y1 - y0)) * LEVELS).astype(int), 0, LEVELS - 1)
    picture.paste(Image.fromarray(np.repeat(_COLORS[bands][:, None, :], x1 - x0, axis=1)), (x0, y0))
    draw = ImageDraw.Draw(picture)
    for value, y in ((hi, y0), ((lo + hi) / 2, (y0 + y1) / 2), (lo, y1)):
        draw.text((x1 + 4, y), f"{value:.4g}", fill=(0, 0, 0, 255), font=_FONT, anchor="lm")


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
            self._frames[key] = _frame(
                f"{names[0]} / scale", f"{names[1]} / scale" if two_d else "loss (range below)", two_d=two_d
            )
        rgba, (x0, y0, x1, y1), bar = self._frames[key]
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
            _colour_bar(picture, bar, lo, hi)
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
            shown = (
                f"{self.axis_labels[0]} in [-{z[-1]:.3g}, {z[-1]:.3g}]; loss from {lo:.5g} (bottom) to {hi:.5g} (top)"
            )
        self.caption.value = f"<b>{self.last['loss']}</b> ({self.last['mode']}): {shown}"
        buffer = io.BytesIO()
        picture.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


class FigureExplorer:
    """Controls that redraw a matplotlib figure; ``.view`` is the widget to display.

    draw(fig, **values) draws on a fresh ``Figure`` for the controls' current values; what it
    returns is kept in ``.result``. controls: keyword -> widget whose ``value`` is passed as that
    keyword. Setting a control's value redraws synchronously. An exception in ``draw`` is kept in
    ``.error`` and its traceback shown in place of the picture (as ``interactive`` shows it).
    """

    def __init__(self, draw, figsize=None, **controls):
        self.draw = draw
        self.figsize = figsize
        self.controls = controls
        self.result = self.error = None
        self.image = widgets.Image(format="png")
        self.message = widgets.HTML()
        for name, control in controls.items():
            control.description = control.description or name  # as interactive labels them
            control.style.description_width = "initial"  # whole labels, never cut
            control.observe(lambda change: self.update(), names="value")
        self.view = widgets.VBox([*controls.values(), self.image, self.message])
        self.update()

    def values(self):
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        """Redraw for the current values."""
        fig = Figure(figsize=self.figsize)
        try:
            self.result, self.error = self.draw(fig, **self.values()), None
        except Exception as error:
            self.result, self.error = None, error
        failed = "".join(traceback.format_exception(self.error)) if self.error else ""
        self.message.value = f"<pre>{html.escape(failed)}</pre>" if failed else ""
        self.image.value = b"" if failed else _png(fig)


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
