"""The iterative phase of :func:`lowrank.regression.lstsq`: the sketch and its
preconditioner, LSQR with iterative refinement (sketch-and-precondition) and heavy-ball
iterative sketching.

Both methods run every column of the right-hand side at once (a 1-D ``b`` is one
column): each iteration takes one pass over ``A`` for all the columns still running,
while each column keeps its own scalars, stopping test, iteration budget and
:class:`~lowrank._result.IterationLog` (the logs share a clock).
"""

import contextlib
import dataclasses
import logging
import math
import time
from typing import NamedTuple

import numpy as np

from .. import _kernels
from .._backend import (
    column_norms,
    host_dtype,
    is_numpy_namespace,
    is_sparse,
    put_columns,
    scale_columns,
    take_columns,
    where_columns,
)
from .._result import IterationLog
from .._solvers.lsqr import lsqr
from .._threads import blas_single_threaded, threads_for
from ..sketch import make_sketch
from ._preconditioners import preconditioner_from_sketch

__all__ = ["BlockRun", "Problem", "iterative_sketching", "sketch_and_precondition",
           "sketch_factor"]

logger = logging.getLogger(__name__)

# The columns of lstsq's history (see LstsqResult).
_HISTORY = ("residual", "backward_error", "relative_step")

# Iteration limit of each method when lstsq gets maxiter=None.
_DEFAULT_MAXITER = {"sketch_and_precondition": 100, "iterative_sketching": 200}

# Nonzeros per column of lstsq's sparse sign sketch.  Measured on 2^17 x 256 (cond 1e8)
# and on a coherent 2^15 x 128 problem: 4 nonzeros gave the same iteration counts as 8
# (17-21) with a 20% faster solve; the Cholesky QR step only needs SA of full rank.
_SPARSE_SIGN_NNZ = 4
# Sketch kinds whose operator generates its entries during each product.
_DRAWN_PER_PRODUCT = ("gaussian", "rademacher")

# Rows per block of the fused gradient and transpose products (fixed, so results do not
# depend on the thread count).
_GRADIENT_BLOCK_ROWS = 4096
# The fused gradient kernel reads A once but runs at about 8 GFLOP/s; BLAS-3 products
# on row blocks of A win from 4 columns on (2^17 x 256, 2 cores: kernel 0.022 / 0.034 /
# 0.069 / 0.13 s at k = 1 / 2 / 4 / 8 columns, 1024-row BLAS blocks 0.050 / 0.060 /
# 0.054 / 0.072 s; 4096-row blocks were 10-15 % slower).  The transpose kernel beat
# BLAS at every k (0.014 / 0.039 s against 0.021 / 0.048 s at k = 1 / 8).
_FUSED_GRADIENT_MAX_COLUMNS = 3
_BLAS_BLOCK_ROWS = 1024


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """A validated least-squares problem and the settings lstsq solves it with.

    Attributes
    ----------
    xp : namespace
        The array namespace of ``A`` and ``b``.
    A : (n, d) array or sparse matrix
    b : (n,) or (n, k) array
        In the dtype of ``A``.
    kind : str
        Sketch family.
    sketch_size : int
        Rows of the sketch.
    rng : numpy.random.Generator
        Source of the sketch.
    tol : float
        Relative tolerance of the iterative phase.
    maxiter : int or None
        The user's iteration limit (None: each method's default).
    callback : callable or None
        The user's callback.
    """

    xp: object
    A: object
    b: object
    kind: str
    sketch_size: int
    rng: object
    tol: float = 0.0
    maxiter: int | None = None
    callback: object = None

    @property
    def B(self):
        """The right-hand sides as an (n, k) block."""
        return self.b if self.b.ndim == 2 else self.b[:, None]

    def columns(self, positions):
        """The same problem with the columns ``positions`` (a host index array) of a
        2-D ``b`` as its right-hand side (a 1-D problem is its own single column)."""
        if self.b.ndim == 1:
            return self
        return dataclasses.replace(self, b=take_columns(self.xp, self.b, positions))

    def notify(self, iteration, X, residuals):
        """Call the user's callback with the current iterates ``X`` (one column per
        right-hand side still running) and their residual estimates (a host array);
        a 1-D problem passes ``X[:, 0]`` and a float.  True when it asks to stop."""
        if self.callback is None:
            return False
        if self.b.ndim == 1:
            return bool(self.callback(iteration, X[:, 0], float(residuals[0])))
        return bool(self.callback(iteration, X, residuals))


