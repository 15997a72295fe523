"""Numba kernels of the sub-gradient method for robust recovery (private).

Entry measurements ``y_k ~ X[rows[k], cols[k]]`` of a factored ``X = U V^T``: the residual
at the observed entries in one pass, split into fixed blocks of entries (results do not
depend on the number of threads).
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
