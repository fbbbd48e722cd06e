"""Image data sets in IDX format (MNIST, Fashion-MNIST), offline first.

Where the files are looked for, in order:

1. the ``root`` argument, then ``$COURSE_DATA_DIR/<name>``;
2. Debian's packages: ``/usr/share/datasets/fashion-mnist`` (``apt-get install
   dataset-fashion-mnist``);
3. the user cache ``~/.cache/course_utils/<name>``, filled only on request by
   ``python -m course_utils.data download <name>`` (never at import or load time).

Loaders check the IDX header, the file size, the shapes and the label range,
and fail with a message that says which file is wrong and how to get a good one.
"""

import gzip
import os
import sys
import urllib.request
from pathlib import Path

import numpy as np

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

DATASETS = {
    "fashion-mnist": {
        "debian": "/usr/share/datasets/fashion-mnist",
        "url": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    },
    "mnist": {
        "debian": None,
        "url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    },
}
SPLIT_SIZES = {"train": 60000, "test": 10000}
_PREFIX = {"train": "train", "test": "t10k"}


class DataError(RuntimeError):
    """A data file is missing or malformed; the message says how to fix it."""


def read_idx(path):
    """Read one IDX file (optionally .gz) into an array of the shape in its header."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    offset = 4 + 4 * ndim
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(
            f"{path} is truncated or padded: header says shape {shape} ({expected} bytes), file has {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=offset).reshape(shape)


def data_dirs(name, root=None):
    """Folders searched for ``name``, in order (see module docstring)."""
    dirs = [Path(root)] if root else []
    if os.environ.get("COURSE_DATA_DIR"):
        dirs.append(Path(os.environ["COURSE_DATA_DIR"]) / name)
    if DATASETS[name]["debian"]:
        dirs.append(Path(DATASETS[name]["debian"]))
    dirs.append(cache_dir(name))
    return dirs


def search_roots():
    """Folders under which any data set may be found (made readable to sandboxed notebooks)."""
    roots = [Path(info["debian"]).parent for info in DATASETS.values() if info["debian"]]
    if os.environ.get("COURSE_DATA_DIR"):
        roots.append(Path(os.environ["COURSE_DATA_DIR"]))
    return list(dict.fromkeys(roots + [cache_dir("any").parent]))


def cache_dir(name):
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "course_utils" / name


def _find(name, filename, root):
    for folder in data_dirs(name, root):
        for candidate in (folder / filename, folder / filename.removesuffix(".gz")):
            if candidate.exists():
                return candidate
    searched = ", ".join(str(d) for d in data_dirs(name, root))
    raise DataError(
        f"{filename} of {name} not found (searched {searched}). Get it with "
        f"'make data', 'apt-get install dataset-fashion-mnist' (Fashion-MNIST), or "
        f"'python -m course_utils.data download {name}' (needs the internet)."
    )


def load(name="fashion-mnist", split="train", root=None):
    """Images and labels of one split.

    Returns (images uint8 (N, 28, 28), labels uint8 (N,)) with N = 60000
    (train) or 10000 (test); raises DataError on anything unexpected.
    """
    if split not in SPLIT_SIZES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    images = read_idx(_find(name, f"{_PREFIX[split]}-images-idx3-ubyte.gz", root))
    labels = read_idx(_find(name, f"{_PREFIX[split]}-labels-idx1-ubyte.gz", root))
    n = SPLIT_SIZES[split]
    if images.shape != (n, 28, 28) or labels.shape != (n,):
        raise DataError(
            f"{name}/{split}: expected images (N, 28, 28) and labels (N,) with N={n}, "
            f"got {images.shape} and {labels.shape}"
        )
    if labels.max() > 9:
        raise DataError(f"{name}/{split}: labels must be 0..9, found {labels.max()}")
    return images, labels


def load_flat(name="fashion-mnist", split="train", n=None, root=None):
    """Images scaled to [0, 1] and flattened, with one-hot labels.

    Returns X float64 (n, 784), Y float64 (n, 10), labels int (n,): the first
    n examples of the split (all when n is None).
    """
    images, labels = load(name, split, root)
    images, labels = images[:n], labels[:n].astype(int)
    return images.reshape(len(images), -1) / 255.0, np.eye(10)[labels], labels


def download(name, dest=None):
    """Fetch the four IDX files of ``name`` into the cache and check them (explicit, online only)."""
    spec = DATASETS[name]
    dest = Path(dest) if dest else cache_dir(name)
    dest.mkdir(parents=True, exist_ok=True)
    for split in SPLIT_SIZES:
        for kind in ("images-idx3", "labels-idx1"):
            filename = f"{_PREFIX[split]}-{kind}-ubyte.gz"
            if not (dest / filename).exists():
                print(f"downloading {spec['url'] + filename}")
                urllib.request.urlretrieve(spec["url"] + filename, dest / filename)
        load(name, split, root=dest)  # header, size and shape checks
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "download" or sys.argv[2] not in DATASETS:
        sys.exit(f"usage: python -m course_utils.data download {{{','.join(DATASETS)}}}")
    print(f"saved to {download(sys.argv[2])}")
