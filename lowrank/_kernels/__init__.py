"""Numba kernels (private).

Every kernel is ``@njit(cache=True)``, takes arrays and scalars only, and never uses
``fastmath`` or Numba's global random state.  ``parallel=True`` kernels split work into
blocks whose number depends on the problem size, never on the thread count, so results
are bitwise identical for any ``NUMBA_NUM_THREADS``.  Nothing here is compiled at import
time of :mod:`lowrank`: the family modules import these lazily on first use.
"""
