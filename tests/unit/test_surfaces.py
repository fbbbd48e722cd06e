"""explorer.FastExplorer (the fast renderer) and autoencoder_slices (ps2's structured slices)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_utils import autoencoder_slices, explorer


def batched_quadratic(thetas):
    return np.sum((thetas - 0.3) ** 2, axis=1)


def test_fast_explorer_keeps_the_base_behaviour():
    ex = explorer.FastExplorer(
        {"q": batched_quadratic}, center=np.zeros(3), directions=np.eye(3)[:2], extent=2.0, resolution=9
    )
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    z, values = ex.last["z"], ex.last["values"]
    g1, g2 = np.meshgrid(z, z)
    assert np.allclose(values, (g1 - 0.3) ** 2 + (g2 - 0.3) ** 2 + 0.09)
    ex.mode.value = "1-D slice"
    assert ex.last["values"].ndim == 1 and "1-D slice" in ex.caption.value
    ex.extent.value = 0.5
    assert np.isclose(ex.last["z"][-1], 0.5)


def test_fast_explorer_survives_non_finite_values():
    ex = explorer.FastExplorer(
        {"bad": lambda t: np.where(t[:, 0] > 0, np.inf, np.nan)}, center=np.zeros(2), directions=np.eye(2), resolution=5
    )
    assert bytes(ex.image.value).startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(3)
    D, H, N = 12, 4, 9
    params = {
        "W1": rng.standard_normal((H, D)),
        "b1": rng.standard_normal(H),
        "W2": rng.standard_normal((D, H)),
        "b2": rng.standard_normal(D),
    }
    X = rng.random((N, D))
    return params, X


@pytest.mark.parametrize("kind", autoencoder_slices.AutoencoderSlices.KINDS)
@pytest.mark.parametrize("loss", ["sq", "lik"])
def test_structured_slices_equal_direct_evaluation(small, kind, loss):
    params, X = small
    slices = autoencoder_slices.AutoencoderSlices(params, X, dtype=np.float64, seed=2, block_rows=4)
    z1, z2 = np.array([-0.7, 0.0, 0.4]), np.array([0.5, -0.2])
    grid = slices.grid(kind, loss, z1, z2)
    direct = [[autoencoder_slices.autoencoder_error(slices.params_at(kind, a, b), X, loss) for a in z1] for b in z2]
    assert np.allclose(grid, direct, rtol=1e-10)


def test_float32_is_close_and_directions_redraw(small):
    params, X = small
    slices = autoencoder_slices.AutoencoderSlices(params, X, seed=0)
    before = slices.U["F22"][0].copy()
    value = slices.error("F12", "lik", [0.3], [0.1])[0]
    direct = autoencoder_slices.autoencoder_error(slices.params_at("F12", 0.3, 0.1), X, "lik")
    assert np.isclose(value, direct, rtol=1e-5)
    slices.new_directions()
    assert not np.allclose(before, slices.U["F22"][0])
    assert np.isclose(np.linalg.norm(slices.U["F22"][0]), np.linalg.norm(params["W2"]), rtol=1e-5)


# The fast path (float32, row blocks, two threads, the algebra of each plane) against the naive
# float64 definition, on MNIST-sized images. Documented tolerance: relative 1e-6 (float32 rounding,
# sums in float64; measured <= 2e-7 on 1,000 Fashion-MNIST test images, also far from the centre
# where units saturate).
FLOAT32_RTOL = 1e-6


@pytest.fixture(scope="module")
def mnist_sized():
    rng = np.random.default_rng(5)
    D, H, N = 784, 30, 37  # N not a multiple of block_rows: a partial last block
    params = {
        "W1": rng.standard_normal((H, D)) / np.sqrt(D),
        "b1": 0.1 * rng.standard_normal(H),
        "W2": rng.standard_normal((D, H)) / np.sqrt(H),
        "b2": 0.1 * rng.standard_normal(D),
    }
    X = (rng.random((N, D)) < 0.3) * rng.random((N, D))  # many zero pixels, like the images
    return params, X


@pytest.mark.parametrize("kind", autoencoder_slices.AutoencoderSlices.KINDS)
@pytest.mark.parametrize("loss", ["sq", "lik"])
def test_fast_grid_equals_naive_evaluation(mnist_sized, kind, loss):
    params, X = mnist_sized
    slices = autoencoder_slices.AutoencoderSlices(params, X, seed=4, block_rows=16)
    z1, z2 = np.array([-2.0, -0.25, 0.0, 0.5]), np.array([-0.5, 0.0, 3.0])  # z = 3: saturated units
    grid = slices.grid(kind, loss, z1, z2)
    naive = [[autoencoder_slices.autoencoder_error(slices.params_at(kind, a, b), X, loss) for a in z1] for b in z2]
    np.testing.assert_allclose(grid, naive, rtol=FLOAT32_RTOL)


@pytest.mark.parametrize("kind", autoencoder_slices.AutoencoderSlices.KINDS)
@pytest.mark.parametrize("loss", ["sq", "lik"])
def test_explorer_shows_the_naive_loss_on_its_grid(mnist_sized, kind, loss):
    """What the widget plots: the 2-D grid and a 1-D slice (single-point rows) equal E."""
    params, X = mnist_sized
    slices = autoencoder_slices.AutoencoderSlices(params, X, seed=6)
    ex = autoencoder_slices.slices_explorer({loss: slices}, kinds=[kind], extent=0.8, resolution=4)
    z, values = ex.last["z"], ex.last["values"]
    for i, j in [(0, 0), (1, 3), (3, 2)]:
        naive = autoencoder_slices.autoencoder_error(slices.params_at(kind, z[j], z[i]), X, loss)
        assert np.isclose(values[i, j], naive, rtol=FLOAT32_RTOL)
    ex.mode.value = "1-D slice"
    ex.offset.value = 0.5
    z, values = ex.last["z"], ex.last["values"]
    for j in (0, 5, len(z) - 1):
        naive = autoencoder_slices.autoencoder_error(slices.params_at(kind, z[j], 0.5 * 0.8), X, loss)
        assert np.isclose(values[j], naive, rtol=FLOAT32_RTOL)


@pytest.mark.parametrize("loss", ["sq", "lik"])
def test_float32_sums_stay_accurate_on_1000_images(loss):
    """The notebook's size: float32 sums over 1,000 x 784 values stay within the tolerance."""
    rng = np.random.default_rng(8)
    D, H, N = 784, 30, 1000
    params = {
        "W1": rng.standard_normal((H, D)) / np.sqrt(D),
        "b1": np.zeros(H),
        "W2": rng.standard_normal((D, H)) / np.sqrt(H),
        "b2": -2 + 0.1 * rng.standard_normal(D),
    }
    X = (rng.random((N, D)) < 0.4) * rng.random((N, D))
    slices = autoencoder_slices.AutoencoderSlices(params, X, seed=9)
    for kind in slices.KINDS:
        fast = slices.error(kind, loss, [0.0, 0.3], [0.0, -0.6])
        naive = [
            autoencoder_slices.autoencoder_error(slices.params_at(kind, a, b), X, loss)
            for a, b in [(0.0, 0.0), (0.3, -0.6)]
        ]
        np.testing.assert_allclose(fast, naive, rtol=FLOAT32_RTOL)


