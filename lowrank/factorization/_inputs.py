"""Input checks shared by the pairwise factorizations (private)."""

import math

import numpy as np

from .._backend import host_dtype, is_numpy_namespace, to_host
from .._rng import check_rng
from .._validation import check_int, check_matrix, check_option, check_real
from ._pairwise import PIVOTING

__all__ = ["check_options", "dense_matrix", "matrix_stack", "symmetric_matrix"]

# Sweeps allowed when ``maxiter`` is None.
DEFAULT_SWEEPS = 100


def dense_matrix(A, check_finite):
    """A dense 2-D host array of float32/float64 (a copy the kernels may overwrite;
    two-sided kernels update rows, so it is C-ordered, and one-sided drivers turn it to
    Fortran order)."""
    A, xp = check_matrix(A, "A", allow_sparse=False, check_finite=check_finite)
    if not is_numpy_namespace(xp):
        raise TypeError(f"`A` must be a NumPy array; got an array of {xp.__name__} (this "
                        f"factorization runs on the CPU; jacobi_eigh and jacobi_svd take "
                        f"other namespaces).")
    return np.array(A, order="C", copy=True)


def symmetric_matrix(A, check_finite):
    """A square, symmetric (to ``sqrt(eps)`` relative) host array, symmetrized exactly."""
    A = dense_matrix(A, check_finite)
    return np.ascontiguousarray(_symmetrized(np, A[None, :, :])[0])


def matrix_stack(A, check_finite, *, symmetric):
    """``(stack, xp, single)``: ``A`` as a ``(batch, m, n)`` array of its namespace
    (``single`` when ``A`` was one 2-D matrix), square and symmetric (to ``sqrt(eps)``
    relative per matrix, then symmetrized exactly) when ``symmetric``."""
    A, xp = check_matrix(A, "A", allow_sparse=False, check_finite=check_finite,
                         ndim=(2, 3))
    single = A.ndim == 2
    if single:
        A = xp.reshape(A, (1, *A.shape))
    return (_symmetrized(xp, A) if symmetric else A), xp, single


def _symmetrized(xp, A):
    """The stack ``A`` of square matrices, checked symmetric to ``sqrt(eps)`` relative
    per matrix, as ``(A + A^T) / 2``."""
    if A.shape[1] != A.shape[2]:
        shape = tuple(A.shape[1:] if A.shape[0] == 1 else A.shape)
        raise ValueError(f"`A` must be square; got shape {shape}.")
    At = xp.matrix_transpose(A)
    scale = xp.sqrt(xp.sum(A * A, axis=(1, 2)))
    gap = xp.sqrt(xp.sum((A - At) ** 2, axis=(1, 2)))
    ratio = np.asarray(to_host(gap / xp.where(scale > 0, scale, xp.ones_like(scale))),
                       dtype=np.float64)
    limit = math.sqrt(float(np.finfo(host_dtype(A.dtype)).eps))
    if np.any(ratio > limit):
        k = int(np.argmax(ratio))
        which = "" if A.shape[0] == 1 else f" (matrix {k} of the stack)"
        raise ValueError(f"`A` must be symmetric: ||A - A.T||_F / ||A||_F = "
                         f"{ratio[k]:.3g} > {limit:.3g}{which}.")
    return (A + At) / 2


def check_options(pivoting, tol, maxiter, rng, dtype, size, *, options=PIVOTING):
    """Validated ``(pivoting, tol, max_sweeps, rng)``; ``tol=None`` is ``size * eps``."""
    check_option(pivoting, "pivoting", options)
    eps = float(np.finfo(host_dtype(dtype)).eps)
    tol = size * eps if tol is None else check_real(tol, "tol", low=0.0, high=1.0,
                                                    high_open=True)
    sweeps = DEFAULT_SWEEPS if maxiter is None else check_int(maxiter, "maxiter", low=1)
    return pivoting, tol, sweeps, check_rng(rng)
