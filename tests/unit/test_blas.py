"""course_utils.blas: setting and restoring the BLAS thread count."""

from course_utils import blas


def test_numpy_blas_is_found():
    assert blas.get_threads() is not None, "threadpoolctl found no BLAS library loaded by NumPy"


def test_threads_can_be_limited_and_restored():
    before = blas.get_threads()
    with blas.blas_threads(1):
        assert blas.get_threads() == 1
    assert blas.get_threads() == before


def test_set_threads_persists():
    before = blas.get_threads()
    try:
        blas.set_threads(1)
        assert blas.get_threads() == 1
    finally:
        blas.set_threads(before)
    assert blas.get_threads() == before
