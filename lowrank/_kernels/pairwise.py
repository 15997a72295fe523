"""Numba kernels of the pairwise factorizations (:mod:`lowrank.factorization`).

One step picks a pair ``i < j`` and applies a 2 x 2 transform ``J`` to columns ``i, j``
that zeroes the Gram entry ``g_ij``:

- ``kind = 0``, rotation: ``J = [[c, s], [-s, c]]`` (Jacobi);
- ``kind = 1``, elimination: column ``j -= mu * column i``, ``mu = g_ij / g_ii`` (the
  later index is always eliminated by the earlier one, so the accumulated transform is
  unit upper triangular).

Two-sided kernels act on a symmetric matrix ``M`` (``M <- J^T M J``, Gram entries are
entries of ``M``); one-sided kernels act on the columns of ``A`` (Gram entries are dot
products of the current columns, never a precomputed ``A^T A``).  A pair is skipped when
``|g_ij| <= tol * sqrt(|g_ii g_jj|)``.  The accumulated factor ``W`` is ``Z`` (rotations:
``W <- W J``) or, for eliminations, ``Z^{-T}`` (``W[:, i] += mu * W[:, j]``), so the
triangular factors come out without a triangular inversion.

Status codes returned by the kernels: ``-1`` all good, ``k >= 0`` a nonpositive pivot
``g_kk`` met by a two-sided elimination (the matrix is not positive definite).
"""

import numpy as np
from numba import njit

# Dot products may be reassociated: LLVM then vectorizes the reductions (4x faster at
# m = 512).  The summation order is fixed by the compiled code, so results stay
# deterministic and independent of the thread count; the stopping test below calls the
# very function the steps call.
_REDUCE = {"reassoc", "contract"}

__all__ = ["apply_pairs_one_sided", "apply_pairs_two_sided", "greedy_one_sided",
           "greedy_two_sided", "max_scaled_one_sided", "off_diagonal_two_sided"]


@njit(cache=True)
def _rotation(gii, gjj, gij):
    """``(c, s)`` of the rotation zeroing ``g_ij`` (hypot forms, no overflow)."""
    tau = (gjj - gii) / (2.0 * gij)
    sign = 1.0 if tau >= 0.0 else -1.0
    t = sign / (abs(tau) + np.hypot(1.0, tau))
    c = 1.0 / np.hypot(1.0, t)
    return c, t * c


@njit(cache=True)
def _skip(gii, gjj, gij, tol):
    return gij == 0.0 or abs(gij) <= tol * np.sqrt(abs(gii * gjj))


@njit(cache=True)
def _two_sided_step(M, W, i, j, kind, tol):
    """One step on the pair ``(i, j)`` of ``M``; returns (applied, status)."""
    gii, gjj, gij = M[i, i], M[j, j], M[i, j]
    n = M.shape[0]
    if kind == 1 and gii <= 0.0:
        return False, i
    if _skip(gii, gjj, gij, tol):
        return False, -1
    if kind == 0:
        c, s = _rotation(gii, gjj, gij)
        t = s / c
        for k in range(n):                      # rows i, j of J^T M J (contiguous) ...
            mi, mj = M[i, k], M[j, k]
            M[i, k] = c * mi - s * mj
            M[j, k] = s * mi + c * mj
        for k in range(n):                      # ... mirrored into columns i, j
            M[k, i] = M[i, k]
            M[k, j] = M[j, k]
        M[i, i] = gii - t * gij
        M[j, j] = gjj + t * gij
        M[i, j] = 0.0
        M[j, i] = 0.0
        for k in range(W.shape[0]):
            wi, wj = W[k, i], W[k, j]
            W[k, i] = c * wi - s * wj
            W[k, j] = s * wi + c * wj
    else:
        mu = gij / gii
        for k in range(n):                      # row j -= mu row i, mirrored
            M[j, k] -= mu * M[i, k]
            M[k, j] = M[j, k]
        M[j, j] = gjj - mu * gij
        M[i, j] = 0.0
        M[j, i] = 0.0
        if M[j, j] <= 0.0:
            return True, j
        for k in range(W.shape[0]):             # W = Z^{-T}: W[:, i] += mu W[:, j]
            W[k, i] += mu * W[k, j]
    return True, -1


