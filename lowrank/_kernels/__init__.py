"""Numba kernels (private), one module per family plus :mod:`.linalg` (shared).

Every kernel is ``@njit(cache=True)``, takes arrays and scalars only, and never uses
``fastmath`` (except ``reassoc``/``contract`` on the reductions of :mod:`.pairwise`, which
keep NaN semantics) or Numba's global random state.  ``parallel=True`` kernels split work into
blocks whose number depends on the problem size, never on the thread count, so results
are bitwise identical for any ``NUMBA_NUM_THREADS``.

Drivers get a kernel module through :func:`load` at the point of use, never by a
module-level import: importing Numba costs about 0.5 s, and ``import lowrank`` must stay
cheap (``tests/test_public_api.py`` checks that no kernel module is imported with it).
"""

import importlib

from .. import _threads  # noqa: F401  (sets OMP_WAIT_POLICY before Numba loads OpenMP)

__all__ = ["load"]


def load(name: str):
    """The kernel module ``lowrank._kernels.<name>`` (imported, hence Numba, on first use)."""
    return importlib.import_module(f"{__name__}.{name}")
