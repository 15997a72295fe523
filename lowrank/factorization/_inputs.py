"""Input checks shared by the pairwise factorizations (private)."""

import math

import numpy as np

from .._backend import host_dtype, is_numpy_namespace
from .._rng import check_rng
from .._validation import check_int, check_matrix, check_option, check_real
from ._pairwise import PIVOTING

__all__ = ["check_options", "dense_matrix", "symmetric_matrix"]

# Sweeps allowed when ``maxiter`` is None.
DEFAULT_SWEEPS = 100


def dense_matrix(A, check_finite):
    """A dense 2-D host array of float32/float64 (a copy the kernels may overwrite;
    two-sided kernels update rows, so it is C-ordered, and one-sided drivers turn it to
    Fortran order)."""
    A, xp = check_matrix(A, "A", allow_sparse=False, check_finite=check_finite)
    if not is_numpy_namespace(xp):
        raise TypeError(f"`A` must be a NumPy array; got an array of {xp.__name__} (the "
                        f"pairwise factorizations run on the CPU).")
    return np.array(A, order="C", copy=True)


def symmetric_matrix(A, check_finite):
    """A square, symmetric (to ``sqrt(eps)`` relative) host array, symmetrized exactly."""
    A = dense_matrix(A, check_finite)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"`A` must be square; got shape {A.shape}.")
    scale = float(np.linalg.norm(A))
    gap = float(np.linalg.norm(A - A.T)) / scale if scale > 0 else 0.0
    limit = math.sqrt(float(np.finfo(A.dtype).eps))
    if gap > limit:
        raise ValueError(f"`A` must be symmetric: ||A - A.T||_F / ||A||_F = {gap:.3g} > "
                         f"{limit:.3g}.")
    return np.ascontiguousarray((A + A.T) / 2)


def check_options(pivoting, tol, maxiter, rng, dtype, size, *, options=PIVOTING):
    """Validated ``(pivoting, tol, max_sweeps, rng)``; ``tol=None`` is ``size * eps``."""
    check_option(pivoting, "pivoting", options)
    eps = float(np.finfo(host_dtype(dtype)).eps)
    tol = size * eps if tol is None else check_real(tol, "tol", low=0.0, high=1.0,
                                                    high_open=True)
    sweeps = DEFAULT_SWEEPS if maxiter is None else check_int(maxiter, "maxiter", low=1)
    return pivoting, tol, sweeps, check_rng(rng)
