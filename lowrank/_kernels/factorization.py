"""Numba kernels of :mod:`lowrank.factorization`.

One block per algorithm; each block's functions are used by that algorithm's driver only.
"""

import math

import numpy as np
from numba import njit

__all__ = ["rejection_cholesky"]


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