class BlockRun(NamedTuple):
    """How the iterative phase ended: the iterates ``X`` (d x k), the residual norms
    ``||b_j - A x_j||`` (host array), one iteration log and one note (appended to the
    log's message) per column, and the preconditioner it ran with."""

    X: object
    residual_norms: np.ndarray
    logs: list
    notes: list
    preconditioner: object


def sketch_factor(problem):
    """Sketch ``[A b]`` once; return the preconditioner of ``S A`` and the sketched
    solution's coordinates ``z0`` (``x0 = M z0``), see
    :func:`~._preconditioners.preconditioner_from_sketch`."""
    xp, A, b, kind, sketch_size = (problem.xp, problem.A, problem.b, problem.kind,
                                   problem.sketch_size)
    options = {"nnz_per_column": min(_SPARSE_SIGN_NNZ, sketch_size)} if (
        kind == "sparse_sign") else {}
    S = make_sketch(kind, sketch_size, A.shape[0], rng=problem.rng, **options)
    d = A.shape[1]
    if kind in _DRAWN_PER_PRODUCT and not is_sparse(A):
        # A dense sketch draws S anew for every product: sketch [A b] in one product (a
        # copy of A, small beside the product's 2 m n d flops) rather than draw S twice.
        SAb = S @ xp.concat([A, problem.B], axis=1)
        SA, Sb = SAb[:, :d], (SAb[:, d] if b.ndim == 1 else SAb[:, d:])
    else:
        SA, Sb = S @ A, S @ b
    eps = float(np.finfo(host_dtype(A.dtype)).eps)
    return preconditioner_from_sketch(xp, SA, Sb, eps)


def _new_logs(problem, method):
    """One iteration log per right-hand side, with the problem's ``maxiter`` and a
    shared clock (the callback is called per block iteration, by the methods)."""
    start = time.perf_counter()
    maxiter = problem.maxiter or _DEFAULT_MAXITER[method]
    return [IterationLog(_HISTORY, maxiter=maxiter, start=start)
            for _ in range(problem.B.shape[1])]


def _as_block(Z):
    return Z if Z.ndim == 2 else Z[:, None]