@njit(cache=True)
def apply_pairs_two_sided(M, W, first, second, kind, tol):
    """Apply the steps ``(first[t], second[t])`` in order; returns (applied, status)."""
    applied = 0
    for t in range(first.shape[0]):
        done, status = _two_sided_step(M, W, first[t], second[t], kind, tol)
        if status >= 0:
            return applied, status
        applied += done
    return applied, -1


@njit(cache=True)
def off_diagonal_two_sided(M, tol):
    """``(off^2, max_ij |m_ij| / sqrt(|m_ii m_jj|), active)`` over ``i < j``, where
    ``active`` counts the pairs a step would not skip (zero: converged, exactly)."""
    n = M.shape[0]
    off, worst, active = 0.0, 0.0, 0
    for i in range(n):
        for j in range(i + 1, n):
            m = M[i, j]
            off += 2.0 * m * m
            if m != 0.0:
                scale = np.sqrt(abs(M[i, i] * M[j, j]))
                rho = abs(m) / scale if scale > 0.0 else np.inf
                worst = max(worst, rho)
            active += not _skip(M[i, i], M[j, j], m, tol)
    return off, worst, active


@njit(cache=True, fastmath=_REDUCE)
def _gram_block(A, i, j):
    """``(a_i . a_i, a_j . a_j, a_i . a_j)`` in one pass over the two columns."""
    gii = gjj = gij = 0.0
    for k in range(A.shape[0]):
        ai, aj = A[k, i], A[k, j]
        gii += ai * ai
        gjj += aj * aj
        gij += ai * aj
    return gii, gjj, gij


@njit(cache=True, fastmath=_REDUCE)
def _dot(A, i, j):
    total = 0.0
    for k in range(A.shape[0]):
        total += A[k, i] * A[k, j]
    return total


@njit(cache=True)
def _one_sided_step(A, W, i, j, kind, tol, gii, gjj, gij):
    """One step on columns ``i, j`` of ``A`` with their Gram entries; returns
    ``(applied, c, s, mu)`` (the rotation, or the multiplier of an elimination)."""
    if (kind == 1 and gii == 0.0) or _skip(gii, gjj, gij, tol):
        return False, 1.0, 0.0, 0.0             # a zero column eliminates nothing
    if kind == 0:
        c, s = _rotation(gii, gjj, gij)
        for k in range(A.shape[0]):
            ai, aj = A[k, i], A[k, j]
            A[k, i] = c * ai - s * aj
            A[k, j] = s * ai + c * aj
        for k in range(W.shape[0]):
            wi, wj = W[k, i], W[k, j]
            W[k, i] = c * wi - s * wj
            W[k, j] = s * wi + c * wj
        return True, c, s, 0.0
    mu = gij / gii
    for k in range(A.shape[0]):
        A[k, j] -= mu * A[k, i]
    for k in range(W.shape[0]):
        W[k, i] += mu * W[k, j]
    return True, 1.0, 0.0, mu


@njit(cache=True)
def _update_gram(G, A, i, j, kind, c, s, mu):
    """Carry the step on columns ``i, j`` over to the maintained Gram matrix (``O(n)``),
    with the 2 x 2 block recomputed from the columns."""
    n = G.shape[0]
    for k in range(n):
        gi, gj = G[k, i], G[k, j]
        if kind == 0:
            G[k, i], G[k, j] = c * gi - s * gj, s * gi + c * gj
        else:
            G[k, j] = gj - mu * gi
        G[i, k], G[j, k] = G[k, i], G[k, j]
    G[i, i], G[j, j], G[i, j] = _gram_block(A, i, j)
    G[j, i] = G[i, j]


@njit(cache=True)
def apply_pairs_one_sided(A, W, first, second, kind, tol):
    """Apply the steps ``(first[t], second[t])`` to the columns of ``A``; returns the
    number of transforms applied."""
    applied = 0
    for t in range(first.shape[0]):
        i, j = first[t], second[t]
        gii, gjj, gij = _gram_block(A, i, j)
        done, _, _, _ = _one_sided_step(A, W, i, j, kind, tol, gii, gjj, gij)
        applied += done
    return applied


