"""Numba kernels of alternating minimization for matrix completion (private).

Every kernel works on one factor update: for each "row" ``i`` (a row of ``M`` when
updating ``U``, a column when updating ``V``) the observed entries are
``vals[ptr[i]:ptr[i+1]]`` at positions ``idx[ptr[i]:ptr[i+1]]`` of the fixed factor ``F``.
Rows are independent, so the work is split into fixed blocks of rows (results do not
depend on the number of threads).
"""

import numpy as np
from numba import njit, prange

# Rows per parallel task.
_BLOCK = 64


@njit(cache=True)
def _cholesky_solve(G, b, x, k):
    """Solve ``G[:k, :k] x = b`` (lower triangle of ``G`` read) in place of ``G``
    (overwritten by its Cholesky factor); ``x`` may be ``b``.

    Returns False when ``G`` is not numerically positive definite.
    """
    floor = k * np.finfo(G.dtype).eps
    for j in range(k):
        s = G[j, j]
        for t in range(j):
            s -= G[j, t] * G[j, t]
        if not s > floor * G[j, j]:  # a pivot at rounding level: numerically singular
            return False
        d = np.sqrt(s)
        G[j, j] = d
        for i in range(j + 1, k):
            s = G[i, j]
            for t in range(j):
                s -= G[i, t] * G[j, t]
            G[i, j] = s / d
    for i in range(k):  # L y = b
        s = b[i]
        for t in range(i):
            s -= G[i, t] * x[t]
        x[i] = s / G[i, i]
    for i in range(k - 1, -1, -1):  # L^T x = y
        s = x[i]
        for t in range(i + 1, k):
            s -= G[t, i] * x[t]
        x[i] = s / G[i, i]
    return True


@njit(cache=True)
def _normal_equations(ptr, idx, vals, F, i, lam, P, G, b):
    """``G = F_O^T F_O + lam P`` and ``b = F_O^T m_i`` (lower triangle filled, then
    mirrored), ``O`` the observed positions of row ``i``."""
    k = F.shape[1]
    for a in range(k):
        b[a] = 0.0
        for c in range(k):
            G[a, c] = lam * P[a, c]
    # Full rank-one updates (contiguous rows of length k vectorize; the triangle alone
    # ran slower despite half the flops), four observations per pass over G (a quarter
    # of its loads and stores).
    t = ptr[i]
    stop = ptr[i + 1]
    while t + 4 <= stop:
        f0 = F[idx[t]]
        f1 = F[idx[t + 1]]
        f2 = F[idx[t + 2]]
        f3 = F[idx[t + 3]]
        v0, v1, v2, v3 = vals[t], vals[t + 1], vals[t + 2], vals[t + 3]
        for a in range(k):
            e0, e1, e2, e3 = f0[a], f1[a], f2[a], f3[a]
            b[a] += (v0 * e0 + v1 * e1) + (v2 * e2 + v3 * e3)
            g = G[a]
            for c in range(k):
                g[c] += (e0 * f0[c] + e1 * f1[c]) + (e2 * f2[c] + e3 * f3[c])
        t += 4
    while t < stop:
        f = F[idx[t]]
        v = vals[t]
        for a in range(k):
            fa = f[a]
            b[a] += v * fa
            g = G[a]
            for c in range(k):
                g[c] += fa * f[c]
        t += 1


@njit(cache=True, parallel=True)
def solve_rows_exact(ptr, idx, vals, F, lam, weighted, out, flags):
    """Exact least squares per row: ``out[i] = argmin ||F_O x - m_i||^2 + lam_i ||x||^2``
    with ``lam_i = lam`` (or ``lam |O_i|`` when ``weighted``).

    Rows without observations get 0.  ``flags[i]`` is -1 (solved exactly) or -2 (the
    normal equations were numerically singular and got the small ridge of
    :func:`_exact_row`), the codes of :func:`solve_rows_cg`'s ``steps``.
    """
    n_rows = ptr.shape[0] - 1
    k = F.shape[1]
    eye = np.eye(k, dtype=F.dtype)
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        G = np.empty((k, k), dtype=F.dtype)
        Z = np.empty((k, k), dtype=F.dtype)
        b = np.empty(k, dtype=F.dtype)
        for i in range(blk * _BLOCK, min(n_rows, (blk + 1) * _BLOCK)):
            lam_i = lam * (ptr[i + 1] - ptr[i]) if weighted else lam
            flags[i] = -1
            if ptr[i + 1] == ptr[i]:
                out[i, :] = 0.0
            elif not _exact_row(ptr, idx, vals, F, i, lam_i, eye, eye, True, G, Z, b,
                                    out[i]):
                flags[i] = -2


