"""Thread control around the Numba kernels and BLAS (private).

Numba's OpenMP threading layer (GNU libgomp) keeps its worker threads spinning after each
parallel region by default; on a machine with few cores they then take the cores from
OpenBLAS's threads, and BLAS/LAPACK calls made right after a kernel ran up to 30% slower
in our measurements (``scipy.linalg.lstsq`` on 2^17 x 256, 2 cores).  Unless the user has
chosen otherwise, lowrank therefore asks OpenMP to let idle threads sleep
(``OMP_WAIT_POLICY=PASSIVE``); the variable only takes effect if no OpenMP runtime was
loaded before lowrank was imported.

Results never depend on these settings: every kernel splits its work into the same blocks
whatever the thread count.
"""

import contextlib
import os

from threadpoolctl import ThreadpoolController

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = ["blas_single_threaded", "single_threaded", "threads_for"]

# Below this many element operations a parallel kernel runs on one thread.
_SERIAL_WORK = 1 << 20


@contextlib.contextmanager
def _numba_threads(count):
    import numba  # here, not at the top: importing Numba must not slow ``import lowrank``

    saved = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield
    finally:
        numba.set_num_threads(saved)


def threads_for(work: int):
    """Context manager: Numba parallel kernels on one thread when ``work`` (about the
    number of element operations) is small.

    Waking worker threads costs far more than a small kernel when the cores are busy
    (BLAS threads, other processes).
    """
    return _numba_threads(1) if work < _SERIAL_WORK else contextlib.nullcontext()


_controller = None


def blas_single_threaded():
    """Context manager: BLAS on one thread (threadpoolctl).

    Between Numba kernels, waking BLAS threads next to Numba's costs more than they save
    (17x in the completion review); around small products between large ones, it keeps
    the BLAS that NumPy and SciPy each bundle from spinning against each other.  The
    libraries are found once (about 1.5 ms), then limiting costs about 40 us.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


@contextlib.contextmanager
def single_threaded():
    """Numba kernels and BLAS both on one thread (timing studies, nested parallelism)."""
    with _numba_threads(1), blas_single_threaded():
        yield
