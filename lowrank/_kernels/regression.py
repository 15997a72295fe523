"""Kernels for the least-squares solvers: the gradient A^T (B - A X) in one pass over A,
and A^T U, for a block of right-hand sides (one column each; k = 1 for a vector).

The blocks of right-hand sides come transposed (``XT``, k x d; results ``GT``, k x d)
so that every inner loop runs along a contiguous row of A.
"""

import numpy as np
from numba import njit, prange

# Independent partial sums in the row dot product: without fastmath LLVM keeps the
# order of a single running sum, so eight accumulators are what lets it vectorize.
_LANES = 8


@njit(cache=True, parallel=True)
def residual_gradient(A, B, XT, block_rows):
    """Return ``(GT, rr)``: ``GT = (A^T (B - A X))^T`` (k x d) and the squared column
    norms ``rr`` of ``B - A X``, reading the C-ordered ``A`` once for all k columns.

    Each block of ``block_rows`` rows computes its residual entries and its share of the
    gradient while the rows are in cache; the block sums are added in block order, so
    the result does not depend on the number of threads.  Summing by blocks also keeps
    the rounding error of the n-term sums near sqrt(block_rows) u instead of sqrt(n) u.
    """
    n, d = A.shape
    k = XT.shape[0]
    n_blocks = (n + block_rows - 1) // block_rows
    partial = np.zeros((n_blocks, k, d), dtype=A.dtype)
    partial_rr = np.zeros((n_blocks, k), dtype=A.dtype)
    d_lanes = d - d % _LANES
    for blk in prange(n_blocks):
        GT = partial[blk]
        rr = partial_rr[blk]
        acc = np.zeros(_LANES, dtype=A.dtype)
        r = np.zeros(k, dtype=A.dtype)
        for i in range(blk * block_rows, min(n, (blk + 1) * block_rows)):
            a = A[i]
            for c in range(k):
                x = XT[c]
                acc[:] = 0.0
                for j in range(0, d_lanes, _LANES):
                    for t in range(_LANES):
                        acc[t] += a[j + t] * x[j + t]
                s = acc.sum()
                for j in range(d_lanes, d):
                    s += a[j] * x[j]
                r[c] = B[i, c] - s
                rr[c] += r[c] * r[c]
            for c in range(k):
                g = GT[c]
                rc = r[c]
                for j in range(d):
                    g[j] += rc * a[j]
    GT = np.zeros((k, d), dtype=A.dtype)
    rr = np.zeros(k, dtype=A.dtype)
    for blk in range(n_blocks):
        GT += partial[blk]
        rr += partial_rr[blk]
    return GT, rr


@njit(cache=True, parallel=True)
def transpose_times(A, U, block_rows):
    """``(A^T U)^T`` (k x d) for a C-ordered ``A`` and a block ``U`` (n x k), summed
    block by block (fixed blocks of ``block_rows`` rows, added in order): thread-count
    independent, and with rounding error growing like sqrt(block_rows) rather than
    sqrt(n)."""
    n, d = A.shape
    k = U.shape[1]
    n_blocks = (n + block_rows - 1) // block_rows
    partial = np.zeros((n_blocks, k, d), dtype=A.dtype)
    for blk in prange(n_blocks):
        GT = partial[blk]
        for i in range(blk * block_rows, min(n, (blk + 1) * block_rows)):
            a = A[i]
            for c in range(k):
                g = GT[c]
                uc = U[i, c]
                for j in range(d):
                    g[j] += uc * a[j]
    GT = np.zeros((k, d), dtype=A.dtype)
    for blk in range(n_blocks):
        GT += partial[blk]
    return GT