@njit(cache=True, parallel=True)
def solve_rows_cg(ptr, idx, vals, Q, lam_all, weighted, P, Pinv, X, rtol, max_steps, steps,
                  by_cost=True):
    """Warm-started conjugate gradients per row, in place of ``X``.

    Solves ``(Q_O^T Q_O + lam P) x = Q_O^T m_i`` (``P`` positive definite, ``Pinv`` its
    inverse, used by exact solves of rows with fewer observations than ``k``;
    ``lam = lam_all``, or ``lam_all |O_i|`` when ``weighted``) from ``x = X[i]`` until
    the residual is at most ``max(rtol ||r_0||, 10 eps ||b||)`` (``r_0`` the warm
    start's residual).  ``steps[i]`` is the number of CG steps, or a code of a row
    solved exactly (see :func:`_exact_row`):

    - -1 (-2 when it needed a rescue ridge): from the start, because
      :func:`_exact_is_cheaper` (when ``by_cost``);
    - -3 (-4 with a rescue ridge): after CG reached ``max_steps`` steps or broke down.

    The row's observed rows of ``Q`` are first gathered into a contiguous buffer; each
    step is then one pass over it: ``Q_O^T (Q_O d)`` is accumulated observation by
    observation (a dot product and an update of length ``k`` each).
    """
    n_rows = ptr.shape[0] - 1
    k = Q.shape[1]
    eps = np.finfo(Q.dtype).eps
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        first = blk * _BLOCK
        last = min(n_rows, first + _BLOCK)
        B = np.empty((_longest_row(ptr, first, last), k), dtype=Q.dtype)
        G = np.empty((k, k), dtype=Q.dtype)
        Z = np.empty((k, k), dtype=Q.dtype)
        b = np.empty(k, dtype=Q.dtype)
        r = np.empty(k, dtype=Q.dtype)
        d = np.empty(k, dtype=Q.dtype)
        Ad = np.empty(k, dtype=Q.dtype)
        for i in range(first, last):
            start = ptr[i]
            stop = ptr[i + 1]
            x = X[i]
            lam = lam_all * (stop - start) if weighted else lam_all
            if stop == start:
                x[:] = 0.0
                steps[i] = 0
                continue
            count = stop - start
            if by_cost and _exact_is_cheaper(count, k, rtol, max_steps):
                steps[i] = -1 if _exact_row(ptr, idx, vals, Q, i, lam, P, Pinv, False, G, Z, b,
                                            x) else -2
                continue
            # b = Q_O^T m and r = b - Q_O^T Q_O x - lam P x
            _penalty(lam, P, x, r)
            for a in range(k):
                r[a] = -r[a]
            _gather_and_residual(idx, vals, Q, start, count, x, B, b, r)
            b_norm2 = 0.0
            r_norm2 = 0.0
            for a in range(k):
                b_norm2 += b[a] * b[a]
                r_norm2 += r[a] * r[a]
            target = max(rtol * np.sqrt(r_norm2), 10.0 * eps * np.sqrt(b_norm2))
            n_steps = 0
            d[:] = r
            while np.sqrt(r_norm2) > target:
                if n_steps == max_steps:
                    n_steps = -1
                    break
                _penalty(lam, P, d, Ad)
                _add_gram_times(B, count, d, Ad)
                curvature = 0.0
                for a in range(k):
                    curvature += d[a] * Ad[a]
                if not curvature > 0.0:
                    n_steps = -1
                    break
                alpha = r_norm2 / curvature
                new_norm2 = 0.0
                for a in range(k):
                    x[a] += alpha * d[a]
                    r[a] -= alpha * Ad[a]
                    new_norm2 += r[a] * r[a]
                beta = new_norm2 / r_norm2
                r_norm2 = new_norm2
                for a in range(k):
                    d[a] = r[a] + beta * d[a]
                n_steps += 1
            if n_steps == -1:  # too slow or breakdown: finished exactly
                n_steps = -3 if _exact_row(ptr, idx, vals, Q, i, lam, P, Pinv, False, G, Z,
                                           b, x) else -4
            steps[i] = n_steps


