"""Tests of course_utils.data: IDX parsing on hand-written files and the real Debian files."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from course_utils import data
from course_utils.data import DataError, read_idx

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
needs_debian = pytest.mark.skipif(
    not (DEBIAN / "train-images-idx3-ubyte.gz").exists(), reason="Debian's dataset-fashion-mnist is not installed"
)


def idx_bytes(type_code, shape, payload):
    """IDX layout: 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 sizes, then the data."""
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def write(path, raw):
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)
    return path


# ---------------------------------------------------------------- read_idx on small files


@pytest.mark.parametrize("name", ["imgs-idx3-ubyte", "imgs-idx3-ubyte.gz"])
def test_read_uint8_3d(tmp_path, name):
    values = [(7 * i + 3) % 256 for i in range(2 * 3 * 4)]
    path = write(tmp_path / name, idx_bytes(0x08, (2, 3, 4), bytes(values)))
    arr = read_idx(path)
    assert arr.dtype == np.uint8 and arr.shape == (2, 3, 4)
    # row-major (C order): element [i, j, k] is byte i*12 + j*4 + k
    for i in range(2):
        for j in range(3):
            for k in range(4):
                assert arr[i, j, k] == values[i * 12 + j * 4 + k]


def test_read_accepts_str_path(tmp_path):
    path = write(tmp_path / "labels", idx_bytes(0x08, (3,), bytes([9, 0, 4])))
    assert read_idx(str(path)).tolist() == [9, 0, 4]


def test_read_big_endian_types(tmp_path):
    floats = [1.5, -2.25, 1e-3]
    f4 = read_idx(write(tmp_path / "f4", idx_bytes(0x0D, (3,), struct.pack(">3f", *floats))))
    assert f4.tolist() == [struct.unpack(">f", struct.pack(">f", v))[0] for v in floats]
    i4 = read_idx(write(tmp_path / "i4", idx_bytes(0x0C, (2, 2), struct.pack(">4i", 1, -2, 70000, -70000))))
    assert i4.tolist() == [[1, -2], [70000, -70000]]
    i1 = read_idx(write(tmp_path / "i1", idx_bytes(0x09, (2,), bytes([0xFF, 0x7F]))))
    assert i1.tolist() == [-1, 127]
    f8 = read_idx(write(tmp_path / "f8.gz", idx_bytes(0x0E, (1,), struct.pack(">d", np.pi))))
    assert f8.tolist() == [np.pi]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_truncated_file_mentions_sizes(tmp_path, suffix):
    # header 4 + 3*4 = 16 bytes, data 2*3*4 = 24 bytes: 40 expected; drop 5 -> 35
    raw = idx_bytes(0x08, (2, 3, 4), bytes(24))[:-5]
    path = write(tmp_path / f"images{suffix}", raw)
    with pytest.raises(DataError) as info:
        read_idx(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "truncated" in msg and "(2, 3, 4)" in msg
    assert "40 bytes" in msg and "35 bytes" in msg


def test_padded_file_rejected(tmp_path):
    path = write(tmp_path / "labels", idx_bytes(0x08, (3,), bytes(3)) + b"\0")
    with pytest.raises(DataError, match=r"\(11 bytes\), file has 12 bytes"):  # 4 + 4 + 3 = 11 expected
        read_idx(path)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x00\x07\x01\x00\x00\x00\x01\x00",  # 0x07 is not an IDX type code
        b"\x01\x00\x08\x01\x00\x00\x00\x01\x00",  # first magic byte must be 0
        b"\x00\x01\x08\x01\x00\x00\x00\x01\x00",
        b"\x1f\x8b\x08\x00",  # a gzip stream saved without .gz
        b"\x00\x00",  # too short for a magic number
        b"",
    ],
)
def test_bad_magic(tmp_path, raw):
    path = write(tmp_path / "bad-idx1-ubyte", raw)
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)


def test_data_error_is_runtime_error():
    assert issubclass(DataError, RuntimeError)


# ---------------------------------------------------------------- real Fashion-MNIST


@pytest.fixture(scope="module")
def train():
    return data.load("fashion-mnist", "train")


@pytest.fixture(scope="module")
def test_split():
    return data.load("fashion-mnist", "test")


@pytest.fixture
def real_data_only(monkeypatch):
    # make sure the real files come from Debian's folder, not some other configured place
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


@needs_debian
def test_load_train_shapes_and_labels(train):
    images, labels = train
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert np.bincount(labels, minlength=10).tolist() == [6000] * 10  # balanced by construction
    assert images.min() == 0 and images.max() == 255


@needs_debian
def test_load_test_shapes_and_labels(test_split):
    images, labels = test_split
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert np.bincount(labels, minlength=10).tolist() == [1000] * 10


@needs_debian
def test_loaded_values_match_an_independent_parse(train):
    # read the header and the first/last image straight from the gzip stream
    images, labels = train
    with gzip.open(DEBIAN / "train-images-idx3-ubyte.gz", "rb") as fh:
        magic, n, rows, cols = struct.unpack(">4I", fh.read(16))
        first = np.frombuffer(fh.read(784), dtype=np.uint8)
    assert (magic, n, rows, cols) == (0x0803, 60000, 28, 28)
    np.testing.assert_array_equal(images[0].ravel(), first)
    with gzip.open(DEBIAN / "train-labels-idx1-ubyte.gz", "rb") as fh:
        magic, n = struct.unpack(">2I", fh.read(8))
        first_labels = list(fh.read(10))
    assert (magic, n) == (0x0801, 60000)
    assert labels[:10].tolist() == first_labels


@needs_debian
def test_load_flat(test_split, real_data_only):
    images, labels = test_split
    X, Y, y = data.load_flat("fashion-mnist", "test", n=100)
    assert X.shape == (100, 784) and X.dtype == np.float64
    assert X.min() >= 0.0 and X.max() <= 1.0
    np.testing.assert_array_equal(np.rint(X * 255).astype(np.uint8), images[:100].reshape(100, -1))
    assert Y.shape == (100, 10)
    assert set(np.unique(Y)) <= {0.0, 1.0} and np.all(Y.sum(axis=1) == 1)
    np.testing.assert_array_equal(Y.argmax(axis=1), labels[:100])
    np.testing.assert_array_equal(y, labels[:100])


def test_bad_split_name():
    with pytest.raises(ValueError, match="split"):
        data.load("fashion-mnist", "validation")


# ---------------------------------------------------------------- search order and missing data


@pytest.fixture
def no_data(monkeypatch, tmp_path):
    """No Debian folder, empty cache, no COURSE_DATA_DIR, and no network access."""
    datasets = {k: dict(v) for k, v in data.DATASETS.items()}
    datasets["fashion-mnist"]["debian"] = None
    monkeypatch.setattr(data, "DATASETS", datasets)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)

    def no_download(*args, **kwargs):
        raise AssertionError("load() must never download")

    monkeypatch.setattr(data.urllib.request, "urlretrieve", no_download)
    monkeypatch.setattr(data.urllib.request, "urlopen", no_download)
    root = tmp_path / "empty"
    root.mkdir()
    return root


def test_missing_data_says_how_to_get_it(no_data, tmp_path):
    with pytest.raises(DataError) as info:
        data.load("fashion-mnist", "train", root=no_data)
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz of fashion-mnist not found" in msg
    assert str(no_data) in msg  # searched the root
    assert str(tmp_path / "cache" / "course_utils" / "fashion-mnist") in msg  # and the cache
    assert "make data" in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "python -m course_utils.data download fashion-mnist" in msg
    assert not (tmp_path / "cache").exists()  # nothing was created or fetched


def test_missing_mnist_says_how_to_get_it(no_data):
    with pytest.raises(DataError, match="python -m course_utils.data download mnist"):
        data.load_flat("mnist", "test", n=10, root=no_data)


def test_data_dirs_order(no_data, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "shared"))
    monkeypatch.setitem(data.DATASETS["fashion-mnist"], "debian", "/deb/fm")
    assert data.data_dirs("fashion-mnist", root=no_data) == [
        no_data,
        tmp_path / "shared" / "fashion-mnist",
        Path("/deb/fm"),
        tmp_path / "cache" / "course_utils" / "fashion-mnist",
    ]


def test_root_is_searched_first_and_plain_files_are_found(no_data):
    # a bad uncompressed file in root must be the one read (before Debian/cache)
    bad = write(no_data / "train-images-idx3-ubyte", idx_bytes(0x08, (60000, 28, 28), bytes(10)))
    with pytest.raises(DataError, match="truncated") as info:
        data.load("fashion-mnist", "train", root=no_data)
    assert str(bad) in str(info.value)


def test_course_data_dir_is_used(no_data, monkeypatch, tmp_path):
    shared = tmp_path / "shared" / "fashion-mnist"
    shared.mkdir(parents=True)
    bad = write(shared / "t10k-images-idx3-ubyte.gz", b"not an idx file")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "shared"))
    with pytest.raises(DataError, match="not an IDX file") as info:
        data.load("fashion-mnist", "test")
    assert str(bad) in str(info.value)


def test_wrong_shapes_rejected(no_data):
    # well-formed IDX files, but not 10000 28x28 images
    write(no_data / "t10k-images-idx3-ubyte", idx_bytes(0x08, (2, 28, 28), bytes(2 * 784)))
    write(no_data / "t10k-labels-idx1-ubyte", idx_bytes(0x08, (2,), bytes([1, 2])))
    with pytest.raises(DataError, match=r"N=10000.*\(2, 28, 28\)"):
        data.load("fashion-mnist", "test", root=no_data)
