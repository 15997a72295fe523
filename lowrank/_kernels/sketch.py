"""Kernels for the sketching operators: blocked fast Walsh-Hadamard transform and
sparse-sign apply / adjoint.
"""

import numpy as np
from numba import njit, prange

# Bytes of one cache-resident tile (L2-sized on current x86 cores).
_TILE_BYTES = 1 << 18


@njit(cache=True, inline="always")
def _butterfly(X, i, j):
    for c in range(X.shape[1]):
        u = X[i, c]
        v = X[j, c]
        X[i, c] = u + v
        X[j, c] = u - v


@njit(cache=True, parallel=True)
def fwht_rows(X, block_rows):
    """In-place unnormalized Walsh-Hadamard transform of the rows of ``X`` (N x b).

    ``N`` and ``block_rows`` are powers of two.  Stages with span below ``block_rows``
    run tile by tile (each tile stays in cache); the remaining stages run on groups of
    row offsets, so the whole transform makes about two passes over memory.
    """
    n = X.shape[0]
    b = max(X.shape[1], 1)
    n_tiles = n // block_rows
    for t in prange(n_tiles):
        base = t * block_rows
        h = 1
        while h < block_rows:
            for s in range(base, base + block_rows, 2 * h):
                for i in range(s, s + h):
                    _butterfly(X, i, i + h)
            h *= 2
    if n_tiles == 1:
        return
    # Remaining stages act on the tile index q for each offset o: row = q*block_rows + o.
    fit = max(1, min(block_rows, (_TILE_BYTES // 8) // (b * n_tiles)))
    group = 1
    while group * 2 <= fit:
        group *= 2
    n_groups = block_rows // group
    for g in prange(n_groups):
        o0 = g * group
        h = 1
        while h < n_tiles:
            for s in range(0, n_tiles, 2 * h):
                for q in range(s, s + h):
                    top = q * block_rows
                    bot = (q + h) * block_rows
                    for o in range(o0, o0 + group):
                        _butterfly(X, top + o, bot + o)
            h *= 2


@njit(cache=True, parallel=True)
def sparse_sign_apply_rows(rows, signs, A, m, col_block):
    """Y = S @ A for a C-ordered ``A`` (n x d); S has ``rows[j]``/``signs[j]`` in column j.

    Parallel over blocks of ``col_block`` columns: each block owns its slice of Y, so
    the sums run in the same order for any number of threads.
    """
    n, d = A.shape
    k = rows.shape[1]
    Y = np.zeros((m, d), dtype=A.dtype)
    n_blocks = (d + col_block - 1) // col_block
    for blk in prange(n_blocks):
        c0 = blk * col_block
        c1 = min(d, c0 + col_block)
        for j in range(n):
            a = A[j, c0:c1]
            for l in range(k):
                s = signs[j, l]
                y = Y[rows[j, l], c0:c1]
                for c in range(c1 - c0):
                    y[c] += s * a[c]
    return Y


@njit(cache=True, parallel=True)
def sparse_sign_apply_cols(rows, signs, AT, m):
    """Y^T = (S @ A)^T for ``AT = A.T`` C-ordered (d x n): one column of A per task."""
    d, n = AT.shape
    k = rows.shape[1]
    YT = np.zeros((d, m), dtype=AT.dtype)
    for c in prange(d):
        y = YT[c]
        a = AT[c]
        for j in range(n):
            for l in range(k):
                y[rows[j, l]] += signs[j, l] * a[j]
    return YT


@njit(cache=True, parallel=True)
def sparse_sign_adjoint(rows, signs, Y, n_row_blocks):
    """X = S^T @ Y (n x d) for a C-ordered ``Y`` (m x d); a gather, parallel over row blocks."""
    n, k = rows.shape
    d = Y.shape[1]
    X = np.zeros((n, d), dtype=Y.dtype)
    size = (n + n_row_blocks - 1) // n_row_blocks
    for blk in prange(n_row_blocks):
        for j in range(blk * size, min(n, (blk + 1) * size)):
            x = X[j]
            for l in range(k):
                s = signs[j, l]
                y = Y[rows[j, l]]
                for c in range(d):
                    x[c] += s * y[c]
    return X


@njit(cache=True)
def distinct_rows(u, m):
    """Row indices of a sparse sign sketch: for each of the n columns, k distinct rows of
    ``range(m)`` drawn by Floyd's algorithm from the uniforms ``u`` (n x k, in [0, 1)).

    Floyd's algorithm yields every k-subset with equal probability and needs exactly k
    uniforms per column, so the result is a pure function of ``u``.
    """
    n, k = u.shape
    rows = np.empty((n, k), dtype=np.int32)
    for i in range(n):
        for t in range(k):
            top = m - k + t  # choose from range(top + 1)
            r = min(int(u[i, t] * (top + 1)), top)
            for s in range(t):
                if rows[i, s] == r:
                    r = top
                    break
            rows[i, t] = r
    return rows