def sketch_and_precondition(problem, factor, logs=None):
    """LSQR on ``A M`` from the warm start ``X0 = M Z0`` (``factor = (M, Z0)``), then at
    most two refinement solves on the updated residual (SPIR), every column at once.

    ``logs`` continue existing iteration logs, one per column, and their iteration
    budgets (see :func:`iterative_sketching`); by default new ones.  Returns a
    :class:`BlockRun`.
    """
    xp, A, B = problem.xp, problem.A, problem.B
    M, Z0 = factor
    logs = logs or _new_logs(problem, "sketch_and_precondition")
    X = M.apply(_as_block(Z0))
    R = B - A @ X
    r_norms = column_norms(xp, R)
    b_norms = column_norms(xp, B)
    cold = r_norms >= b_norms  # keep the warm start only where it helps
    if cold.any():
        X = where_columns(xp, cold, xp.zeros_like(X), X)
        R = where_columns(xp, cold, B, R)
        r_norms = np.where(cold, b_norms, r_norms)
    transpose_times = _transpose_operator(xp, A)

    def matvec(Z):
        with _small_products(xp):
            W = M.apply(Z)
        return A @ W

    def rmatvec(U):
        T = transpose_times(U)
        with _small_products(xp):
            return M.apply_T(T)

    budget = np.asarray([log.maxiter - log.n_iter for log in logs], dtype=np.int64)
    for log in logs:
        log.converge("converged")
    running = np.flatnonzero(budget > 0)
    for _ in range(2):  # SPIR: at most two refinement solves per column
        if not running.size:
            break

        dZ, istop, itn, rows = lsqr(
            xp, matvec, rmatvec, take_columns(xp, R, running), M.n_cols, atol=problem.tol,
            btol=problem.tol, maxiter=budget[running], dtype=A.dtype,
            callback=problem.notify if problem.callback is not None else None,
            clock=logs[0].elapsed, b_norms=b_norms[running])
        for p, j in enumerate(running):
            logs[j].extend([(res, backward, math.nan, t) for res, backward, t in rows[p]])
        budget[running] -= itn
        moved = np.flatnonzero(itn > 0)
        if moved.size:
            columns = running[moved]
            Xm = take_columns(xp, X, columns) + M.apply(take_columns(xp, dZ, moved))
            Rm = take_columns(xp, B, columns) - A @ Xm
            X, R = put_columns(xp, X, columns, Xm), put_columns(xp, R, columns, Rm)
            r_norms[columns] = column_norms(xp, Rm)
        again = []
        for p, j in enumerate(running):
            if istop[p] == 7:
                logs[j].fail(f"maxiter={logs[j].maxiter} reached")
            elif istop[p] == 8:
                logs[j].stopped_by_callback = True
                logs[j].fail("stopped by callback")
            elif itn[p] > 1:
                again.append(j)
        running = np.asarray(again, dtype=np.int64)
    return BlockRun(X, r_norms, logs, [""] * len(logs), M)


def _small_products(xp):
    """Context for the preconditioner's O(d^2 k) products between passes over A: BLAS
    on one thread on the host.  Multithreaded, they woke the threads of SciPy's copy of
    OpenBLAS, which then kept spinning against NumPy's (or Numba's) in the next pass:
    the pass ran at half speed (2^17 x 256, 8 columns, 2 cores: 0.15 s against 0.08 s)."""
    return blas_single_threaded() if is_numpy_namespace(xp) else contextlib.nullcontext()


def _transpose_operator(xp, A):
    """``U -> A^T U`` for a block ``U``: blocked sums in a Numba kernel for a C-ordered
    dense host ``A`` (more accurate than one n-term BLAS sum, and thread-count
    independent), the namespace's product otherwise."""
    if is_numpy_namespace(xp) and not is_sparse(A) and A.flags.c_contiguous:
        transpose_times = _kernels.load("regression").transpose_times

        def product(U):
            with threads_for(A.size * U.shape[1]):
                return transpose_times(A, np.ascontiguousarray(U), _GRADIENT_BLOCK_ROWS).T

        return product
    AT = A.T if is_sparse(A) else xp.matrix_transpose(A)
    return lambda U: AT @ U


def _gradient_operator(xp, A):
    """``(B, X) -> (A^T (B - A X), column norms of B - A X)``.  For a C-ordered dense
    host ``A``, one pass over ``A`` for all the columns: a fused Numba kernel for a few
    columns, row blocks of two BLAS-3 products (the block stays in cache between them)
    for more; two products otherwise."""
    if is_numpy_namespace(xp) and not is_sparse(A) and A.flags.c_contiguous:
        residual_gradient = _kernels.load("regression").residual_gradient

        def gradient(B, X):
            if B.shape[1] > _FUSED_GRADIENT_MAX_COLUMNS:
                return _blocked_residual_gradient(A, B, X)
            with threads_for(A.size * B.shape[1]):
                GT, rr = residual_gradient(A, np.ascontiguousarray(B),
                                           np.ascontiguousarray(X.T), _GRADIENT_BLOCK_ROWS)
            return GT.T, np.sqrt(rr.astype(np.float64))

        return gradient
    AT = A.T if is_sparse(A) else xp.matrix_transpose(A)

    def gradient(B, X):
        R = B - A @ X
        return AT @ R, column_norms(xp, R)

    return gradient


