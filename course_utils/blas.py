"""How many threads NumPy's BLAS uses, for small-batch training loops (via threadpoolctl).

Small matrix products (a mini-batch of 100 images times a 784 x 30 matrix) gain little from a
second BLAS thread, and on a busy machine (other kernels, graders) OpenBLAS's spinning worker
threads can make each product 10x slower. Training loops of the course therefore run with one
BLAS thread; big products (the GEMM-peak benchmark) keep the default.

``benchmarks/ps2_autoencoder.py`` measures the difference. Without a BLAS that threadpoolctl
knows, the functions do nothing and ``get_threads()`` returns None.
"""

import numpy  # noqa: F401  (loads the BLAS library that threadpoolctl finds and controls)
from threadpoolctl import ThreadpoolController

_controller = ThreadpoolController()


def get_threads():
    """Threads the BLAS uses now, or None if no BLAS library is found."""
    blas = [info for info in _controller.info() if info["user_api"] == "blas"]
    return blas[0]["num_threads"] if blas else None


def set_threads(n):
    """Use ``n`` BLAS threads from now on."""
    _controller.limit(limits=int(n), user_api="blas")


def blas_threads(n):
    """``with blas_threads(1): ...`` runs the block with n BLAS threads, then restores."""
    return _controller.limit(limits=int(n), user_api="blas")
