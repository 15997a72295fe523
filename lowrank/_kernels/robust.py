"""Numba kernels of the sub-gradient method for robust recovery (private).

Entry measurements ``y_k ~ X[rows[k], cols[k]]`` of a factored ``X = U V^T``: the residual
at the observed entries in one pass, split into fixed blocks of entries; and, when every
entry is observed (robust PCA), the sign of a dense residual in place.  Partial sums are
added in a fixed order, so results do not depend on the number of threads.
"""

import numpy as np
from numba import njit, prange

# Entries per parallel task.
_BLOCK = 4096


@njit(cache=True, parallel=True)
def entry_residual(rows, cols, U, V, y, out):
    """``out[k] = U[rows[k]] . V[cols[k]] - y[k]``; returns ``sum_k |out[k]|`` (block
    sums added in block order)."""
    n = rows.shape[0]
    r = U.shape[1]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    partial = np.zeros(n_blocks)
    for blk in prange(n_blocks):
        total = 0.0
        for k in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            u = U[rows[k]]
            v = V[cols[k]]
            s = 0.0
            for t in range(r):
                s += u[t] * v[t]
            out[k] = s - y[k]
            total += abs(out[k])
        partial[blk] = total
    return partial.sum()


@njit(cache=True, parallel=True)
def dense_sign_residual(D, Y):
    """Overwrite ``D`` with ``sign(D - Y)`` (row-major ``d1 x d2`` arrays); return
    ``sum |D - Y|`` (row sums added in row order)."""
    n1, n2 = D.shape
    partial = np.zeros(n1)
    for i in prange(n1):
        total = 0.0
        for j in range(n2):
            e = D[i, j] - Y[i, j]
            total += abs(e)
            D[i, j] = (e > 0.0) - (e < 0.0)
        partial[i] = total
    return partial.sum()
