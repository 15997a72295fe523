"""Small dense linear-algebra kernels shared by several families (private)."""

import numpy as np
from numba import njit


@njit(cache=True)
def cholesky_upper(G):
    """Upper Cholesky factor R (G = R^T R) of a small symmetric positive definite ``G``.

    Right-looking, row-oriented updates (vectorizable).  Returns ``(R, ok)`` with
    ``ok = False`` at the first non-positive or non-finite pivot.  Used for d x d Gram
    matrices on the host, where it avoids waking BLAS threads for a millisecond of work
    (on a loaded 2-core machine that wake-up cost up to 100 ms in our measurements).
    """
    d = G.shape[0]
    R = np.zeros_like(G)
    W = G.copy()
    for k in range(d):
        pivot = W[k, k]
        if not pivot > 0.0 or not np.isfinite(pivot):
            return R, False
        rkk = np.sqrt(pivot)
        R[k, k] = rkk
        for j in range(k + 1, d):
            R[k, j] = W[k, j] / rkk
        for i in range(k + 1, d):
            rki = R[k, i]
            for j in range(i, d):
                W[i, j] -= rki * R[k, j]
    return R, True