@njit(cache=True)
def max_scaled_one_sided(A, tol):
    """``(max |a_i . a_j| / (||a_i|| ||a_j||), active)`` over ``i < j``, with the Gram
    entries computed by the steps' own function and ``active`` the pairs a step would
    not skip (zero: converged, exactly)."""
    n = A.shape[1]
    worst, active = 0.0, 0
    for i in range(n):
        for j in range(i + 1, n):
            gii, gjj, g = _gram_block(A, i, j)
            if g != 0.0:
                scale = np.sqrt(gii * gjj)
                worst = max(worst, abs(g) / scale if scale > 0.0 else np.inf)
            active += not _skip(gii, gjj, g, tol)
    return worst, active


@njit(cache=True)
def _row_max(R, k):
    """The largest ``R[k, l]`` over ``l > k`` and its column (``-1`` if none)."""
    best, arg = -1.0, -1
    for l in range(k + 1, R.shape[0]):
        if R[k, l] > best:
            best, arg = R[k, l], l
    return best, arg


@njit(cache=True)
def _rho(G, k, l):
    scale = np.sqrt(abs(G[k, k] * G[l, l]))
    if G[k, l] == 0.0:
        return 0.0
    return abs(G[k, l]) / scale if scale > 0.0 else np.inf


@njit(cache=True)
def _refresh(G, R, row_best, row_arg, i, j):
    """Update the scaled entries ``R`` and the row maxima after rows and columns
    ``i, j`` of the Gram matrix ``G`` changed."""
    n = G.shape[0]
    for k in range(n):
        for l in (i, j):
            if k == l:
                continue
            a, b = (k, l) if k < l else (l, k)
            value = _rho(G, a, b)
            old = R[a, b]
            R[a, b] = value
            if a in (i, j):
                continue                        # rows i and j are recomputed below
            if value > row_best[a]:
                row_best[a], row_arg[a] = value, b
            elif row_arg[a] == b and value < old:
                row_best[a], row_arg[a] = _row_max(R, a)
    for k in (i, j):
        row_best[k], row_arg[k] = _row_max(R, k)


@njit(cache=True)
def _greedy_tables(G):
    n = G.shape[0]
    R = np.zeros((n, n))
    for k in range(n):
        for l in range(k + 1, n):
            R[k, l] = _rho(G, k, l)
    row_best = np.empty(n)
    row_arg = np.empty(n, dtype=np.int64)
    for k in range(n):
        row_best[k], row_arg[k] = _row_max(R, k)
    return R, row_best, row_arg


@njit(cache=True)
def greedy_two_sided(M, W, kind, tol, max_steps):
    """Steps on the pair of largest ``|m_ij| / sqrt(|m_ii m_jj|)`` until it is at most
    ``tol`` or ``max_steps``; returns (steps, status, largest remaining)."""
    R, row_best, row_arg = _greedy_tables(M)
    steps = 0
    while steps < max_steps:
        i = np.argmax(row_best)
        if row_best[i] <= tol:
            return steps, -1, row_best[i]
        j = row_arg[i]
        done, status = _two_sided_step(M, W, i, j, kind, tol)
        if status >= 0:
            return steps, status, row_best[i]
        if done:
            steps += 1
            _refresh(M, R, row_best, row_arg, i, j)
        else:                                   # at tolerance after all (rounding)
            R[i, j] = 0.0
            row_best[i], row_arg[i] = _row_max(R, i)
    return steps, -1, np.max(row_best)


@njit(cache=True)
def greedy_one_sided(A, W, kind, tol, max_steps):
    """Greedy steps on the columns of ``A``: the pair is chosen from a maintained Gram
    matrix, the transform from fresh dot products of the two columns."""
    n = A.shape[1]
    G = np.empty((n, n))
    for k in range(n):
        for l in range(k, n):
            G[k, l] = _dot(A, k, l)
            G[l, k] = G[k, l]
    R, row_best, row_arg = _greedy_tables(G)
    steps = 0
    while steps < max_steps:
        i = np.argmax(row_best)
        if row_best[i] <= tol:
            return steps, row_best[i]
        j = row_arg[i]
        gii, gjj, gij = _gram_block(A, i, j)
        done, c, s, mu = _one_sided_step(A, W, i, j, kind, tol, gii, gjj, gij)
        if done:
            steps += 1
            _update_gram(G, A, i, j, kind, c, s, mu)
            _refresh(G, R, row_best, row_arg, i, j)
        else:
            R[i, j] = 0.0
            row_best[i], row_arg[i] = _row_max(R, i)
    return steps, np.max(row_best)
