"""The NumPy/SciPy backend of :func:`~lowrank.completion.altmin`: the Numba kernels of
``lowrank/_kernels/completion*.py`` on :class:`~lowrank.completion.Observations`."""

import contextlib
import dataclasses
import math

import numpy as np
import scipy.linalg

from .. import _kernels
from .._threads import blas_single_threaded, threads_for
from ._loop import INIT_OVERSAMPLING, top_left_singular_vectors, value_scale
from ._observations import as_observations
from ._work import SKETCH_NNZ, SKETCH_ROWS_PER_RANK, HalfSweep

__all__ = ["HostBackend"]


class HostBackend:
    """The observations (scaled by :func:`~._loop.value_scale`) and the kernels that
    solve a half-sweep on them.

    ``split_rng`` (the analysis' sample splitting into ``2 maxiter + 1`` parts) and
    ``clip`` (the initial factor's clipping) are the proof devices of :func:`altmin`;
    ``held_out`` are validation entries ``(rows, cols, values)``.
    """

    xp = np

    def __init__(self, obs, settings, *, preconditioner, by_cost, held_out, split_rng, clip,
                 sketch_rng):
        self.kernels = _kernels.load("completion")
        self.settings = settings
        self.preconditioner = preconditioner
        self.by_cost = by_cost
        self.held_out = held_out
        self.clip = clip
        self.sketch_rng = sketch_rng
        self.shape, self.dtype, self.nnz = obs.shape, obs.dtype, obs.nnz
        self.scale = value_scale(float(np.max(np.abs(obs.row_vals))) if obs.nnz else 0.0)
        self.full = _divided(obs, self.scale)
        self.ref = float(np.sum(np.square(self.full.row_vals, dtype=np.float64)))
        self.lam = settings.lam / self.scale
        self.counts = {True: obs.row_counts(), False: obs.col_counts()}
        self.parts = (_split(self.full, 2 * settings.maxiter + 1, split_rng)
                      if split_rng is not None else None)

    def dtype_scalar(self, value):
        """``value`` as a scalar of the observations' dtype."""
        return self.dtype.type(value)

    def threads(self):
        """Numba threads sized to the work, BLAS single-threaded (the kernels parallelize
        over rows)."""
        stack = contextlib.ExitStack()
        stack.enter_context(threads_for(self.nnz * self.settings.rank))
        stack.enter_context(blas_single_threaded())
        return stack

    def mean_value(self):
        """The mean observed value (scaled)."""
        return float(np.mean(self.full.row_vals, dtype=np.float64)) if self.nnz else 0.0

    def initial_left_factor(self, rng, rank, offset):
        """Top-``rank`` left singular vectors of ``P_O(M - offset) / p``
        (``p = |O| / (m n)``; the first part with ``split``), clipped with ``clip``."""
        obs = self.parts[0] if self.parts else self.full
        if offset:
            obs = _shifted(obs, offset)
        m, n = obs.shape
        p_inverse = (m * n) / obs.nnz
        sparse_times_dense = self.kernels.sparse_times_dense

        def times(X):  # P_O(M) X / p
            return sparse_times_dense(obs.row_ptr, obs.row_cols, obs.row_vals,
                                      np.ascontiguousarray(X, dtype=self.dtype), p_inverse)

        def times_t(X):  # P_O(M)^T X / p
            return sparse_times_dense(obs.col_ptr, obs.col_rows, obs.col_vals,
                                      np.ascontiguousarray(X, dtype=self.dtype), p_inverse)

        width = min(min(m, n), rank + INIT_OVERSAMPLING)
        G = rng.standard_normal((n, width)).astype(self.dtype)
        U = np.ascontiguousarray(top_left_singular_vectors(times, times_t, G, rank, _qr_q,
                                                           _svd_u), dtype=self.dtype)
        return U if self.clip is None else _clipped(U, self.clip)

    def half_sweep(self, by_row, F, X, *, tau, exact, part, offset, other_bias):
        """New factor ``X`` (rows of ``M`` when ``by_row``, else columns) given the fixed
        factor ``F``, fitting ``M_ij - offset - other_bias_j``; returns ``(X, HalfSweep)``."""
        obs = self.parts[part] if self.parts else self.full
        if by_row:
            ptr, idx, vals = obs.row_ptr, obs.row_cols, obs.row_vals
        else:
            ptr, idx, vals = obs.col_ptr, obs.col_rows, obs.col_vals
        if other_bias is not None:
            vals = (vals - offset - other_bias[idx]).astype(self.dtype, copy=False)
        F, X = np.ascontiguousarray(F), np.ascontiguousarray(X)
        k, max_steps = F.shape[1], self.settings.max_steps
        if exact:
            return self._exact(ptr, idx, vals, F, X)
        if self.preconditioner == "sketch":
            return self._sketch_pcg(ptr, idx, vals, F, X, tau)
        if self.by_cost and self.kernels.exact_is_cheaper_everywhere(ptr, k, tau, max_steps):
            # every row's Gram matrix is cheaper than its CG steps: no QR needed
            return self._exact(ptr, idx, vals, F, X)
        Q, R = scipy.linalg.qr(F, mode="economic", check_finite=False)
        d = np.abs(np.diag(R))
        if d.min() <= d.max() * F.shape[0] * np.finfo(self.dtype).eps:
            # the fixed factor lost rank: no QR preconditioner
            return self._exact(ptr, idx, vals, F, X)
        return self._qr_pcg(ptr, idx, vals, Q, R, X, tau)

    def _qr_pcg(self, ptr, idx, vals, Q, R, X, tau):
        """CG per row in ``w = R x`` (``F = Q R``): entries ``q_i^T w``, penalty
        ``lam w^T (R R^T)^-1 w``."""
        eye = np.eye(R.shape[0], dtype=self.dtype)
        Rinv = scipy.linalg.solve_triangular(R, eye, check_finite=False)
        P = Rinv.T @ Rinv if self.lam else eye
        Pinv = R @ R.T if self.lam else eye
        W = np.ascontiguousarray(X @ R.T)
        steps = np.zeros(X.shape[0], dtype=np.int64)
        self.kernels.solve_rows_cg(ptr, idx, vals, np.ascontiguousarray(Q), self.lam,
                                   self.settings.weighted, np.ascontiguousarray(P),
                                   np.ascontiguousarray(Pinv), W, tau,
                                   self.settings.max_steps, steps, self.by_cost)
        return np.ascontiguousarray(W @ Rinv.T), HalfSweep(steps, np.diff(ptr), "qr")

    def _sketch_pcg(self, ptr, idx, vals, F, X, tau):
        """CG per row preconditioned by the QR of its own sketch (the paper's)."""
        solve_rows_sketch_pcg = _kernels.load("completion_sketch").solve_rows_sketch_pcg
        out = X.copy()
        steps = np.zeros(X.shape[0], dtype=np.int64)
        seed = int(self.sketch_rng.integers(0, 2**63))
        solve_rows_sketch_pcg(ptr, idx, vals, F, self.lam, self.settings.weighted, out, tau,
                              self.settings.max_steps, SKETCH_ROWS_PER_RANK * F.shape[1],
                              SKETCH_NNZ, seed, steps)
        return out, HalfSweep(steps, np.diff(ptr), "sketch")

    def _exact(self, ptr, idx, vals, F, X):
        out = np.empty_like(X)
        flags = np.empty(X.shape[0], dtype=np.int64)
        self.kernels.solve_rows_exact(ptr, idx, vals, F, self.lam, self.settings.weighted,
                                      out, flags)
        return out, HalfSweep(flags, np.diff(ptr), "exact")

    def residual(self, U, V, offset):
        """``(sum e^2, sum e)`` of ``e = M_ij - offset - u_i . v_j`` over all
        observations (float64)."""
        f = self.full
        return self.kernels.observed_residual(f.row_ptr, f.row_cols, f.row_vals,
                                              np.ascontiguousarray(U),
                                              np.ascontiguousarray(V), float(offset))

    def penalty(self, X, by_row):
        """``sum_i c_i ||x_i||^2`` (``c_i`` the row's observations with frequency
        weighting, else 1)."""
        if self.settings.weighted:
            return float(self.counts[by_row] @ np.sum(X * X, axis=1))
        return float(np.sum(X * X))

    def validation_rmse(self, U, V, offset):
        """RMSE on the held-out entries (NaN without them), in the data's units."""
        if self.held_out is None:
            return math.nan
        rows, cols, values = self.held_out
        pred = (np.einsum("ij,ij->i", U[rows], V[cols]) + offset) * self.scale
        return float(np.sqrt(np.mean((pred - values) ** 2)))


