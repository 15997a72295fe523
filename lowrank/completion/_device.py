"""The array-API backend of :func:`~lowrank.completion.altmin` (CuPy on a GPU, or any
namespace other than NumPy).

The Numba kernels serve NumPy and SciPy input.  Here every per-row regression of a
half-sweep runs as batched dense linear algebra: rows are grouped in buckets of similar
observation counts (``(2^(b-1), 2^b]``), each bucket's observations are gathered into a
zero-padded ``rows x 2^b x k`` block (in chunks of bounded size), and the Gram matrices,
batched solves (``linalg.solve``) and batched conjugate-gradient steps are array
operations.  The outer loop, objective, scaling and stopping rules are those of the NumPy
path (``_loop.py``).  Documented differences: every exact row gets a rounding-level ridge
(``10 k eps tr(G) / k``; the NumPy path adds it only to numerically singular rows, so
``rescued_rows`` is 0 here), rows with fewer observations than the rank are solved in
the primal ``k x k`` form (no dual form), and the robust method always preconditions by
the fixed factor's QR and tries CG on every row.
"""

import contextlib
import math

import numpy as np

from .._backend import device_of, from_host, host_dtype, to_host
from ._loop import INIT_OVERSAMPLING, top_left_singular_vectors, value_scale
from ._work import HalfSweep

__all__ = ["DeviceBackend"]

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

    def gather(self, ids, width, F, offset=0.0, other_bias=None):
        """``(B, v, count)``: the chunk's rows of ``F`` at the observed positions
        (``len(ids) x width x k``, zero padded), their values less ``offset`` and
        ``other_bias`` (zero padded) and the rows' observation counts."""
        xp = self.xp
        dev = device_of(F)
        start = xp.asarray(self.ptr_host[ids], device=dev)
        count = xp.asarray(self.counts[ids], device=dev)
        lane = xp.arange(width, dtype=xp.int64, device=dev)
        mask = lane[None, :] < count[:, None]
        pos = xp.where(mask, start[:, None] + lane[None, :], xp.zeros_like(start)[:, None])
        flat = xp.reshape(pos, (-1,))
        idx = xp.take(self.other, flat)
        m = xp.astype(mask, F.dtype)
        B = xp.reshape(xp.take(F, idx, axis=0), (ids.size, width, F.shape[1])) * m[:, :, None]
        values = xp.take(self.vals, flat)
        if other_bias is not None:
            values = values - xp.take(other_bias, idx)
        if offset:
            values = values - offset
        v = xp.reshape(values, (ids.size, width)) * m
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


