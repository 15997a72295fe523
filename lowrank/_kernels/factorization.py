"""Numba kernels of :mod:`lowrank.factorization`.

One block per algorithm; each block's functions are used by that algorithm's driver only.
"""

import math

import numpy as np
from numba import njit, prange

__all__ = ["rejection_cholesky", "symmetry_gap"]


# ---------------------------------------------------------------------------------------
# Randomly pivoted Cholesky (``lowrank/factorization/_rpcholesky.py``): the rejection step
# of the accelerated block variant (Epperly, Tropp and Webber, "Embrace rejection").
# ---------------------------------------------------------------------------------------


@njit(cache=True)
def rejection_cholesky(H, candidates, uniforms, floor):
    """Accept or reject one block of RPCholesky candidates, in order.

    ``H`` (``b x b``, float64) is the residual matrix ``A - G^T G`` on the candidates
    ``candidates`` (indices into ``A``, repeats allowed), drawn with probability
    proportional to the residual diagonal ``diag(H)``.  Candidate ``j`` is accepted with
    probability ``r_j / H[j, j]``, where ``r_j`` is its residual diagonal in the Schur
    complement of the candidates accepted before it, i.e. when ``uniforms[j] * H[j, j]
    < r_j``; a repeat of an accepted index (``r_j = 0`` exactly) and a candidate with
    ``r_j <= floor[j]`` (rounding level) are rejected.

    The Schur complement is never formed: each candidate's row of the Cholesky factor
    against the accepted pivots is found by forward substitution (``O(m^2)`` for ``m``
    accepted so far), so the block costs ``O(b m^2)`` instead of ``O(b^2 m)``.

    Returns ``(accepted, L)``: the accepted positions in the block (increasing) and the
    lower-triangular ``L`` (``m x m``) with ``H[accepted][:, accepted] = L L^T``.
    """
    b = H.shape[0]
    rows = np.zeros((b, b))        # row j: candidate j's coefficients on the pivots
    accepted = np.empty(b, dtype=np.int64)
    m = 0
    for j in range(b):
        repeat = False
        for q in range(m):
            if candidates[accepted[q]] == candidates[j]:
                repeat = True
                break
        if repeat:
            continue
        for q in range(m):
            i = accepted[q]
            value = H[j, i]
            for p in range(q):
                value -= rows[j, p] * rows[i, p]
            rows[j, q] = value / rows[i, q]
        residual = H[j, j]
        for p in range(m):
            residual -= rows[j, p] * rows[j, p]
        if residual > floor[j] and uniforms[j] * H[j, j] < residual:
            rows[j, m] = math.sqrt(residual)
            accepted[m] = j
            m += 1
    L = np.zeros((m, m))
    for q in range(m):
        for p in range(q + 1):
            L[q, p] = rows[accepted[q], p]
    return accepted[:m].copy(), L


# ---------------------------------------------------------------------------------------
# Randomly pivoted Cholesky: the symmetry check of a formed matrix, in one pass.
# ---------------------------------------------------------------------------------------


@njit(cache=True, parallel=True)
def symmetry_gap(A, tile):
    """``(||A||_F^2, ||A - A^T||_F^2)`` of a square ``A``, in float64.

    One pass over the ``tile x tile`` blocks on and above the diagonal, each read with
    its mirror block (both fit in cache).  A row of tiles is one parallel task and the
    per-row sums are added in order, so the result does not depend on the thread count.
    NaN or inf in ``A`` make the first sum non-finite.
    """
    n = A.shape[0]
    n_rows = (n + tile - 1) // tile
    norms = np.zeros(n_rows)
    gaps = np.zeros(n_rows)
    for row in prange(n_rows):
        i0 = row * tile
        i1 = min(n, i0 + tile)
        norm = 0.0
        gap = 0.0
        for j0 in range(i0, n, tile):
            j1 = min(n, j0 + tile)
            for i in range(i0, i1):
                for j in range(max(i, j0), j1):
                    a = np.float64(A[i, j])
                    if i == j:
                        norm += a * a
                    else:
                        b = np.float64(A[j, i])
                        norm += a * a + b * b
                        gap += 2.0 * (a - b) * (a - b)
        norms[row] = norm
        gaps[row] = gap
    return norms.sum(), gaps.sum()