def _qr_q(Y):
    return scipy.linalg.qr(Y, mode="economic", check_finite=False)[0]


def _svd_u(B):
    return scipy.linalg.svd(B, full_matrices=False, check_finite=False)[0]


def _with_values(obs, row_vals, col_vals):
    row_vals.flags.writeable = col_vals.flags.writeable = False  # as in every Observations
    return dataclasses.replace(obs, row_vals=row_vals, col_vals=col_vals)


def _divided(obs, scale):
    """``obs`` with its values divided by ``scale`` (``obs`` itself when it is 1)."""
    if scale == 1.0:
        return obs
    inverse = obs.dtype.type(1.0 / scale)
    return _with_values(obs, obs.row_vals * inverse, obs.col_vals * inverse)


def _shifted(obs, offset):
    """``obs`` with ``offset`` subtracted from its values."""
    shift = obs.dtype.type(offset)
    return _with_values(obs, obs.row_vals - shift, obs.col_vals - shift)


def _split(obs, n_parts, rng):
    """The observations split uniformly at random into ``n_parts`` Observations."""
    rows, cols, vals = obs.coo()
    assign = rng.integers(0, n_parts, obs.nnz)
    parts = []
    for p in range(n_parts):
        sel = assign == p
        if not np.any(sel):
            raise ValueError(f"split=True left part {p} of {n_parts} without observations; "
                             "lower `maxiter` or observe more entries.")
        parts.append(as_observations((rows[sel], cols[sel], vals[sel]), shape=obs.shape,
                                     check_finite=False))
    return parts


def _clipped(U, mu):
    """Zero the entries above ``2 mu sqrt(k / m)`` and re-orthonormalize (JNS13)."""
    m, k = U.shape
    U = np.where(np.abs(U) > 2.0 * mu * math.sqrt(k / m), 0.0, U).astype(U.dtype)
    return np.ascontiguousarray(_qr_q(U))