def test_sum_log_equals_the_sum_of_logs():
    rng = np.random.default_rng(0)
    for n in (0, 5, 32, 1000, 1003):
        v = (1 + rng.random(n)).astype(np.float32)
        assert np.isclose(autoencoder_slices._sum_log(v), np.sum(np.log(v.astype(np.float64))), rtol=1e-6, atol=1e-6)
    assert np.isclose(autoencoder_slices._sum_log(np.full((64, 3), 2.0)), 192 * np.log(2.0), rtol=1e-12)


def test_likelihood_error_is_finite_for_huge_logits(small):
    params, X = small
    huge = dict(params, b2=np.full(X.shape[1], 1e4))
    assert np.isfinite(autoencoder_slices.autoencoder_error(huge, X, "lik"))
    slices = autoencoder_slices.AutoencoderSlices(huge, X)
    values = slices.error("F22", "lik", [0.0, 1.0], [0.0, 1.0])
    assert np.all(np.isfinite(values))
    naive = [autoencoder_slices.autoencoder_error(slices.params_at("F22", z, z), X, "lik") for z in (0.0, 1.0)]
    np.testing.assert_allclose(values, naive, rtol=1e-5)


def test_slices_explorer_redraw_and_errors(small):
    params, X = small
    slices = autoencoder_slices.AutoencoderSlices(params, X, dtype=np.float64)
    ex = autoencoder_slices.slices_explorer({"sq": slices, "lik": slices}, resolution=5)
    assert len(ex.losses) == 6 and ex.last["values"].shape == (5, 5)
    first = ex.last["values"].copy()
    ex.redraw.click()
    assert not np.allclose(first, ex.last["values"])
    with pytest.raises(ValueError):
        slices.error("F33", "sq", [0.0], [0.0])
    with pytest.raises(ValueError):
        autoencoder_slices.autoencoder_error(params, X, "hinge")
