"""Numba kernels (private).

Every kernel is ``@njit(cache=True)``, takes arrays and scalars only, and never uses
``fastmath`` or Numba's global random state.  ``parallel=True`` kernels split work into
blocks whose number depends on the problem size, never on the thread count, so results
are bitwise identical for any ``NUMBA_NUM_THREADS``.  Nothing here is compiled at import
time of :mod:`lowrank`: the family modules import these lazily on first use.

Numba's OpenMP threading layer (GNU libgomp) keeps its worker threads spinning after each
parallel region by default; on a machine with few cores they then take the cores from
OpenBLAS's threads, and BLAS/LAPACK calls made right after a kernel ran up to 30% slower
in our measurements (``scipy.linalg.lstsq`` on 2^17 x 256, 2 cores).  Unless the user has
chosen otherwise, lowrank therefore asks OpenMP to let idle threads sleep
(``OMP_WAIT_POLICY=PASSIVE``); the variable only takes effect if no OpenMP runtime was
loaded before lowrank was imported.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def threads_for(work: int):
    """Context manager: run Numba parallel kernels on one thread when ``work`` (about
    the number of element operations) is small.

    Waking worker threads costs far more than a small kernel when the cores are busy
    (BLAS threads, other processes); results do not change, since every kernel splits
    its work into the same blocks whatever the thread count.
    """
    return _SerialBelow(work)


_SERIAL_WORK = 1 << 20


class _SerialBelow:
    def __init__(self, work):
        self.serial = work < _SERIAL_WORK
        self.saved = None

    def __enter__(self):
        if self.serial:
            import numba

            self.saved = numba.get_num_threads()
            numba.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import numba

            numba.set_num_threads(self.saved)
        return False