@njit(cache=True)
def _longest_row(ptr, first, last):
    """The most observations of a row in ``first:last``."""
    longest = 0
    for i in range(first, last):
        longest = max(longest, ptr[i + 1] - ptr[i])
    return longest


@njit(cache=True)
def _gather_and_residual(idx, vals, F, start, count, x, B, b, r):
    """Gather the row's ``F_O`` into ``B[:count]`` and, in the same pass, set
    ``b = F_O^T m`` and add ``F_O^T (m - F_O x)`` to ``r``."""
    k = F.shape[1]
    for a in range(k):
        b[a] = 0.0
    for t in range(count):
        B[t] = F[idx[start + t]]
        q = B[t]
        v = vals[start + t]
        e = v - _dot(q, x, k)
        for a in range(k):
            b[a] += v * q[a]
            r[a] += e * q[a]


@njit(cache=True)
def _add_gram_times(B, count, d, out):
    """``out += B^T (B d)`` over the first ``count`` rows of ``B``: one CG product."""
    k = B.shape[1]
    for t in range(count):
        q = B[t]
        y = _dot(q, d, k)
        for a in range(k):
            out[a] += y * q[a]


# A CG step streams the row twice per observation (a dot product and an update), which
# ran 1.2-2.4 times slower per flop than the Gram matrix's rank-one updates (four
# observations per pass; k in {32, 64}, 512-2000 observations per row, 2 cores).
_CG_FLOP_PENALTY = 2.0


@njit(cache=True)
def exact_is_cheaper_everywhere(ptr, k, rtol, max_steps):
    """Whether :func:`_exact_is_cheaper` holds for every row (then
    :func:`solve_rows_cg` would solve them all exactly)."""
    for i in range(ptr.shape[0] - 1):
        count = ptr[i + 1] - ptr[i]
        if count > 0 and not _exact_is_cheaper(count, k, rtol, max_steps):
            return False
    return True


@njit(cache=True, inline="always")
def _exact_is_cheaper(count, k, rtol, max_steps):
    """Whether forming the row's Gram matrix costs less than the CG steps it needs.

    With an orthonormal fixed factor and uniform sampling, the Gram matrix of ``count``
    observations has condition about ``((1 + sqrt(k/count)) / (1 - sqrt(k/count)))^2``;
    CG then contracts by ``(sqrt(c) - 1) / (sqrt(c) + 1) = sqrt(k / count)`` per step and
    needs about ``log(rtol) / log(sqrt(k / count))`` steps of ``4 k count`` flops each,
    against ``count k^2 + k^3 / 3`` for the exact solve.
    """
    if count <= k:
        return True
    predicted = np.log(rtol) / np.log(np.sqrt(k / count))
    if predicted > max_steps:  # CG would stop at the cap and finish exactly anyway
        return True
    n_steps = predicted + 1.0
    cg = _CG_FLOP_PENALTY * 4.0 * k * count * n_steps
    return cg > count * k * k + k * k * k / 3.0


@njit(cache=True)
def _exact_row(ptr, idx, vals, F, i, lam, P, Pinv, plain, G, Z, b, x):
    """``x`` = the row's exact solution of ``(F_O^T F_O + lam P) x = F_O^T m_i``
    (``plain``: ``P`` is the identity; ``G``, ``Z``: k x k scratch); a small relative
    ridge (``max(1e-12, 10 k eps)`` times the mean diagonal) rescues a singular Gram
    matrix, which gives about the minimum-norm solution.  Returns False when that was
    needed.

    A row with ``c < k`` observations and ``lam > 0`` is solved in its dual form,
    ``x = P^-1 F_O^T (F_O P^-1 F_O^T + lam I)^-1 m_i`` (the same ``x``), at
    ``O(c k^2 + c^2 k)`` instead of ``O(c k^2 + k^3)``: on rating data most columns
    have a handful of observations.
    """
    k = F.shape[1]
    if lam > 0.0 and ptr[i + 1] - ptr[i] < k and _dual_row(ptr, idx, vals, F, i, lam, Pinv,
                                                          plain, G, Z, b, x):
        return True
    _normal_equations(ptr, idx, vals, F, i, lam, P, G, b)
    if _cholesky_solve(G, b, x, k):
        return True
    _normal_equations(ptr, idx, vals, F, i, lam, P, G, b)
    shift = 0.0
    for a in range(k):
        shift += G[a, a]
    info = np.finfo(G.dtype)
    shift = max(1e-12, 10.0 * k * info.eps) * shift / k + info.tiny
    for a in range(k):
        G[a, a] += shift
    if not _cholesky_solve(G, b, x, k):
        x[:] = 0.0
    return False