class DeviceBackend:
    """Observations ``(rows, cols, vals)`` of namespace ``xp`` (both orientations, on
    their device, scaled by :func:`~._loop.value_scale`) and the batched half-sweep."""

    def __init__(self, xp, rows, cols, vals, shape, settings):
        self.xp, self.shape, self.settings = xp, shape, settings
        self.dtype = vals.dtype
        self.nnz = int(rows.shape[0])
        self.scale = value_scale(float(xp.max(xp.abs(vals))) if self.nnz else 0.0)
        if self.scale != 1.0:
            vals = vals * (1.0 / self.scale)
        m, n = shape
        self.by_row = _Side(xp, rows, cols, vals, m, n)
        key = self.by_row.key
        if key.shape[0] > 1 and bool(xp.any(key[1:] == key[:-1])):
            raise ValueError("`observed` has duplicated (row, col) pairs; on this array "
                             "namespace only duplicates='error' is supported: remove them "
                             "first.")
        self.by_col = _Side(xp, cols, rows, vals, n, m)
        self.device = device_of(vals)
        self.ref = float(xp.sum(xp.astype(vals, xp.float64) ** 2))
        self.lam = settings.lam / self.scale
        self.counts = {side: from_host(xp, s.counts.astype(np.float64), vals, dtype=self.dtype)
                       for side, s in ((True, self.by_row), (False, self.by_col))}

    def dtype_scalar(self, value):
        return float(value)

    def threads(self):
        return contextlib.nullcontext()

    def mean_value(self):
        xp = self.xp
        return float(xp.mean(xp.astype(self.by_row.vals, xp.float64))) if self.nnz else 0.0

    def initial_left_factor(self, rng, rank, offset):
        """Top-``rank`` left singular vectors of ``P_O(M - offset) / p`` (randomized SVD),
        as on the NumPy path."""
        xp = self.xp
        m, n = self.shape
        p_inverse = (m * n) / self.nnz
        width = min(min(m, n), rank + INIT_OVERSAMPLING)
        G = from_host(xp, rng.standard_normal((n, width)), self.by_row.vals, dtype=self.dtype)
        U = top_left_singular_vectors(
            lambda X: self._times(self.by_row, X, p_inverse, offset),
            lambda X: self._times(self.by_col, X, p_inverse, offset), G, rank,
            lambda Y: xp.linalg.qr(Y, mode="reduced")[0],
            lambda B: xp.linalg.svd(B, full_matrices=False)[0])
        return U

    def _times(self, side, X, scale, offset):
        """``scale * P_O(M - offset) @ X`` by the rows of ``side``."""
        xp = self.xp
        parts = []
        for ids, width in side.chunks:
            B, v, _ = side.gather(ids, width, X, offset)
            parts.append((ids, scale * xp.matmul(v[:, None, :], B)[:, 0, :]))
        return side.assemble(xp, parts, X.shape[1], self.dtype, self.device)

    def half_sweep(self, by_row, F, X, *, tau, exact, part, offset, other_bias):
        """New factor ``X`` given the fixed factor ``F`` (all rows of one side), fitting
        ``M_ij - offset - other_bias_j``; returns ``(X, HalfSweep)`` (``part`` is the
        NumPy path's sample split, not offered here)."""
        xp = self.xp
        side = self.by_row if by_row else self.by_col
        k = F.shape[1]
        eye = xp.eye(k, dtype=self.dtype, device=self.device)
        weighted, lam = self.settings.weighted, self.lam
        if not exact:
            Q, R = xp.linalg.qr(F, mode="reduced")
            Rinv = xp.linalg.inv(R)
            P = xp.matmul(xp.matrix_transpose(Rinv), Rinv) if lam else eye
            W = xp.matmul(X, xp.matrix_transpose(R))
        parts = []
        steps = np.full(side.n, -1, dtype=np.int64)
        for ids, width in side.chunks:
            B, v, count = side.gather(ids, width, F if exact else Q, offset, other_bias)
            if exact:
                x = _solve_exact(xp, B, v, count, lam, weighted, eye, self.dtype)
            else:
                x0 = xp.take(W, xp.asarray(ids, device=self.device), axis=0)
                x, s = _solve_cg(xp, B, v, count, x0, lam, weighted, P, tau,
                                 self.settings.max_steps, self.dtype)
                x = xp.matmul(x, xp.matrix_transpose(Rinv))
                steps[ids] = to_host(s).astype(np.int64)
            parts.append((ids, x))
        new = side.assemble(xp, parts, k, self.dtype, self.device)
        return new, HalfSweep(steps, side.counts, "exact" if exact else "qr", dual=False)

    def residual(self, U, V, offset):
        """``(sum e^2, sum e)`` of ``e = M_ij - offset - u_i . v_j`` (float64)."""
        xp = self.xp
        squares = total = 0.0
        for ids, width in self.by_row.chunks:
            B, v, _ = self.by_row.gather(ids, width, V, offset)
            u = xp.take(U, xp.asarray(ids, device=self.device), axis=0)
            e = xp.astype(v - xp.matmul(B, u[:, :, None])[:, :, 0], xp.float64)
            squares += float(xp.sum(e * e))
            total += float(xp.sum(e))
        return squares, total

    def penalty(self, X, by_row):
        xp = self.xp
        if self.settings.weighted:
            return float(xp.sum(self.counts[by_row] * xp.sum(X * X, axis=1)))
        return float(xp.sum(X * X))

    def validation_rmse(self, U, V, offset):
        return math.nan  # validation data is NumPy-only


def _solve_exact(xp, B, v, count, lam, weighted, P, dtype):
    k = B.shape[2]
    G = xp.matmul(xp.matrix_transpose(B), B)
    lam_i = lam * xp.astype(count, dtype) if weighted else lam * xp.ones(count.shape[0],
                                                                             dtype=dtype)
    G = G + lam_i[:, None, None] * P[None, :, :]
    # a ridge at rounding level keeps numerically singular rows solvable (NumPy path: the
    # rescue ridge of its Cholesky, on those rows only)
    eps = float(np.finfo(host_dtype(dtype)).eps)
    trace = xp.sum(xp.linalg.diagonal(G), axis=1)
    eye = xp.eye(k, dtype=dtype, device=device_of(B))
    G = G + (10.0 * k * eps * trace / k)[:, None, None] * eye[None, :, :]
    rhs = xp.matmul(xp.matrix_transpose(B), v[:, :, None])
    return xp.linalg.solve(G, rhs)[:, :, 0]


def _solve_cg(xp, B, v, count, x, lam, weighted, P, rtol, max_steps, dtype):
    """Batched CG from ``x``; rows that do not reach ``rtol`` in ``max_steps`` steps are
    solved exactly.  Returns ``(x, steps)``, steps -3 for those rows (the NumPy kernels'
    code)."""
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
        steps = xp.where(unfinished, xp.full_like(steps, -3), steps)
    return x, steps
