"""Kernels for the least-squares solvers: the gradient A^T (b - A x) in one pass."""

import numpy as np
from numba import njit, prange

# Independent partial sums in the row dot product: without fastmath LLVM keeps the
# order of a single running sum, so eight accumulators are what lets it vectorize.
_LANES = 8


@njit(cache=True, parallel=True)
def residual_gradient(A, b, x, block_rows):
    """Return ``(A^T (b - A x), ||b - A x||^2)`` reading the C-ordered ``A`` once.

    Each block of ``block_rows`` rows computes its residual entries and its share of the
    gradient while the rows are in cache; the block sums are added in block order, so
    the result does not depend on the number of threads.  Summing by blocks also keeps
    the rounding error of the n-term sums near sqrt(block_rows) u instead of sqrt(n) u.
    """
    n, d = A.shape
    n_blocks = (n + block_rows - 1) // block_rows
    partial = np.zeros((n_blocks, d), dtype=A.dtype)
    partial_rr = np.zeros(n_blocks, dtype=A.dtype)
    d_lanes = d - d % _LANES
    for blk in prange(n_blocks):
        g = partial[blk]
        rr = A.dtype.type(0.0)
        acc = np.zeros(_LANES, dtype=A.dtype)
        for i in range(blk * block_rows, min(n, (blk + 1) * block_rows)):
            a = A[i]
            acc[:] = 0.0
            for j in range(0, d_lanes, _LANES):
                for t in range(_LANES):
                    acc[t] += a[j + t] * x[j + t]
            s = acc.sum()
            for j in range(d_lanes, d):
                s += a[j] * x[j]
            r = b[i] - s
            rr += r * r
            for j in range(d):
                g[j] += r * a[j]
        partial_rr[blk] = rr
    g = np.zeros(d, dtype=A.dtype)
    rr = A.dtype.type(0.0)
    for blk in range(n_blocks):
        g += partial[blk]
        rr += partial_rr[blk]
    return g, rr


@njit(cache=True, parallel=True)
def transpose_times(A, u, block_rows):
    """``A^T u`` for a C-ordered ``A``, summed block by block (fixed blocks of
    ``block_rows`` rows, added in order): thread-count independent, and with rounding
    error growing like sqrt(block_rows) rather than sqrt(n)."""
    n, d = A.shape
    n_blocks = (n + block_rows - 1) // block_rows
    partial = np.zeros((n_blocks, d), dtype=A.dtype)
    for blk in prange(n_blocks):
        g = partial[blk]
        for i in range(blk * block_rows, min(n, (blk + 1) * block_rows)):
            a = A[i]
            ui = u[i]
            for j in range(d):
                g[j] += ui * a[j]
    g = np.zeros(d, dtype=A.dtype)
    for blk in range(n_blocks):
        g += partial[blk]
    return g