@njit(cache=True)
def _dual_row(ptr, idx, vals, F, i, lam, Pinv, plain, G, Z, b, x):
    """The dual form of :func:`_exact_row` (``c < k`` observations, ``lam > 0``):
    ``Z = F_O P^-1`` (``F_O`` when ``plain``: ``P = I``), ``(Z F_O^T + lam I) a = m_i``,
    ``x = Z^T a``.  False when the ``c x c`` system is numerically singular."""
    k = F.shape[1]
    start = ptr[i]
    c = ptr[i + 1] - start
    for t in range(c):
        f = F[idx[start + t]]
        z = Z[t]
        if plain:
            z[:] = f
            continue
        for a in range(k):
            z[a] = 0.0
        for e in range(k):
            fe = f[e]
            p = Pinv[e]
            for a in range(k):
                z[a] += fe * p[a]
    for t in range(c):
        for u in range(t + 1):
            G[t, u] = _dot(Z[t], F[idx[start + u]], k)
        G[t, t] += lam
        b[t] = vals[start + t]
    if not _cholesky_solve(G, b, b, c):
        return False
    for a in range(k):
        x[a] = 0.0
    for t in range(c):
        alpha = b[t]
        z = Z[t]
        for a in range(k):
            x[a] += alpha * z[a]
    return True


@njit(cache=True, inline="always")
def _dot(u, v, k):
    """``u . v`` with four independent partial sums (a fixed order: deterministic)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    a = 0
    while a + 4 <= k:
        s0 += u[a] * v[a]
        s1 += u[a + 1] * v[a + 1]
        s2 += u[a + 2] * v[a + 2]
        s3 += u[a + 3] * v[a + 3]
        a += 4
    while a < k:
        s0 += u[a] * v[a]
        a += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def _penalty(lam, P, v, out):
    """``out = lam P v`` (zeros when ``lam == 0``)."""
    k = v.shape[0]
    for a in range(k):
        s = 0.0
        if lam != 0.0:
            for c in range(k):
                s += P[a, c] * v[c]
            s *= lam
        out[a] = s


@njit(cache=True, parallel=True)
def observed_residual(ptr, idx, vals, U, V, offset):
    """``(sum e_ij^2, sum e_ij)`` over the observations, ``e_ij = m_ij - offset -
    u_i . v_j``, in float64 by fixed blocks of rows."""
    n_rows = ptr.shape[0] - 1
    k = U.shape[1]
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    squares = np.zeros(n_blocks)
    sums = np.zeros(n_blocks)
    for blk in prange(n_blocks):
        s_sq = 0.0
        s_sum = 0.0
        for i in range(blk * _BLOCK, min(n_rows, (blk + 1) * _BLOCK)):
            u = U[i]
            for t in range(ptr[i], ptr[i + 1]):
                v = V[idx[t]]
                p = offset  # float64 accumulators: float32 squares of 1e20 would overflow
                for a in range(k):
                    p += np.float64(u[a]) * np.float64(v[a])
                e = np.float64(vals[t]) - p
                s_sq += e * e
                s_sum += e
        squares[blk] = s_sq
        sums[blk] = s_sum
    return squares.sum(), sums.sum()


@njit(cache=True, parallel=True)
def sparse_times_dense(ptr, idx, vals, X, scale):
    """``scale * S @ X`` for the sparse matrix ``S`` given by rows ``(ptr, idx, vals)``."""
    n_rows = ptr.shape[0] - 1
    k = X.shape[1]
    out = np.zeros((n_rows, k), dtype=X.dtype)
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        for i in range(blk * _BLOCK, min(n_rows, (blk + 1) * _BLOCK)):
            o = out[i]
            for t in range(ptr[i], ptr[i + 1]):
                v = vals[t] * scale
                x = X[idx[t]]
                for a in range(k):
                    o[a] += v * x[a]
    return out
