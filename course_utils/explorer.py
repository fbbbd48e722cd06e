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
"""
import io

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure


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

    def __init__(self, losses, center, directions=None, extent=1.0, resolution=50,
                 markers=None, seed=0, axis_labels=("z1", "z2")):
        self.losses = dict(losses)
        self.center = np.asarray(center, dtype=float)
        self.rng = np.random.default_rng(seed)
        self.directions = (random_directions(self.center.size, self.rng, self.center)
                           if directions is None else np.asarray(directions, dtype=float))
        self.markers = dict(markers or {})
        self.axis_labels = axis_labels
        self.resolution = resolution
        self.last = {}
        self.loss = widgets.Dropdown(options=list(self.losses), description="loss")
        self.mode = widgets.ToggleButtons(options=["2-D surface", "1-D slice"], description="view")
        self.extent = widgets.FloatLogSlider(value=extent, base=10, min=-2, max=2, step=0.05,
                                             description="scale")
        self.offset = widgets.FloatSlider(value=0.0, min=-1.0, max=1.0, step=0.02,
                                          description=f"{axis_labels[1]} of slice")
        self.redraw = widgets.Button(description="new random directions")
        self.image = widgets.Image(format="png")
        for control in (self.loss, self.mode, self.extent, self.offset):
            control.observe(lambda change: self.update(), names="value")
        self.redraw.on_click(lambda button: self.new_directions())
        self.view = widgets.VBox([widgets.HBox([self.loss, self.mode]),
                                  widgets.HBox([self.extent, self.offset, self.redraw]), self.image])
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
            coef, *_ = np.linalg.lstsq(self.directions.T, np.asarray(point, float) - self.center,
                                       rcond=None)
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
        shift = self.center if self.center.size == 2 and np.allclose(self.directions, np.eye(2)) \
            else np.zeros(2)
        if values.ndim == 2:
            contour = ax.contourf(z + shift[0], z + shift[1], values, levels=30, cmap="viridis")
            fig.colorbar(contour, ax=ax)
            for label, (m1, m2) in self.projected_markers().items():
                if abs(m1) <= z[-1] and abs(m2) <= z[-1]:
                    m1, m2 = m1 + shift[0], m2 + shift[1]
                    ax.plot(m1, m2, "r*", markersize=12)
                    ax.annotate(label, (m1, m2), color="white", xytext=(4, 4),
                                textcoords="offset points")
            ax.set_ylabel(self.axis_labels[1])
        else:
            ax.plot(z + shift[0], values)
            ax.set_ylabel(self.last["loss"])
        ax.set_xlabel(self.axis_labels[0])
        where = "" if values.ndim == 2 else \
            f" at {self.axis_labels[1]} = {self.offset.value * self.extent.value:.2f}"
        ax.set_title(f"{self.last['loss']}: {self.last['mode']}{where}")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
