"""Headless tests of course_utils.explorer (no browser, no kernel)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_utils import explorer as ex

# Quadratic loss in D = 3: L(theta) = 1/2 (theta - m)^T A (theta - m) + 0.1 * theta_0
A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])
M = np.array([0.2, -0.4, 1.0])


def scalar_loss(theta):
    """One parameter vector at a time, written as explicit sums (independent of the batched form)."""
    d = [theta[i] - M[i] for i in range(3)]
    return 0.5 * sum(d[i] * A[i][j] * d[j] for i in range(3) for j in range(3)) + 0.1 * theta[0]


def batched_quadratic(thetas):
    d = thetas - M
    return 0.5 * np.einsum("md,de,me->m", d, A, d) + 0.1 * thetas[:, 0]


def batched_l1(thetas):
    return np.abs(thetas).sum(axis=1)


CENTER = np.array([1.0, -1.0, 0.5])
# orthonormal directions (rows): (1, 1, 0)/sqrt 2 and (1, -1, 1)/sqrt 3 (dot = 0)
DIRS = np.array([[1.0, 1.0, 0.0] / np.sqrt(2), [1.0, -1.0, 1.0] / np.sqrt(3)])


@pytest.fixture
def explorer():
    return ex.LossSurfaceExplorer(
        {"quad": batched_quadratic, "l1": batched_l1},
        CENTER,
        directions=DIRS,
        extent=1.5,
        resolution=7,
        markers={"min": M},
    )


def png(image_widget):
    data = bytes(image_widget.value)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return data


def expected_surface(extent, resolution, dirs=DIRS, loss=scalar_loss):
    z = [-extent + 2 * extent * k / (resolution - 1) for k in range(resolution)]
    F = np.empty((resolution, resolution))
    for i in range(resolution):  # rows: z2
        for j in range(resolution):  # columns: z1
            F[i, j] = loss(CENTER + z[j] * dirs[0] + z[i] * dirs[1])
    return np.array(z), F


def test_batched_helper_matches_loop():
    thetas = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_allclose(ex.batched(scalar_loss)(thetas), [scalar_loss(t) for t in thetas])
    np.testing.assert_allclose(batched_quadratic(thetas), [scalar_loss(t) for t in thetas], rtol=1e-13)


def test_initial_state(explorer):
    assert explorer.last["mode"] == "2-D surface" and explorer.last["loss"] == "quad"
    z, F = expected_surface(1.5, 7)
    np.testing.assert_allclose(explorer.last["z"], z, rtol=1e-15)
    np.testing.assert_allclose(explorer.last["values"], F, rtol=1e-12)
    png(explorer.image)


def test_thetas_are_points_of_the_plane(explorer):
    z1, z2 = np.array([0.0, 1.0, -0.5]), np.array([0.0, 0.0, 2.0])
    T = explorer.thetas(z1, z2)
    assert T.shape == (3, 3)
    for k in range(3):
        np.testing.assert_allclose(T[k], CENTER + z1[k] * DIRS[0] + z2[k] * DIRS[1], rtol=1e-15)


def test_surface_values_equal_loss_at_plane_points(explorer):
    z, F = explorer.surface(extent=0.8, resolution=9)
    z_want, F_want = expected_surface(0.8, 9)
    np.testing.assert_allclose(z, z_want, rtol=1e-15, atol=1e-16)
    assert F.shape == (9, 9)
    np.testing.assert_allclose(F, F_want, rtol=1e-12)
    # the other loss, by name
    _, G = explorer.surface(name="l1", extent=0.8, resolution=9)
    _, G_want = expected_surface(0.8, 9, loss=lambda t: sum(abs(v) for v in t))
    np.testing.assert_allclose(G, G_want, rtol=1e-12)


def test_slice_values(explorer):
    z, F = explorer.slice(extent=2.0, offset=0.25, resolution=11)
    # z2 = offset * extent = 0.5
    np.testing.assert_allclose(z, np.linspace(-2, 2, 11))
    want = [scalar_loss(CENTER + z1 * DIRS[0] + 0.5 * DIRS[1]) for z1 in z]
    np.testing.assert_allclose(F, want, rtol=1e-12)
    z_default, F_default = explorer.slice()
    assert len(z_default) == 4 * 7  # 4 x resolution points by default
    assert z_default[-1] == pytest.approx(1.5)


def test_extent_slider_updates_last_and_image(explorer):
    before = png(explorer.image)
    explorer.extent.value = 0.5
    assert explorer.last["z"][0] == pytest.approx(-0.5) and explorer.last["z"][-1] == pytest.approx(0.5)
    np.testing.assert_allclose(explorer.last["values"], expected_surface(0.5, 7)[1], rtol=1e-12)
    assert png(explorer.image) != before


def test_mode_switch_to_slice(explorer):
    before = png(explorer.image)
    explorer.mode.value = "1-D slice"
    assert explorer.last["mode"] == "1-D slice"
    assert explorer.last["values"].shape == (28,)
    want = [scalar_loss(CENTER + z1 * DIRS[0]) for z1 in explorer.last["z"]]  # offset 0
    np.testing.assert_allclose(explorer.last["values"], want, rtol=1e-12)
    after = png(explorer.image)
    assert after != before
    explorer.offset.value = 0.5  # z2 = 0.5 * 1.5
    want = [scalar_loss(CENTER + z1 * DIRS[0] + 0.75 * DIRS[1]) for z1 in explorer.last["z"]]
    np.testing.assert_allclose(explorer.last["values"], want, rtol=1e-12)
    assert png(explorer.image) != after
    explorer.mode.value = "2-D surface"
    assert explorer.last["values"].shape == (7, 7)


def test_loss_dropdown_switches_loss(explorer):
    explorer.loss.value = "l1"
    assert explorer.last["loss"] == "l1"
    np.testing.assert_allclose(
        explorer.last["values"], expected_surface(1.5, 7, loss=lambda t: sum(abs(v) for v in t))[1]
    )


def test_new_directions(explorer):
    old = explorer.directions.copy()
    old_png = png(explorer.image)
    explorer.new_directions()
    D = explorer.directions
    assert D.shape == (2, 3)
    assert not np.allclose(D, old)
    # orthogonal rows, each filter-normalised to ||center||
    assert abs(D[0] @ D[1]) < 1e-12 * np.linalg.norm(CENTER) ** 2
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), np.linalg.norm(CENTER), rtol=1e-12)
    np.testing.assert_allclose(explorer.last["values"], expected_surface(1.5, 7, dirs=D)[1], rtol=1e-12)
    assert png(explorer.image) != old_png
    explorer.redraw.click()  # the button does the same
    assert not np.allclose(explorer.directions, D)


def test_random_directions_without_center_are_orthonormal():
    D = ex.random_directions(5, np.random.default_rng(1))
    np.testing.assert_allclose(D @ D.T, np.eye(2), atol=1e-12)
    D0 = ex.random_directions(5, np.random.default_rng(1), center=np.zeros(5))
    np.testing.assert_allclose(D0 @ D0.T, np.eye(2), atol=1e-12)


def test_default_directions_are_random_and_seeded():
    a = ex.LossSurfaceExplorer({"q": batched_quadratic}, CENTER, resolution=5, seed=3)
    b = ex.LossSurfaceExplorer({"q": batched_quadratic}, CENTER, resolution=5, seed=3)
    c = ex.LossSurfaceExplorer({"q": batched_quadratic}, CENTER, resolution=5, seed=4)
    np.testing.assert_array_equal(a.directions, b.directions)
    assert not np.allclose(a.directions, c.directions)
    np.testing.assert_allclose(a.directions @ a.directions.T, np.dot(CENTER, CENTER) * np.eye(2), atol=1e-12)


def test_projected_markers_recover_plane_coordinates():
    # non-orthogonal, non-normalised directions: the projection must still be exact
    dirs = np.array([[1.0, 2.0, 0.0], [0.5, 0.0, -1.0]])
    inside = CENTER + 0.3 * dirs[0] - 0.7 * dirs[1]
    normal = np.cross(dirs[0], dirs[1])
    outside = CENTER + 1.2 * dirs[0] + 0.4 * dirs[1] + 5.0 * normal  # off-plane part is dropped
    e = ex.LossSurfaceExplorer(
        {"q": batched_quadratic},
        CENTER,
        directions=dirs,
        resolution=5,
        markers={"in": inside, "out": outside, "c": CENTER},
    )
    proj = e.projected_markers()
    np.testing.assert_allclose(proj["in"], [0.3, -0.7], atol=1e-12)
    np.testing.assert_allclose(proj["out"], [1.2, 0.4], atol=1e-12)
    np.testing.assert_allclose(proj["c"], [0.0, 0.0], atol=1e-15)
    png(e.image)  # markers inside the extent are drawn without error


def test_view_contains_the_controls(explorer):
    import ipywidgets as widgets

    assert isinstance(explorer.view, widgets.VBox)
    assert explorer.image in explorer.view.children


def test_figure_explorer_redraws_on_each_control_and_shows_errors_in_place():
    import ipywidgets as widgets

    from course_utils.explorer import FigureExplorer

    def draw(fig, slope=1.0, steps=3):
        if steps == 0:
            raise ValueError("need at least one step")
        ax = fig.subplots()
        ax.plot(range(steps), [slope * i for i in range(steps)])
        return slope * steps

    explorer = FigureExplorer(
        draw, figsize=(3, 2), slope=widgets.FloatSlider(value=2.0, max=5.0), steps=widgets.IntSlider(value=3, max=10)
    )
    assert explorer.result == 6.0 and bytes(explorer.image.value).startswith(b"\x89PNG")
    assert explorer.controls["slope"].description == "slope"
    explorer.controls["steps"].value = 5
    assert explorer.result == 10.0
    explorer.controls["steps"].value = 0
    assert isinstance(explorer.error, ValueError) and "need at least one step" in explorer.message.value
    assert bytes(explorer.image.value) == b""
    explorer.controls["steps"].value = 1
    assert explorer.error is None and explorer.message.value == "" and explorer.result == 2.0


def test_labels_are_never_cut(explorer):
    """Every label keeps its own width (ipywidgets' default cuts long ones to 'new random dire...')."""
    for control in (explorer.loss, explorer.mode, explorer.extent, explorer.offset):
        assert control.style.description_width == "initial", control.description
    assert explorer.redraw.layout.width == "auto"


def test_fast_explorer_draws_a_colour_bar_from_the_views_extremes():
    """Beside the 2-D surface, the colour scale: bright at the top, dark at the bottom."""
    import io

    from PIL import Image

    fast = ex.FastExplorer({"quad": batched_quadratic}, CENTER, directions=DIRS, extent=1.5, resolution=21)
    picture = np.asarray(Image.open(io.BytesIO(png(fast.image))).convert("RGB")).astype(int)
    _, _, (x0, y0, x1, y1) = fast._frames["2d"]
    column = picture[y0:y1, (x0 + x1) // 2]
    bright, dark = ex._COLORS[-1][:3].astype(int), ex._COLORS[0][:3].astype(int)
    assert np.abs(column[0] - bright).max() <= 2 and np.abs(column[-1] - dark).max() <= 2
    levels = {tuple(pixel) for pixel in column}
    assert len(levels) == ex.LEVELS, "one band per colour level"
    beside = picture[y0:y1, x1 + 2 : x1 + 40]
    assert (beside.sum(axis=2) < 300).any(), "the bar's values are written beside it"
