"""Alternating minimization on array-API namespaces other than NumPy (CuPy on a GPU).

The Numba kernels serve NumPy and SciPy input.  Here every per-row regression of a
half-sweep runs as batched dense linear algebra: rows are grouped in buckets of similar
observation counts (``(2^(b-1), 2^b]``), each bucket's observations are gathered into a
zero-padded ``rows x 2^b x k`` block (in chunks of bounded size), and the Gram matrices,
Cholesky-free batched solves (``linalg.solve``) and batched conjugate-gradient steps
are array operations.  The results follow the NumPy path's definitions exactly (same
objective, same stopping rules); only the summation order differs.
"""

import math
import time
import warnings

import numpy as np

from .._backend import host_dtype, to_host
from ..exceptions import ConvergenceWarning

__all__ = ["device_observations", "xp_altmin"]

# Largest gathered block (elements) per chunk of a bucket.
_CHUNK_ELEMENTS = 1 << 24


class _Side:
    """Observations of one orientation (by row or by column), bucketed by count."""

    def __init__(self, xp, lead, other, vals, n_lead, n_other):
        self.xp = xp
        key = xp.astype(lead, xp.int64) * n_other + xp.astype(other, xp.int64)
        order = xp.argsort(key, stable=True)
        key = xp.take(key, order)
        self.other = xp.astype(key % n_other, xp.int64)
        self.vals = xp.take(vals, order)
        ptr = xp.searchsorted(key // n_other, xp.arange(n_lead + 1, dtype=xp.int64))
        self.ptr_host = to_host(ptr).astype(np.int64)
        self.counts = np.diff(self.ptr_host)
        self.n = n_lead
        self.key = key
        self.chunks = self._chunks()

    def _chunks(self):
        """``(row ids, width)`` per chunk; rows without observations are left out."""
        out = []
        nonzero = np.flatnonzero(self.counts)
        if nonzero.size == 0:
            return out
        widths = 1 << np.ceil(np.log2(self.counts[nonzero])).astype(np.int64)
        for width in np.unique(widths):
            ids = nonzero[widths == width]
            step = max(1, _CHUNK_ELEMENTS // (int(width) * 64))
            for s in range(0, ids.size, step):
                out.append((ids[s:s + step], int(width)))
        return out

    def gather(self, ids, width, F):
        """``(B, v, mask)``: the chunk's rows of ``F`` at the observed positions
        (``len(ids) x width x k``, zero padded), their values and the padding mask."""
        xp = self.xp
        dev = getattr(F, "device", None)
        start = xp.asarray(self.ptr_host[ids], device=dev)
        count = xp.asarray(self.counts[ids], device=dev)
        lane = xp.arange(width, dtype=xp.int64, device=dev)
        mask = lane[None, :] < count[:, None]
        pos = xp.where(mask, start[:, None] + lane[None, :], xp.zeros_like(start)[:, None])
        flat = xp.reshape(pos, (-1,))
        idx = xp.take(self.other, flat)
        m = xp.astype(mask, F.dtype)
        B = xp.reshape(xp.take(F, idx, axis=0), (ids.size, width, F.shape[1])) * m[:, :, None]
        v = xp.reshape(xp.take(self.vals, flat), (ids.size, width)) * m
        return B, v, count

    def assemble(self, xp, parts, k, dtype, dev):
        """Rows in order from ``[(ids, values)]`` chunks (zeros for empty rows)."""
        ids = [np.flatnonzero(self.counts == 0)]
        blocks = [xp.zeros((ids[0].size, k), dtype=dtype, device=dev)]
        for chunk_ids, values in parts:
            ids.append(chunk_ids)
            blocks.append(values)
        order = np.argsort(np.concatenate(ids), kind="stable")
        return xp.take(xp.concat(blocks, axis=0), xp.asarray(order, device=dev), axis=0)


def device_observations(xp, rows, cols, vals, shape):
    """Both orientations of the observations, on the device; duplicates raise."""
    m, n = shape
    by_row = _Side(xp, rows, cols, vals, m, n)
    if by_row.key.shape[0] > 1 and bool(xp.any(by_row.key[1:] == by_row.key[:-1])):
        raise ValueError("`observed` has duplicated (row, col) pairs; on this array "
                         "namespace only duplicates='error' is supported: remove them first.")
    by_col = _Side(xp, cols, rows, vals, n, m)
    return by_row, by_col


def _solve_exact(xp, B, v, count, lam, weighted, P, dtype):
    k = B.shape[2]
    G = xp.matmul(xp.matrix_transpose(B), B)
    lam_i = lam * xp.astype(count, dtype) if weighted else lam * xp.ones(count.shape[0],
                                                                             dtype=dtype)
    G = G + lam_i[:, None, None] * P[None, :, :]
    # a ridge at rounding level keeps numerically singular rows solvable (NumPy path: the
    # rescue ridge of its Cholesky)
    eps = float(np.finfo(host_dtype(dtype)).eps)
    trace = xp.sum(xp.linalg.diagonal(G), axis=1)
    eye = xp.eye(k, dtype=dtype, device=getattr(B, "device", None))
    G = G + (10.0 * k * eps * trace / k)[:, None, None] * eye[None, :, :]
    rhs = xp.matmul(xp.matrix_transpose(B), v[:, :, None])
    return xp.linalg.solve(G, rhs)[:, :, 0]


def _solve_cg(xp, B, v, count, x, lam, weighted, P, rtol, max_steps, dtype):
    """Batched CG from ``x``; rows that do not reach ``rtol`` in ``max_steps`` steps are
    solved exactly.  Returns ``(x, steps)`` with steps -1 for exact rows."""
    lam_i = lam * xp.astype(count, dtype) if weighted else lam * xp.ones(count.shape[0],
                                                                             dtype=dtype)

    def apply(d):
        y = xp.matmul(B, d[:, :, None])
        return (xp.matmul(xp.matrix_transpose(B), y)[:, :, 0]
                + lam_i[:, None] * xp.matmul(d, P))

    b = xp.matmul(xp.matrix_transpose(B), v[:, :, None])[:, :, 0]
    r = b - apply(x)
    rr = xp.sum(r * r, axis=1)
    eps = float(np.finfo(host_dtype(dtype)).eps)
    target = xp.maximum(rtol * xp.sqrt(rr), 10.0 * eps * xp.sqrt(xp.sum(b * b, axis=1)))
    d = r
    steps = xp.zeros(count.shape[0], dtype=xp.int64)
    for _ in range(max_steps):
        active = xp.sqrt(rr) > target
        if not bool(xp.any(active)):
            break
        Ad = apply(d)
        curvature = xp.sum(d * Ad, axis=1)
        safe = xp.where(active & (curvature > 0), curvature, xp.ones_like(curvature))
        alpha = xp.where(active & (curvature > 0), rr / safe, xp.zeros_like(rr))
        x = x + alpha[:, None] * d
        r = r - alpha[:, None] * Ad
        new = xp.sum(r * r, axis=1)
        beta = xp.where(active, new / xp.where(rr > 0, rr, xp.ones_like(rr)),
                        xp.zeros_like(rr))
        d = r + beta[:, None] * d
        rr = xp.where(active, new, rr)
        steps = steps + xp.astype(active, xp.int64)
    unfinished = xp.sqrt(rr) > target
    if bool(xp.any(unfinished)):
        exact = _solve_exact(xp, B, v, count, lam, weighted, P, dtype)
        x = xp.where(unfinished[:, None], exact, x)
        steps = xp.where(unfinished, -xp.ones_like(steps), steps)
    return x, steps


def xp_altmin(xp, sides, shape, rank, method, solver_tol, maxiter, tol, lam, weighted,
              max_steps, rng, callback, dtype, tighten, stall, floor, rounding_rise):
    """The NumPy path's iteration (:class:`_Solver`) with batched device operations.

    Returns the pieces of a :class:`CompletionResult`: ``(U, V, rows, converged,
    message)``.
    """
    by_row, by_col = sides
    n = shape[1]
    dev = getattr(by_row.vals, "device", None)
    k = rank
    eye = xp.eye(k, dtype=dtype, device=dev)
    start = time.perf_counter()
    U = _initial_left_factor(xp, by_row, by_col, shape, rank, rng, dtype, dev)
    V = xp.zeros((n, k), dtype=dtype, device=dev)
    ref = float(xp.sum(by_row.vals * by_row.vals))
    rows, converged, message = [], False, f"maxiter={maxiter} reached"
    tau, objective_old = solver_tol, math.inf
    for sweep in range(1, maxiter + 1):
        t0 = time.perf_counter()
        exact_now = method == "exact" or tau <= floor
        V, s_v = _half_sweep(xp, by_col, U, V, method == "exact" or sweep == 1, lam, weighted,
                             tau, max_steps, eye, dtype, dev)
        U, s_u = _half_sweep(xp, by_row, V, U, method == "exact", lam, weighted, tau,
                             max_steps, eye, dtype, dev)
        counts = [(s_v, by_col.counts), (s_u, by_row.counts)]
        res = _observed_residual(xp, by_row, U, V)
        if weighted:
            cu = xp.asarray(by_row.counts.astype(np.float64), dtype=dtype, device=dev)
            cv = xp.asarray(by_col.counts.astype(np.float64), dtype=dtype, device=dev)
            penalty = float(xp.sum(cu * xp.sum(U * U, axis=1))
                            + xp.sum(cv * xp.sum(V * V, axis=1)))
        else:
            penalty = float(xp.sum(U * U) + xp.sum(V * V))
        objective = res + lam * penalty
        residual = math.sqrt(res / ref) if ref > 0 else math.sqrt(res)
        rows.append(_history_row(residual, objective, tau if method == "robust" else 0.0,
                                 counts, k, time.perf_counter() - t0,
                                 time.perf_counter() - start))
        if not (math.isfinite(residual) and math.isfinite(objective)):
            message = f"non-finite residual or objective at sweep {sweep} (overflow)"
            break
        decrease = (objective_old - objective) / objective if objective > 0 else 0.0
        stop = callback is not None and bool(callback(sweep, U, V, residual))
        if residual <= tol:
            converged, message = True, f"residual {residual:.2e} <= tol={tol:g}"
            break
        if exact_now and -rounding_rise <= decrease <= tol:
            converged = True
            message = (f"stationary: the objective fell by {max(decrease, 0):.2e} "
                       f"<= tol={tol:g} in a sweep of exact updates")
            break
        if stop:
            message = "stopped by callback"
            break
        if method == "robust" and decrease < stall:
            tau = max(tau / tighten, floor)
        objective_old = objective
    if not converged and message != "stopped by callback":
        warnings.warn(f"altmin: {message} (residual {rows[-1][0]:.3e} > tol={tol:g})",
                      ConvergenceWarning, stacklevel=4)
    return U, V, rows, converged, message


def _half_sweep(xp, side, F, X, exact, lam, weighted, tau, max_steps, eye, dtype, dev):
    """New factor ``X`` (all rows of ``side``) given the fixed factor ``F``."""
    k = F.shape[1]
    parts, steps = [], []
    if not exact:
        Q, R = xp.linalg.qr(F, mode="reduced")
        Rinv = xp.linalg.inv(R)
        P = xp.matmul(xp.matrix_transpose(Rinv), Rinv) if lam else eye
        W = xp.matmul(X, xp.matrix_transpose(R))
    for ids, width in side.chunks:
        B, v, count = side.gather(ids, width, F if exact else Q)
        if exact:
            x = _solve_exact(xp, B, v, count, lam, weighted, eye, dtype)
            s = np.full(ids.size, -1, dtype=np.int64)
        else:
            x0 = xp.take(W, xp.asarray(ids, device=dev), axis=0)
            x, s_dev = _solve_cg(xp, B, v, count, x0, lam, weighted, P, tau, max_steps, dtype)
            x = xp.matmul(x, xp.matrix_transpose(Rinv))
            s = to_host(s_dev).astype(np.int64)
        parts.append((ids, x))
        steps.append((ids, s))
    new = side.assemble(xp, parts, k, dtype, dev)
    all_steps = np.full(side.n, -1, dtype=np.int64)
    for ids, s in steps:
        all_steps[ids] = s
    return new, all_steps


def _observed_residual(xp, side, U, V):
    total = 0.0
    for ids, width in side.chunks:
        B, v, _ = side.gather(ids, width, V)
        u = xp.take(U, xp.asarray(ids, device=getattr(U, "device", None)), axis=0)
        pred = xp.matmul(B, u[:, :, None])[:, :, 0]
        e = xp.astype(v - pred, xp.float64)
        total += float(xp.sum(e * e))
    return total


def _times(xp, side, X, scale, dtype, dev):
    """``scale * P_O(M) @ X`` by the rows of ``side``."""
    parts = []
    for ids, width in side.chunks:
        B, v, _ = side.gather(ids, width, X)
        parts.append((ids, scale * xp.matmul(v[:, None, :], B)[:, 0, :]))
    return side.assemble(xp, parts, X.shape[1], dtype, dev)


def _initial_left_factor(xp, by_row, by_col, shape, rank, rng, dtype, dev):
    """Top-``rank`` left singular vectors of ``P_O(M) / p`` (randomized SVD, 2 power
    iterations), as on the NumPy path."""
    m, n = shape
    nnz = int(by_row.ptr_host[-1])
    scale = (m * n) / nnz
    width = min(min(m, n), rank + 10)
    G = xp.asarray(rng.standard_normal((n, width)), dtype=dtype, device=dev)
    Qm = xp.linalg.qr(_times(xp, by_row, G, scale, dtype, dev), mode="reduced")[0]
    for _ in range(2):
        Qn = xp.linalg.qr(_times(xp, by_col, Qm, scale, dtype, dev), mode="reduced")[0]
        Qm = xp.linalg.qr(_times(xp, by_row, Qn, scale, dtype, dev), mode="reduced")[0]
    B = xp.matrix_transpose(_times(xp, by_col, Qm, scale, dtype, dev))
    Ub = xp.linalg.svd(B, full_matrices=False)[0]
    return xp.matmul(Qm, Ub[:, :rank])


def _history_row(residual, objective, tau, counts, k, sweep_time, elapsed):
    steps = np.concatenate([s for s, _ in counts])
    c = np.concatenate([c for _, c in counts]).astype(np.float64)
    work = float(np.sum(np.where(steps >= 0, 2.0 * k * c * (1 + steps),
                                 np.where(c > 0, k * k * c + k**3 / 3.0, 0.0))))
    cg = steps[(steps >= 0)]
    exact_rows = int(np.sum((steps < 0) & (c > 0)))
    observed = int(np.count_nonzero(c))
    return (residual, objective, math.nan, tau, float(cg.mean()) if cg.size else 0.0,
            float(cg.max()) if cg.size else 0.0, exact_rows,
            cg.size / observed if observed else 0.0, 0, work, sweep_time, elapsed)