def _blocked_residual_gradient(A, B, X):
    """``(A^T (B - A X), column norms of B - A X)`` for a dense host ``A``, by fixed row
    blocks added in order (thread-count independent)."""
    G = np.zeros((A.shape[1], B.shape[1]), dtype=A.dtype)
    rr = np.zeros(B.shape[1])
    for start in range(0, A.shape[0], _BLAS_BLOCK_ROWS):
        Ab = A[start:start + _BLAS_BLOCK_ROWS]
        Rb = B[start:start + _BLAS_BLOCK_ROWS] - Ab @ X
        G += Ab.T @ Rb
        rr += np.einsum("ij,ij->j", Rb, Rb, dtype=np.float64)
    return G, np.sqrt(rr)


class _HeavyBall:
    """The per-column state of :func:`iterative_sketching` (host arrays of length k):
    step ``alpha`` and momentum ``beta``, the best iterate so far and the divergence
    safeguard's counters."""

    def __init__(self, k, alpha, beta, X, r_norms):
        self.alpha = np.full(k, alpha)
        self.beta = np.full(k, beta)
        self.best_X, self.best_r = X, r_norms.copy()
        self.best_change = np.full(k, np.inf)
        self.growth = np.zeros(k, dtype=np.int64)
        self.damped = np.zeros(k, dtype=bool)

    def diverging(self, xp, X, r_norms, change, running):
        """Update the best iterate and the counters of the ``running`` columns; return
        those whose steps kept growing (three doublings of the smallest step in a row:
        heavy ball's transients do not do that, divergence does)."""
        better = np.zeros_like(running, dtype=bool)
        better[running] = r_norms[running] < self.best_r[running]
        if better.any():
            self.best_X = where_columns(xp, better, X, self.best_X)
            self.best_r = np.where(better, r_norms, self.best_r)
        smaller = running & (change < self.best_change)
        grew = running & ~smaller & (change > 2 * self.best_change)
        self.best_change = np.where(smaller, change, self.best_change)
        self.growth = np.where(smaller, 0, self.growth + grew)
        return running & (self.growth >= 3)

    def restart(self, columns):
        """Drop the momentum of ``columns`` (a boolean mask) and halve their step if it
        was dropped before (Richardson converges for a small enough step)."""
        self.alpha = np.where(columns, np.where(self.damped, self.alpha / 2, 1.0),
                              self.alpha)
        self.beta = np.where(columns, 0.0, self.beta)
        self.damped |= columns
        self.growth = np.where(columns, 0, self.growth)
        self.best_change = np.where(columns, np.inf, self.best_change)


