"""Numba kernel of the per-row sketch-preconditioned solve of robust AltMin (private).

Gu, Song, Yin and Zhang precondition each row's regression ``min ||F_O x - m_i||`` by a
subspace embedding of its own: ``R`` from a QR factorization of ``S F_O`` with ``S`` a
sketch of the row's observations, then CG on the normal equations preconditioned by
``R^T R``.  The sketch here is a sparse sign embedding (OSNAP with ``nnz`` blocks): the
``s`` sketch rows are split into ``nnz`` blocks and every observation is added, with a
random sign and weight ``1/sqrt(nnz)``, to one row of each block.  Its random numbers
come from a counter-based hash of ``(seed, row, draw)``, so the result does not depend
on the number of threads.
"""

import numpy as np
from numba import njit, prange

from .completion import (
    _BLOCK,
    _add_gram_times,
    _dot,
    _exact_row,
    _gather_and_residual,
    _longest_row,
)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def _mix(z):
    """SplitMix64's finalizer: a bijection of 64-bit integers that scrambles bits."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, parallel=True)
def solve_rows_sketch_pcg(ptr, idx, vals, F, lam_all, weighted, X, rtol, max_steps,
                          sketch_rows, sketch_nnz, seed, steps):
    """Per-row sketch-preconditioned CG, in place of ``X``.

    Solves ``(F_O^T F_O + lam I) x = F_O^T m_i`` (``lam = lam_all``, or
    ``lam_all |O_i|`` when ``weighted``) from ``x = X[i]``, preconditioned by
    ``R^T R`` with ``R`` the triangular factor of ``[S F_O; sqrt(lam) I]``, ``S`` a sparse
    sign sketch of ``sketch_nnz * (s // sketch_nnz)`` rows, ``s = min(sketch_rows,
    |O_i|)`` (``sketch_nnz`` nonzeros per observation; a row with at most
    ``sketch_rows`` observations is not compressed: ``S = I``).  CG stops when the
    preconditioned residual ``||R^-T r||`` is at most ``max(rtol ||R^-T r_0||,
    10 eps ||R^-T b||)``.  ``steps[i]`` is the number of CG steps, or the codes of
    :func:`~lowrank._kernels.completion.solve_rows_cg` for a row solved exactly: -1
    (-2 with a rescue ridge) from the start, when the sketch's distortion
    ``sqrt(k / s)`` per step predicts more than ``max_steps`` steps or ``R`` is
    numerically singular; -3 (-4) after CG reached ``max_steps`` or broke down.  Unlike
    :func:`~lowrank._kernels.completion.solve_rows_cg` there is no cost rule: every
    other row is solved by CG, as in the paper.
    """
    n_rows = ptr.shape[0] - 1
    k = F.shape[1]
    eps = np.finfo(F.dtype).eps
    P = np.eye(k, dtype=F.dtype)
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        first = blk * _BLOCK
        last = min(n_rows, first + _BLOCK)
        B = np.empty((_longest_row(ptr, first, last), k), dtype=F.dtype)
        H = np.empty((k, sketch_rows + k), dtype=F.dtype)  # (S F_O)^T, column-major QR
        G = np.empty((k, k), dtype=F.dtype)
        Z = np.empty((k, k), dtype=F.dtype)
        b = np.empty(k, dtype=F.dtype)
        r = np.empty(k, dtype=F.dtype)
        z = np.empty(k, dtype=F.dtype)
        d = np.empty(k, dtype=F.dtype)
        Ad = np.empty(k, dtype=F.dtype)
        for i in range(first, last):
            start = ptr[i]
            count = ptr[i + 1] - start
            x = X[i]
            lam = lam_all * count if weighted else lam_all
            if count == 0:
                x[:] = 0.0
                steps[i] = 0
                continue
            s = min(sketch_rows, count)
            if k < s < count and np.log(rtol) / np.log(np.sqrt(k / s)) > max_steps:
                # CG would reach its cap: solve exactly at once
                exact = _exact_row(ptr, idx, vals, F, i, lam, P, P, True, G, Z, b, x)
                steps[i] = -1 if exact else -2
                continue
            # b = F_O^T m and r = b - F_O^T F_O x - lam x
            for a in range(k):
                r[a] = -lam * x[a]
            _gather_and_residual(idx, vals, F, start, count, x, B, b, r)
            n_h = _sketch_rows(B, count, s, sketch_nnz, lam, seed, i, H)
            if not _householder_r(H, n_h):
                exact = _exact_row(ptr, idx, vals, F, i, lam, P, P, True, G, Z, b, x)
                steps[i] = -1 if exact else -2
                continue
            _forward(H, b, z)
            b_norm2 = _dot(z, z, k)
            _precondition(H, r, z)
            rz = _dot(r, z, k)
            target2 = max(rtol * rtol * rz, 100.0 * eps * eps * b_norm2)
            n_steps = 0
            d[:] = z
            while rz > target2:
                if n_steps == max_steps:
                    n_steps = -1
                    break
                for a in range(k):
                    Ad[a] = lam * d[a]
                _add_gram_times(B, count, d, Ad)
                curvature = _dot(d, Ad, k)
                if not curvature > 0.0:
                    n_steps = -1
                    break
                alpha = rz / curvature
                for a in range(k):
                    x[a] += alpha * d[a]
                    r[a] -= alpha * Ad[a]
                _precondition(H, r, z)
                rz_new = _dot(r, z, k)
                beta = rz_new / rz
                rz = rz_new
                for a in range(k):
                    d[a] = z[a] + beta * d[a]
                n_steps += 1
            if n_steps == -1:  # too slow or breakdown: finished exactly
                n_steps = -3 if _exact_row(ptr, idx, vals, F, i, lam, P, P, True, G, Z, b,
                                           x) else -4
            steps[i] = n_steps


@njit(cache=True)
def _sketch_rows(B, count, s, nnz, lam, seed, row, H):
    """``H[:, :n] = [S B; sqrt(lam) I]^T`` for a fresh sparse sign sketch ``S`` of ``s``
    rows (``nnz`` blocks, one entry per block and observation); returns ``n``."""
    k = B.shape[1]
    if s == count:  # nothing to compress: the row's own matrix
        for t in range(count):
            for a in range(k):
                H[a, t] = B[t, a]
        n = count
    else:
        for a in range(k):
            for t in range(s):
                H[a, t] = 0.0
        blocks = min(nnz, s)
        width = s // blocks
        weight = 1.0 / np.sqrt(blocks)
        state = _mix(np.uint64(seed) ^ (np.uint64(row) * _GOLDEN))
        for t in range(count):
            q = B[t]
            for j in range(blocks):
                state += _GOLDEN
                u = _mix(state)
                h = j * width + np.int64(u % np.uint64(width))
                w = weight if (u >> np.uint64(63)) == np.uint64(0) else -weight
                for a in range(k):
                    H[a, h] += w * q[a]
        n = blocks * width
    if lam > 0.0:
        root = np.sqrt(lam)
        for a in range(k):
            for c in range(k):
                H[a, n + c] = root if a == c else 0.0
        n += k
    return n


@njit(cache=True)
def _householder_r(H, n):
    """Householder QR of the ``n x k`` matrix ``H[:, :n]^T``, in place: ``R[j, c]`` is
    left in ``H[c, j]`` (``c >= j``).  False when ``R`` is numerically singular."""
    k = H.shape[0]
    largest = 0.0
    for j in range(k):
        col = H[j]
        norm2 = 0.0
        for t in range(j, n):
            norm2 += col[t] * col[t]
        norm = np.sqrt(norm2)
        largest = max(largest, norm)
        if not norm > n * np.finfo(H.dtype).eps * largest:
            return False
        alpha = -norm if col[j] >= 0 else norm
        v0 = col[j] - alpha  # reflector v = (v0, col[j+1:n]); H v = v (v^T v / 2) ...
        tau = -v0 / alpha  # ... with I - tau v v^T / v0^2 mapping col to alpha e_j
        for c in range(j + 1, k):
            other = H[c]
            s = other[j] * v0
            for t in range(j + 1, n):
                s += other[t] * col[t]
            s *= tau / (v0 * v0)
            other[j] -= s * v0
            for t in range(j + 1, n):
                other[t] -= s * col[t]
        col[j] = alpha
    return True


@njit(cache=True)
def _forward(H, r, y):
    """``y = R^-T r`` (``R[j, c] = H[c, j]``)."""
    k = H.shape[0]
    for j in range(k):
        s = r[j]
        for c in range(j):
            s -= H[j, c] * y[c]
        y[j] = s / H[j, j]


@njit(cache=True)
def _precondition(H, r, z):
    """``z = R^-1 R^-T r``."""
    k = H.shape[0]
    _forward(H, r, z)
    for j in range(k - 1, -1, -1):
        s = z[j]
        for c in range(j + 1, k):
            s -= H[c, j] * z[c]
        z[j] = s / H[j, j]
