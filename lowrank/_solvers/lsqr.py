"""LSQR (Paige and Saunders, 1982) written against the array API namespace, for a block
of right-hand sides.

A small, private implementation so that the sketch-preconditioned solvers run on every
backend (NumPy, CuPy, array API) with one code path and report every iteration.  The
``k`` columns of the right-hand side run ``k`` independent LSQR recurrences side by side
(each with its own scalars and stopping tests) whose products are taken together, so
that an iteration applies the operator once to the block of columns still running: one
pass over the data for all of them.
"""

import time

import numpy as np

from .._backend import (
    column_norms,
    from_host,
    put_columns,
    scale_columns,
    take_columns,
    where_columns,
)

__all__ = ["lsqr"]


def _divide_columns(xp, X, divisors):
    """``X`` with column ``j`` divided by ``divisors[j]``, where that is positive."""
    divisors = np.where(divisors > 0.0, divisors, 1.0)
    return X / from_host(xp, divisors[None, :], X, dtype=X.dtype)


def lsqr(xp, matvec, rmatvec, B, n_cols, *, atol, btol, maxiter, dtype, callback=None,
         anorm_guess=1.0, clock=None, b_norms=None):
    """Solve ``min ||M z_j - b_j||`` for every column ``b_j`` of ``B`` (n x k) from
    ``z = 0`` by LSQR.

    ``matvec(Z) = M Z`` and ``rmatvec(U) = M^T U`` for blocks of columns.  Column ``j``
    stops when ``||M^T r|| <= atol ||M||_F ||r||`` (least-squares test), when
    ``||r|| <= btol beta_j + atol ||M||_F ||z_j||`` (consistent test, ``beta_j =
    b_norms[j]``, by default ``||b_j||``; a refinement solve on a residual passes the
    original right-hand side's norms, so that a residual already at rounding level
    costs no iterations), or after
    ``maxiter[j]`` iterations (``maxiter`` may be one int for all columns); the columns
    still running share each product.

    ``anorm_guess`` estimates ``||M||`` for the test made before the first iteration
    (about 1 for a sketch-preconditioned operator), so that an already optimal
    ``z = 0`` costs no iteration.  ``callback(iteration, Z, residual_estimates)`` is
    called after each iteration with the current ``z`` and residual estimate (a NumPy
    array) of the columns still running; returning True stops them all.  ``clock()`` gives the time
    recorded in the history (default: seconds since the call).

    Returns ``(Z, istop, n_iter, history)``: ``istop[j]`` is 1 or 2 for the tests above,
    0 for a zero right-hand side, 7 when ``maxiter[j]`` was reached and 8 when the
    callback stopped; ``n_iter[j]`` the iterations of column ``j``; ``history[j]`` lists
    ``(residual_estimate, arnorm_rel, time)`` per iteration of column ``j``.
    """
    if clock is None:
        t0 = time.perf_counter()

        def clock():
            return time.perf_counter() - t0

    k = B.shape[1]
    maxiter = np.broadcast_to(np.asarray(maxiter, dtype=np.int64), (k,))
    Z_out = xp.zeros((n_cols, k), dtype=dtype)
    istop = np.full(k, 7, dtype=np.int64)
    n_iter = np.zeros(k, dtype=np.int64)
    history = [[] for _ in range(k)]
    beta = column_norms(xp, B)
    istop[beta == 0.0] = 0
    U = _divide_columns(xp, B, beta)
    V = rmatvec(U)
    alpha = column_norms(xp, V)
    optimal = (beta > 0.0) & (alpha <= atol * anorm_guess)
    istop[optimal] = 2
    V = _divide_columns(xp, V, alpha)
    running = np.flatnonzero((beta > 0.0) & ~optimal & (maxiter > 0))
    if running.size < k:
        positions = running
        U, V, alpha, beta = (take_columns(xp, U, positions), take_columns(xp, V, positions),
                             alpha[positions], beta[positions])
    state = _State(xp, V, beta, alpha)
    if b_norms is not None:
        state.bnorm = np.asarray(b_norms, dtype=np.float64)[running]
    while running.size:
        U = matvec(V) - scale_columns(xp, U, alpha)
        beta = column_norms(xp, U)
        state.anorm2 += alpha * alpha + beta * beta
        moved = beta > 0.0
        U = _divide_columns(xp, U, beta)
        V_new = rmatvec(U) - scale_columns(xp, V, beta)
        alpha_new = column_norms(xp, V_new)
        V, alpha = where_columns(xp, moved, V_new, V), np.where(moved, alpha_new, alpha)
        V = _divide_columns(xp, V, np.where(moved, alpha, 1.0))
        rnorm, arnorm_rel, znorm = state.step(V, beta, alpha)
        n_iter[running] += 1
        now = clock()
        for p, j in enumerate(running):
            history[j].append((float(rnorm[p]), float(arnorm_rel[p]), now))
        if callback is not None:
            if callback(int(n_iter[running].max()), state.Z, rnorm):
                istop[running] = 8
                Z_out = put_columns(xp, Z_out, running, state.Z)
                break
        consistent = rnorm <= btol * state.bnorm + atol * np.sqrt(state.anorm2) * znorm
        stationary = arnorm_rel <= atol
        istop[running[consistent]] = 1
        istop[running[stationary & ~consistent]] = 2
        finished = consistent | stationary | (n_iter[running] >= maxiter[running])
        if finished.any():
            Z_out = put_columns(xp, Z_out, running[finished],
                                take_columns(xp, state.Z, np.flatnonzero(finished)))
            keep = np.flatnonzero(~finished)
            running = running[keep]
            U, V, alpha = take_columns(xp, U, keep), take_columns(xp, V, keep), alpha[keep]
            state.keep(keep)
    return Z_out, istop, n_iter, history


class _State:
    """The per-column recurrences of LSQR after the bidiagonalization step: the
    solution ``Z``, the direction ``W`` and the scalars (host arrays)."""

    def __init__(self, xp, V, beta, alpha):
        self.xp = xp
        self.Z = xp.zeros_like(V)
        self.W = V
        self.phibar, self.rhobar = beta, alpha
        self.bnorm = beta
        self.anorm2 = np.zeros_like(beta)

    def step(self, V, beta, alpha):
        """One rotation; returns the residual estimates, ``||M^T r|| / (||M|| ||r||)``
        and ``||z||`` per column."""
        xp = self.xp
        rho = np.hypot(self.rhobar, beta)
        c, s = self.rhobar / rho, beta / rho
        theta = s * alpha
        self.rhobar = -c * alpha
        phi = c * self.phibar
        self.phibar = s * self.phibar
        self.Z = self.Z + scale_columns(xp, self.W, phi / rho)
        self.W = V - scale_columns(xp, self.W, theta / rho)
        rnorm = self.phibar
        arnorm = self.phibar * alpha * np.abs(c)
        anorm_rnorm = np.sqrt(self.anorm2) * rnorm
        arnorm_rel = np.divide(arnorm, anorm_rnorm, out=np.zeros_like(arnorm),
                               where=rnorm > 0)
        return rnorm, arnorm_rel, column_norms(xp, self.Z)

    def keep(self, positions):
        """Drop every column but those at ``positions``."""
        xp = self.xp
        self.Z = take_columns(xp, self.Z, positions)
        self.W = take_columns(xp, self.W, positions)
        for name in ("phibar", "rhobar", "bnorm", "anorm2"):
            setattr(self, name, getattr(self, name)[positions])