def iterative_sketching(problem, factor):
    """Richardson iteration with the preconditioner ``M`` and heavy-ball momentum from
    ``X0 = M Z0`` (``factor = (M, Z0)``), every column at once; returns a
    :class:`BlockRun`.

    Momentum is dropped for a column (and its step halved on each further divergence)
    when its steps keep growing; columns still far from converged after the steps heavy
    ball needs on a Gaussian embedding continue by LSQR (:func:`_finish_by_lsqr`).
    """
    xp, A, B = problem.xp, problem.A, problem.B
    M, Z0 = factor
    logs = _new_logs(problem, "iterative_sketching")
    k, d = B.shape[1], A.shape[1]
    rho = d / problem.sketch_size
    eps = float(np.finfo(host_dtype(A.dtype)).eps)
    a_norm, s_min = M.singular_values()
    kappa = a_norm / s_min
    gradient = _gradient_operator(xp, A)
    X = M.apply(_as_block(Z0))
    X_prev = X
    G, r_norms = gradient(B, X)
    # Heavy-ball parameters optimal for the spectrum of a Gaussian embedding (note).
    state = _HeavyBall(k, (1.0 - rho) ** 2, rho, X, r_norms)
    running = np.ones(k, dtype=bool)
    # Heavy ball reaches full accuracy in about this many steps when the sketch embeds
    # as well as a Gaussian one; far slower progress means the spectrum is wider than
    # the momentum parameters assume (small n, coherent A).
    patience = 2 * int(np.ceil(np.log(eps) / np.log(np.sqrt(rho)))) + 10
    for it in range(1, logs[0].maxiter + 1):
        if it > patience:
            return _finish_by_lsqr(problem, M, X, r_norms, logs, np.flatnonzero(running))
        with _small_products(xp):
            step = M.apply(M.apply_T(G))
        X_new = X + scale_columns(xp, step, state.alpha) + scale_columns(
            xp, X - X_prev, state.beta)
        X, X_prev = where_columns(xp, running, X_new, X), where_columns(xp, running, X, X_prev)
        columns = np.flatnonzero(running)
        G_run, r_run = gradient(take_columns(xp, B, columns),
                                take_columns(xp, X, columns))
        G = put_columns(xp, G, columns, G_run)
        r_norms[columns] = r_run
        # ||A (x - x_prev)|| estimated by the preconditioner (within the sketch's
        # distortion), which saves a pass over A.
        with _small_products(xp):
            change = column_norms(xp, M.apply_inverse(X - X_prev))
        for j in columns:
            logs[j].record(residual=r_norms[j], backward_error=math.nan,
                           relative_step=change[j] / max(r_norms[j], change[j],
                                                         np.finfo(float).tiny))
        if problem.notify(it, take_columns(xp, X, columns), r_run):
            for j in columns:
                logs[j].stopped_by_callback = True
                logs[j].message = "stopped by callback"
            break
        floor = eps * (a_norm * column_norms(xp, X) + 0.04 * kappa * r_norms)
        # A column stops once its step is below tol relative to x (||A dx|| >=
        # sigma_min ||dx||, sigma_min ~ ||A|| / kappa) or below the attainable accuracy
        # (Epperly 2023).
        small = running & (change <= np.maximum(
            problem.tol * a_norm / kappa * column_norms(xp, X), floor))
        for j in np.flatnonzero(small):
            logs[j].converge("converged (momentum disabled after divergence)"
                             if state.damped[j] else "converged")
        running &= ~small
        if not running.any():
            break
        restart = state.diverging(xp, X, r_norms, change, running)
        if restart.any():
            state.restart(restart)
            X = where_columns(xp, restart, state.best_X, X)
            X_prev = where_columns(xp, restart, state.best_X, X_prev)
            columns = np.flatnonzero(restart)
            G_new, r_new = gradient(take_columns(xp, B, columns),
                                    take_columns(xp, X, columns))
            G = put_columns(xp, G, columns, G_new)
            r_norms[columns] = r_new
            logger.info("iterative sketching: divergence detected in %d column(s)",
                        columns.size)
    return BlockRun(X, r_norms, logs, [""] * k, M)


def _finish_by_lsqr(problem, M, X, r_norms, logs, columns):
    """Continue the slow ``columns`` of an iterative-sketching run by LSQR with the same
    preconditioner (whose rate adapts to the actual spectrum), from their current
    iterates, in the same iteration logs (and iteration budgets); their notes say so."""
    xp = problem.xp
    steps = logs[columns[0]].n_iter
    logger.info("iterative sketching: slow progress after %d steps, continuing by LSQR",
                steps)
    sub = problem.columns(columns)
    run = sketch_and_precondition(
        sub, (M, M.apply_inverse(take_columns(xp, X, columns))), [logs[j] for j in columns])
    X = put_columns(xp, X, columns, run.X)
    r_norms[columns] = run.residual_norms
    notes = [""] * len(logs)
    for j in columns:
        notes[j] = f" (LSQR after {steps} iterative-sketching steps)"
    return BlockRun(X, r_norms, logs, notes, M)
