"""Matrix completion by alternating minimization: exact (Jain-Netrapalli-Sanghavi 2013)
and robust, nearly linear time (Gu-Song-Yin-Zhang 2024)."""

import dataclasses
import logging
import math
import time
import warnings

import numpy as np
import scipy.linalg

from .. import _kernels
from .._backend import array_namespace, is_numpy_namespace, is_sparse
from .._result import Result, make_history
from .._rng import check_rng
from .._threads import blas_single_threaded, threads_for
from .._validation import check_int, check_option, check_real
from ..exceptions import ConvergenceWarning
from ._observations import as_observations
from ._xp import device_observations, xp_altmin

__all__ = ["CompletionResult", "altmin"]

logger = logging.getLogger(__name__)

_METHODS = ("robust", "exact")
_PRECONDITIONERS = ("qr", "sketch")
# The per-row sketch of preconditioner="sketch": rows per unit of rank and nonzeros per
# observation (a sparse sign embedding).
_SKETCH_ROWS_PER_RANK = 4
_SKETCH_NNZ = 4
_WEIGHTINGS = ("uniform", "frequency")
# Power iterations and oversampling of the randomized SVD that initializes the factors.
_INIT_POWER_ITERATIONS = 2
_INIT_OVERSAMPLING = 10
# The robust method tightens its per-row tolerance by this factor when a sweep lowers the
# objective by less than _STALL of its value (progress has stalled), down to
# _SOLVER_TOL_FLOOR.  Converging sweeps lower it by far more (a residual falling by 0.87
# per sweep, as at condition number 100, lowers the objective by 24 %).
_TIGHTEN = 1000.0
_STALL = 1e-3
# A sweep of exact updates may raise the objective by rounding only.
_ROUNDING_RISE = 1e-12
_SOLVER_TOL_FLOOR = 1e-12
# The columns of CompletionResult.history, in the order of the per-sweep rows.
_HISTORY = ("residual", "objective", "validation_rmse", "solver_tol", "mean_inner_steps",
            "max_inner_steps", "exact_rows", "cg_fraction", "rescued_rows", "work",
            "sweep_time", "time")
_CG_ROWS = ("auto", "all")
# to_dense() refuses to build more entries than this.
_MAX_DENSE = 10**8


class CompletionResult(Result):
    """Result of :func:`altmin`: the completed matrix ``M ~ U @ V.T``.

    Attributes
    ----------
    U : ndarray (m, rank)
        Left factor.
    V : ndarray (n, rank)
        Right factor.
    rank : int
        The rank of the factorization.
    method : str
        ``"robust"`` or ``"exact"``.
    regularization : float
        The ridge weight ``lam`` of the objective (see :func:`altmin`).
    converged : bool
        Whether the residual reached ``tol`` or a stationary point was certified (see
        :func:`altmin`); ``False`` at ``maxiter``, on a callback stop and on overflow.
    n_iter : int
        Sweeps run (one sweep updates ``V``, then ``U``).
    history : dict of arrays
        Per sweep: ``residual`` (``||P_O(U V^T - M)|| / ||P_O(M)||``), ``objective``,
        ``validation_rmse`` (NaN without validation data), ``solver_tol``,
        ``mean_inner_steps`` and ``max_inner_steps`` (CG steps over the rows solved by CG;
        0 when none was), ``exact_rows`` (rows and columns solved exactly: all of them for
        the exact method and the first robust half-sweep), ``cg_fraction`` (the share of
        the rows and columns with observations whose update CG solved; 0 for the exact
        method), ``rescued_rows`` (numerically
        singular rows given a tiny ridge), ``work`` (the sweep's cost in multiply-adds:
        ``2 k |O_i| (1 + s_i)`` for a row solved by ``s_i`` CG steps, ``k^2 |O_i| + k^3/3``
        for an exact row (``|O_i|^2 k + |O_i|^3 / 3`` in the dual form used when
        ``|O_i| < k`` with a ridge, plus ``|O_i| k^2`` on the robust QR path), both for a
        row that reached ``max_cg_steps`` before its exact solve; with
        ``preconditioner="sketch"`` each CG row adds ``4 k |O_i| + 8 k^3`` to sketch and
        factor, or ``2 |O_i| k^2`` to factor a row of at most ``4 k`` observations;
        on device namespaces, without the dual form), ``sweep_time`` (seconds of that
        sweep) and ``time`` (since the start).
    message : str
        Why the iteration stopped.
    """

    U: object
    V: object
    rank: int
    method: str
    regularization: float
    converged: bool
    n_iter: int
    history: dict
    message: str

    @property
    def shape(self):
        """``(m, n)``: the shape of the completed matrix."""
        return (self.U.shape[0], self.V.shape[0])

    def predict(self, rows, cols):
        """Entries ``M[rows[t], cols[t]] ~ U[rows[t]] . V[cols[t]]`` (1-D integer arrays;
        for device factors, integer arrays of their namespace)."""
        if not isinstance(self.U, np.ndarray):
            xp = array_namespace(self.U)
            return xp.sum(xp.take(self.U, rows, axis=0) * xp.take(self.V, cols, axis=0),
                          axis=1)
        rows = _index_array(rows, "rows", self.shape[0])
        cols = _index_array(cols, "cols", self.shape[1])
        if rows.shape != cols.shape:
            raise ValueError(f"`rows` and `cols` must have the same length; got {rows.size} "
                             f"and {cols.size}.")
        return np.einsum("ij,ij->i", self.U[rows], self.V[cols])

    def to_dense(self):
        """``U @ V.T`` as a dense array (refused above 10^8 entries)."""
        m, n = self.shape
        if m * n > _MAX_DENSE:
            raise ValueError(f"to_dense() would build {m} x {n} = {m * n} entries (more than "
                             f"{_MAX_DENSE}); use predict(rows, cols) instead.")
        if not isinstance(self.U, np.ndarray):
            xp = array_namespace(self.U)
            return xp.matmul(self.U, xp.matrix_transpose(self.V))
        return self.U @ self.V.T


def _index_array(values, name, bound):
    values = np.asarray(values)
    if values.ndim == 1 and values.size == 0:  # [] arrives as float64
        return values.astype(np.int64)
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"`{name}` must be a 1-D integer array; got dtype {values.dtype} and "
                        f"shape {values.shape}.")
    if values.size and (values.min() < 0 or values.max() >= bound):
        raise ValueError(f"`{name}` must lie in [0, {bound}); got values in "
                         f"[{values.min()}, {values.max()}].")
    return values


def altmin(observed, rank, *, shape=None, method="robust", solver_tol=1e-3, maxiter=100,
           tol=1e-10, regularization=0.0, weighting="uniform", preconditioner="qr",
           max_cg_steps=None, cg_rows="auto", validation=None, split=False, clip=None,
           duplicates="error", rng=None,
           callback=None, check_finite=True):
    r"""Complete a partially observed matrix by alternating minimization.

    Finds ``U`` (m x rank) and ``V`` (n x rank) minimizing

        ``f(U, V) = sum_{(i, j) observed} (M_ij - u_i^T v_j)^2
        + regularization * (sum_i c_i ||u_i||^2 + sum_j c_j ||v_j||^2)``

    with ``c = 1`` (``weighting="uniform"``, the plain ridge) or ``c`` the number of
    observations of the row or column (``weighting="frequency"``, the weighted-lambda
    regularization of Zhou et al. 2008, which suits rating data with very uneven counts)

    by alternating exact or approximate least-squares updates of ``V`` (``U`` fixed) and
    ``U`` (``V`` fixed), from the top-``rank`` singular subspace of the rescaled
    observations.  Each update splits into independent ``rank``-dimensional regressions,
    one per row or column, that read only that row's or column's observations.

    Parameters
    ----------
    observed : scipy.sparse matrix, (rows, cols, values) tuple, dense array or Observations
        The observations: a SciPy sparse matrix (its stored entries, explicit zeros
        included), a tuple of 1-D ``rows``, ``cols`` and ``values`` with ``shape``, or a
        dense array with NaN at the missing entries.
    rank : int
        Rank of the factorization, ``1 <= rank <= min(m, n)``.
    shape : (int, int), optional
        Shape of the matrix; required for the tuple form.
    method : {"robust", "exact"}
        ``"exact"``: each row's regression by its normal equations (Cholesky), cost
        ``O(|O| k^2 + (m + n) k^3)`` per sweep (``k = rank``, ``|O|`` observations).
        ``"robust"``: Gu, Song, Yin and Zhang's nearly linear time AltMin: each regression
        is solved only approximately, by preconditioned conjugate gradients warm started
        from the previous factor, so that a sweep costs ``O(|O| k s)`` with ``s`` CG steps
        per row (3-10 in practice) instead of ``O(|O| k^2)``.  See Notes.
    solver_tol : float
        Robust method: each row's CG stops when its residual falls below ``solver_tol``
        times its warm start's residual (with ``preconditioner="sketch"``, the
        preconditioned residual ``||R^-T r||``).  Tightened a thousandfold whenever a sweep lowers
        the objective by less than 0.1 % (progress has stalled), down to 1e-12.
    maxiter : int
        Maximum number of sweeps; reaching it warns
        :class:`~lowrank.exceptions.ConvergenceWarning`.
    tol : float
        Stop when the relative observed residual ``||P_O(U V^T - M)|| / ||P_O(M)||``
        is at most ``tol`` (noiseless data), or when a sweep of exact updates (exact
        method, or the robust method at its tightest tolerance) lowers the objective by
        less than ``tol`` relative to it (noisy data: a stationary point).
    regularization : float
        Ridge weight ``lam >= 0`` of the factor penalty above.  With ``lam = 0`` every
        row and column needs at least ``rank`` observations; with ``lam > 0`` a row or
        column without observations gets a zero factor (it predicts 0).
    weighting : {"uniform", "frequency"}
        How the ridge weighs each row and column (see the objective above).
    preconditioner : {"qr", "sketch"}
        Robust method: ``"qr"`` (default) preconditions every row at once by the QR
        factorization of the fixed factor; ``"sketch"`` preconditions each row by the QR
        of a sparse sign sketch of its own observations (``4 rank`` sketch rows, 4
        nonzeros per observation), the paper's construction.  See Notes for why ``"qr"``
        is the default.
    max_cg_steps : int, optional
        Robust method: CG steps after which a row is finished by an exact solve (default
        ``max(5, rank // 4)`` with ``"qr"``: past it, forming the row's Gram matrix is
        cheaper; ``max(20, rank // 4)`` with ``"sketch"``, whose preconditioned systems
        contract by only about 1/2 per step).
    cg_rows : {"auto", "all"}
        Robust method with ``preconditioner="qr"``: ``"auto"`` (default) solves a row
        exactly whenever the cost rule predicts its Cholesky solve cheaper than its CG
        steps (see Notes: "Which rows use CG"), a hybrid that costs what the exact method
        does at small ``rank``; ``"all"`` runs CG on every row with observations (an
        exact solve only after ``max_cg_steps`` steps or a breakdown), the paper's
        algorithm, whose sweep cost grows like ``|O| k``.  The share of rows CG solved
        is ``history["cg_fraction"]``.  (``preconditioner="sketch"`` and device inputs
        always try CG on every row.)
    validation : (rows, cols, values), optional
        Held-out entries; their RMSE is recorded per sweep in ``history``.
    split : bool
        The analysis' sample splitting (a proof device, off by default): the observations
        are split at random into ``2 maxiter + 1`` parts, one for the initialization and
        a fresh one for every half-sweep.  It spends the samples ``2 maxiter + 1`` times
        over; rows left with too few observations in a part get a (near) minimum-norm
        factor.  The residual and ``tol`` still use all observations.
    clip : float, optional
        The analysis' clipping (off by default): the incoherence ``mu`` of ``M``; entries
        of the initial factor above ``2 mu sqrt(rank / m)`` in magnitude are zeroed before
        it is re-orthonormalized.
    duplicates : {"error", "mean", "sum", "last"}
        What to do with repeated ``(row, col)`` observations.
    rng : None, int, numpy.random.Generator, ...
        Seeds the randomized SVD of the initialization.  The same ``rng`` gives the same
        result, whatever the number of threads.
    callback : callable, optional
        ``callback(sweep, U, V, residual)`` after each sweep; returning ``True`` stops.
    check_finite : bool
        Reject NaN and inf among the observed values (the dense form uses NaN to mark
        missing entries, so only inf is rejected there).

    Returns
    -------
    CompletionResult
        ``U``, ``V``, ``history``, ``converged``, ``predict(rows, cols)``,
        ``to_dense()``.

    Raises
    ------
    ValueError
        ``rank`` outside ``[1, min(m, n)]``; invalid observations; with
        ``regularization=0``, fewer observations than the ``rank (m + n - rank)``
        degrees of freedom or a row or column with fewer than ``rank`` observations.

    Notes
    -----
    **Initialization.** The top-``rank`` left singular vectors of ``P_O(M) / p``
    (``p = |O| / (m n)``) by a randomized SVD with 2 power iterations on the sparse
    operator (never densified); no sample splitting and no clipping (the analysis' proof
    devices, which need the unknown incoherence).

    **Robust updates.** "Robust" refers to inexact updates, not to outliers.  The paper
    preconditions each row's regression by a sketch of it (``preconditioner="sketch"``:
    ``R`` from the QR of ``S F_O``, then CG on the normal equations preconditioned by
    ``R^T R``).  By default we precondition all rows at once by the QR factorization
    ``F = Q R`` of the fixed factor and solve for ``w = R x``: with ``Q`` orthonormal and
    the observations uniform, each row's Gram matrix ``Q_O^T Q_O`` concentrates around
    ``(|O_i| / n) I`` whatever the condition number of ``M``, and CG contracts by about
    ``sqrt(k / |O_i|)`` per step, where a sketch of ``s`` rows gives only about
    ``sqrt(k / s)`` and costs ``O(s k^2)`` per row to factor.  Both reach the same
    residual sweep for sweep; the global QR's sweeps were 3.3-7.0 times faster in our
    benchmarks (n = m = 5000, k = 32 and 64, 512 and 4361 observations per row;
    ``benchmarks/bench_completion.py``, the "preconditioner" group), which is why it is
    the default (SPEC 4.4 allows it when measured faster at equal accuracy).  Each row stops
    relative to its warm start's residual, which already scales with the current error;
    a tolerance tied to the previous outer error froze at 3e-2 in review.  Convergence is
    declared only from the criteria of ``tol``: the residual (the paper note's rule) or,
    for noisy data where the residual cannot reach ``tol``, a stationary objective, and
    the latter only once the updates are exact (the robust tolerance tightened to its
    floor), so inexact updates can never fake it.

    **Which rows use CG.**  A CG step costs about ``4 k |O_i|`` flops against
    ``k^2 |O_i|`` for the row's Gram matrix, and with ``|O_i|`` observations it contracts
    by about ``sqrt(k / |O_i|)``; with ``"qr"``, each row is solved exactly when that is
    predicted cheaper (with ``"sketch"`` every row is tried by CG, as in the paper).
    Below ``k`` of about 16-32, or with few observations per row, the robust method
    therefore solves most rows exactly and costs what the exact one does (a half-sweep
    in which every row would be solved exactly skips the QR).

    **Exact rows.** A row or column with ``c >= k`` observations is solved from its
    ``k x k`` normal equations (Cholesky); with a ridge and ``c < k`` (most columns of
    rating data) from the equivalent ``c x c`` dual system
    ``(F_O F_O^T + lam I) a = m``, ``x = F_O^T a``, at ``O(c^2 k)`` instead of
    ``O(k^3)``.

    **Scaling.** The observations are divided internally by a power of 4 near their
    largest magnitude when that is far from 1 (and the factors multiplied back), so
    values near the overflow or underflow thresholds are safe.

    **Ridge.** With the QR change of variables the penalty becomes
    ``lam w^T (R R^T)^-1 w``, so both methods minimize the same ``f``.

    **Backend support.** NumPy and SciPy sparse inputs run the Numba kernels.  CuPy
    arrays (the tuple or NaN-masked dense forms) and ``cupyx`` sparse matrices, and other
    array-API namespaces, run a batched path that keeps everything on the device: rows are
    bucketed by observation count and each bucket's regressions are solved as padded
    batches (batched Gram matrices and ``linalg.solve``, or batched CG steps), with the
    same objective and stopping rules; ``U`` and ``V`` come back in the input's
    namespace.  ``split``, ``clip``, ``validation``, ``preconditioner="sketch"`` and
    duplicate merging are NumPy-only.

    References
    ----------
    P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank matrix completion using alternating
    minimization", STOC 2013.  Y. Gu, Z. Song, J. Yin, L. Zhang, "Low rank matrix
    completion via robust alternating minimization in nearly linear time", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.completion import altmin
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 200))
    >>> mask = rng.random(M.shape) < 0.3
    >>> res = altmin(np.where(mask, M, np.nan), 5, rng=0)
    >>> res.converged, bool(np.linalg.norm(res.to_dense() - M) < 1e-6 * np.linalg.norm(M))
    (True, True)
    """
    method = check_option(method, "method", _METHODS)
    rank = check_int(rank, "rank", low=1)
    solver_tol = check_real(solver_tol, "solver_tol", low=0.0, high=1.0, low_open=True,
                            high_open=True)
    maxiter = check_int(maxiter, "maxiter", low=1)
    tol = check_real(tol, "tol", low=0.0)
    lam = check_real(regularization, "regularization", low=0.0)
    weighting = check_option(weighting, "weighting", _WEIGHTINGS)
    preconditioner = check_option(preconditioner, "preconditioner", _PRECONDITIONERS)
    by_cost = check_option(cg_rows, "cg_rows", _CG_ROWS) == "auto"
    if max_cg_steps is None:
        max_steps = max(5 if preconditioner == "qr" else 20, rank // 4)
    else:
        max_steps = check_int(max_cg_steps, "max_cg_steps", low=0)
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable; got {type(callback).__name__}.")
    if not isinstance(split, (bool, np.bool_)):
        raise TypeError(f"`split` must be a bool; got {split!r}.")
    if clip is not None:
        clip = check_real(clip, "clip", low=1.0)
    device = _device_input(observed, shape, check_finite)
    if device is not None:
        if preconditioner != "qr" and method == "robust":
            raise ValueError("preconditioner='sketch' is supported for NumPy and SciPy input "
                             "only.")
        return _device_altmin(device, rank, method, solver_tol, maxiter, tol, lam,
                              weighting == "frequency", max_cg_steps, validation, split, clip,
                              duplicates, rng, callback)
    obs = as_observations(observed, shape=shape, duplicates=duplicates,
                          check_finite=check_finite)
    m, n = obs.shape
    rank = check_int(rank, "rank", low=1, high=min(m, n))
    held_out = None if validation is None else _check_validation(validation, obs.shape)
    _check_enough_observations(obs, rank, lam)
    rng = check_rng(rng)
    return _Solver(obs, rank, method, solver_tol, maxiter, tol, lam, weighting == "frequency",
                   preconditioner, max_steps, held_out, callback, bool(split),
                   clip, by_cost).run(rng)


def _device_input(observed, shape, check_finite):
    """``(xp, rows, cols, vals, shape)`` for observations in a namespace other than NumPy
    (CuPy arrays, ``cupyx`` sparse, array-API arrays), else ``None``."""
    if is_sparse(observed):
        if type(observed).__module__.startswith("scipy"):
            return None
        coo = observed.tocoo()
        xp = array_namespace(coo.data)
        rows, cols, vals, shape = coo.row, coo.col, coo.data, observed.shape
    elif isinstance(observed, (tuple, list)) and len(observed) == 3:
        values = observed[2]
        if isinstance(values, np.ndarray) or not hasattr(values, "__array_namespace__"):
            return None
        xp = array_namespace(*observed)
        rows, cols, vals = observed
        if shape is None:
            raise TypeError("`shape` is required with the (rows, cols, values) form; got None.")
    elif hasattr(observed, "__array_namespace__") and not isinstance(observed, np.ndarray):
        xp = array_namespace(observed)
        if observed.ndim != 2:
            raise ValueError(f"`observed` must be 2-D; got shape {tuple(observed.shape)}.")
        if shape is not None and tuple(shape) != tuple(observed.shape):
            raise ValueError(f"`shape` {tuple(shape)} does not match `observed` "
                             f"{tuple(observed.shape)}.")
        known = ~xp.isnan(observed)
        rows, cols = xp.nonzero(known)
        vals, shape = observed[known], observed.shape
    else:
        return None
    if is_numpy_namespace(xp):
        return None
    m, n = (check_int(s, "shape", low=1) for s in shape)
    if rows.shape[0] == 0:
        raise ValueError("`observed` has no observations.")
    if not (xp.isdtype(rows.dtype, "integral") and xp.isdtype(cols.dtype, "integral")):
        raise TypeError("`rows` and `cols` must be integer arrays.")
    if (int(xp.min(rows)) < 0 or int(xp.max(rows)) >= m or int(xp.min(cols)) < 0
            or int(xp.max(cols)) >= n):
        raise ValueError(f"observation indices must lie within shape ({m}, {n}).")
    if xp.isdtype(vals.dtype, "complex floating"):
        raise TypeError(f"`observed` values must be real; got {vals.dtype}.")
    if vals.dtype not in (xp.float32, xp.float64):
        vals = xp.astype(vals, xp.float64)
    if check_finite and not bool(xp.all(xp.isfinite(vals))):
        raise ValueError("`observed` values must be finite (no NaN or inf).")
    return xp, rows, cols, vals, (m, n)


def _device_altmin(device, rank, method, solver_tol, maxiter, tol, lam, weighted,
                   max_cg_steps, validation, split, clip, duplicates, rng, callback):
    """:func:`altmin` for observations on a device namespace (see ``_xp.py``)."""
    xp, rows, cols, vals, shape = device
    m, n = shape
    rank = check_int(rank, "rank", low=1, high=min(m, n))
    if split or clip is not None or validation is not None or duplicates != "error":
        raise ValueError("`split`, `clip`, `validation` and duplicates other than 'error' "
                         "are supported for NumPy and SciPy input only.")
    max_steps = max(5, rank // 4) if max_cg_steps is None else max_cg_steps
    sides = device_observations(xp, rows, cols, vals, shape)
    if lam == 0:
        nnz = int(sides[0].ptr_host[-1])
        if nnz < rank * (m + n - rank):
            raise ValueError(f"{nnz} observations cannot determine a rank-{rank} {m} x {n} "
                             "matrix; lower `rank` or pass `regularization` > 0.")
        for side, what in ((sides[0], "row"), (sides[1], "column")):
            short = np.flatnonzero(side.counts < rank)
            if short.size:
                raise ValueError(f"{short.size} {what}(s) have fewer than rank={rank} "
                                 "observations; pass `regularization` > 0.")
    U, V, rows_h, converged, message = xp_altmin(
        xp, sides, shape, rank, method, solver_tol, maxiter, tol, lam, weighted, max_steps,
        check_rng(rng), callback, vals.dtype, _TIGHTEN, _STALL, _SOLVER_TOL_FLOOR,
        _ROUNDING_RISE)
    history = make_history(**{k: [r[i] for r in rows_h] for i, k in enumerate(_HISTORY)})
    return CompletionResult(U=U, V=V, rank=rank, method=method, regularization=lam,
                            converged=converged, n_iter=len(rows_h), history=history,
                            message=message)


def _check_validation(validation, shape):
    if not isinstance(validation, (tuple, list)) or len(validation) != 3:
        raise TypeError("`validation` must be a tuple (rows, cols, values).")
    rows = _index_array(validation[0], "validation rows", shape[0])
    cols = _index_array(validation[1], "validation cols", shape[1])
    values = np.asarray(validation[2], dtype=np.float64)
    if not (rows.shape == cols.shape == values.shape):
        raise ValueError("`validation` rows, cols and values must have the same length; got "
                         f"{rows.size}, {cols.size} and {values.size}.")
    if not np.all(np.isfinite(values)):
        raise ValueError("`validation` values must be finite.")
    return rows, cols, values


def _check_enough_observations(obs, rank, lam):
    if lam > 0:  # the ridge makes every row's problem well posed
        return
    m, n = obs.shape
    dof = rank * (m + n - rank)
    if obs.nnz < dof:
        raise ValueError(f"{obs.nnz} observations cannot determine a rank-{rank} "
                         f"{m} x {n} matrix ({dof} degrees of freedom); lower `rank`, "
                         "observe more entries or pass `regularization` > 0.")
    for counts, what in ((obs.row_counts(), "row"), (obs.col_counts(), "column")):
        short = np.flatnonzero(counts < rank)
        if short.size:
            i = int(short[0])
            raise ValueError(
                f"{short.size} {what}(s) have fewer than rank={rank} observations (e.g. "
                f"{what} {i} has {int(counts[i])}), so their factors are not determined; "
                "pass `regularization` > 0 (such rows then get a small or zero factor) or "
                "drop them.")


class _Solver:
    """State of one :func:`altmin` run."""

    def __init__(self, obs, rank, method, solver_tol, maxiter, tol, lam, weighted,
                 preconditioner, max_steps, held_out, callback, split, clip, by_cost):
        self.obs = obs
        self.rank = rank
        self.method = method
        self.solver_tol = solver_tol
        self.maxiter = maxiter
        self.tol = tol
        self.lam = lam
        self.weighted = weighted
        self.max_steps = max_steps
        self.by_cost = by_cost
        self.held_out = held_out
        self.callback = callback
        self.dtype = obs.dtype
        self.eye = np.eye(rank, dtype=self.dtype)
        self.work = obs.nnz * rank
        self.scale, self.full = _scaled(obs)
        self.lam_scaled = lam / self.scale
        self.split = split
        self.clip = clip
        self.preconditioner = preconditioner
        self.sketch_rows = _SKETCH_ROWS_PER_RANK * rank

    def run(self, rng):
        kernels = self.kernels = _kernels.load("completion")
        start = time.perf_counter()
        with threads_for(self.work), blas_single_threaded():
            init_rng, split_rng, self.sketch_rng = rng.spawn(3)
            parts = _split(self.full, 2 * self.maxiter + 1, split_rng) if self.split else None
            U = _initial_left_factor(parts[0] if parts else self.full, self.rank, init_rng,
                                     kernels)
            if self.clip is not None:
                U = _clipped(U, self.clip)
            V = np.zeros((self.obs.shape[1], self.rank), dtype=self.dtype)
            rows, converged, message = [], False, f"maxiter={self.maxiter} reached"
            tau = self.solver_tol
            objective_old = math.inf
            for sweep in range(1, self.maxiter + 1):
                t0 = time.perf_counter()
                exact_now = self.method == "exact" or tau <= _SOLVER_TOL_FLOOR
                steps = []
                v_part = parts[sweep] if parts else self.full
                u_part = parts[self.maxiter + sweep] if parts else self.full
                V = self._update(v_part, U, V, by_row=False, tau=tau, steps=steps,
                                 cold=sweep == 1)
                U = self._update(u_part, V, U, by_row=True, tau=tau, steps=steps, cold=False)
                residual, objective = self._residual(U, V)
                rows.append(self._history_row(residual, objective, tau, steps, U, V,
                                              time.perf_counter() - t0,
                                              time.perf_counter() - start))
                logger.debug("altmin sweep %d: residual %.3e, objective %.6e, tol %.1e",
                             sweep, residual, objective, tau)
                if not (math.isfinite(residual) and math.isfinite(objective)):
                    message = f"non-finite residual or objective at sweep {sweep} (overflow)"
                    break
                decrease = (objective_old - objective) / objective if objective > 0 else 0.0
                stop = self.callback is not None and bool(
                    self.callback(sweep, U * self.root, V * self.root, residual))
                if residual <= self.tol:
                    converged, message = True, f"residual {residual:.2e} <= tol={self.tol:g}"
                    break
                if exact_now and -_ROUNDING_RISE <= decrease <= self.tol:
                    converged = True
                    message = (f"stationary: the objective fell by {max(decrease, 0):.2e} "
                               f"<= tol={self.tol:g} in a sweep of exact updates")
                    break
                if decrease < -_ROUNDING_RISE:
                    logger.info("altmin sweep %d raised the objective by %.2e (relative)",
                                sweep, -decrease)
                if stop:
                    message = "stopped by callback"
                    break
                if self.method == "robust" and decrease < _STALL:
                    tau = max(tau / _TIGHTEN, _SOLVER_TOL_FLOOR)
                objective_old = objective
        if not converged and message != "stopped by callback":
            warnings.warn(f"altmin: {message} (residual {rows[-1][0]:.3e} > tol={self.tol:g})",
                          ConvergenceWarning, stacklevel=3)
        history = make_history(**{k: [r[i] for r in rows] for i, k in enumerate(_HISTORY)})
        U, V = U * self.root, V * self.root
        return CompletionResult(U=U, V=V, rank=self.rank, method=self.method,
                                regularization=self.lam, converged=converged,
                                n_iter=len(rows), history=history, message=message)

    @property
    def root(self):
        """``sqrt(scale)``: the factors of the scaled problem times this are the answer."""
        return self.dtype.type(math.sqrt(self.scale))

    def _update(self, part, F, X, *, by_row, tau, steps, cold):
        """New factor ``X`` given the fixed factor ``F``, from the observations ``part``."""
        if by_row:
            ptr, idx, vals = part.row_ptr, part.row_cols, part.row_vals
        else:
            ptr, idx, vals = part.col_ptr, part.col_rows, part.col_vals
        if self.method == "exact" or cold:
            return self._exact_update(ptr, idx, vals, F, X, steps)
        if (self.preconditioner == "qr" and self.by_cost
                and self.kernels.exact_is_cheaper_everywhere(ptr, self.rank, tau,
                                                             self.max_steps)):
            # every row's Gram matrix is cheaper than its CG steps: no QR needed
            return self._exact_update(ptr, idx, vals, F, X, steps)
        if self.preconditioner == "sketch":
            return self._sketch_update(ptr, idx, vals, F, X, tau, steps)
        Q, R = scipy.linalg.qr(F, mode="economic", check_finite=False)
        d = np.abs(np.diag(R))
        if d.min() <= d.max() * F.shape[0] * np.finfo(self.dtype).eps:
            # the fixed factor lost rank: no QR preconditioner
            return self._exact_update(ptr, idx, vals, F, X, steps)
        # x = R^-1 w: entries q_i^T w, penalty lam w^T (R R^T)^-1 w
        Rinv = scipy.linalg.solve_triangular(R, self.eye, check_finite=False)
        P = Rinv.T @ Rinv if self.lam else self.eye
        Pinv = R @ R.T if self.lam else self.eye
        W = np.ascontiguousarray(X @ R.T)
        row_steps = np.zeros(X.shape[0], dtype=np.int64)
        self.kernels.solve_rows_cg(ptr, idx, vals, np.ascontiguousarray(Q), self.lam_scaled,
                                   self.weighted, np.ascontiguousarray(P),
                                   np.ascontiguousarray(Pinv), W, tau,
                                   self.max_steps, row_steps, self.by_cost)
        steps.append((row_steps, np.diff(ptr), "qr"))
        return np.ascontiguousarray(W @ Rinv.T)

    def _sketch_update(self, ptr, idx, vals, F, X, tau, steps):
        """Each row by CG preconditioned by the QR of its own sketch (the paper's)."""
        solve_rows_sketch_pcg = _kernels.load("completion_sketch").solve_rows_sketch_pcg
        out = X.copy()
        row_steps = np.zeros(X.shape[0], dtype=np.int64)
        seed = int(self.sketch_rng.integers(0, 2**63))
        solve_rows_sketch_pcg(ptr, idx, vals, F, self.lam_scaled, self.weighted, out, tau,
                              self.max_steps, self.sketch_rows, _SKETCH_NNZ, seed, row_steps)
        steps.append((row_steps, np.diff(ptr), "sketch"))
        return out

    def _exact_update(self, ptr, idx, vals, F, X, steps):
        out = np.empty_like(X)
        flags = np.empty(X.shape[0], dtype=np.int64)
        self.kernels.solve_rows_exact(ptr, idx, vals, F, self.lam_scaled, self.weighted, out,
                                      flags)
        steps.append((flags, np.diff(ptr), "exact"))
        return out

    def _residual(self, U, V):
        o = self.obs
        f = self.full
        res, ref = self.kernels.observed_residual(f.row_ptr, f.row_cols, f.row_vals, U, V)
        if self.weighted:
            penalty = (float(o.row_counts() @ np.sum(U * U, axis=1))
                       + float(o.col_counts() @ np.sum(V * V, axis=1)))
        else:
            penalty = float(np.sum(U * U)) + float(np.sum(V * V))
        # the objective of the scaled problem: scale^2 times the true one (reported in
        # history, where it may overflow to inf for values near the float range's end)
        objective = res + self.lam_scaled * penalty
        return (math.sqrt(res / ref) if ref > 0 else math.sqrt(res)), objective

    def _work(self, steps, c, kind):
        """Multiply-adds of one half-sweep (``kind``: "exact", "qr" or "sketch") whose
        rows have ``c`` observations and the kernels' ``steps`` codes."""
        k = self.rank
        # exact: the Gram matrix and its Cholesky factor, or the dual c x c system
        # (plus Z = F_O P^-1 with the QR path's general penalty)
        dual = (c < k) & (self.lam > 0)
        exact = np.where(dual, c * c * k + c**3 / 3.0 + (kind == "qr") * c * k * k,
                         k * k * c + k**3 / 3.0)
        exact = np.where(c > 0, exact, 0.0)
        # a CG row reads its observations 1 + steps times (a dot product and an update of
        # length k each); a row that reached the cap paid max_steps steps (at most) first
        tried = steps <= -3
        cg_steps = np.where(tried, self.max_steps, steps)
        cg = 2.0 * k * c * (1 + cg_steps)
        if kind == "sketch":  # sketch (nnz k per observation) and its QR (2 s k^2)
            s = self.sketch_rows
            cg = cg + np.where(c > s, _SKETCH_NNZ * k * c + 2.0 * s * k * k, 2.0 * c * k * k)
        cost = np.where(steps >= 0, cg, exact) + np.where(tried, cg, 0.0)
        return float(np.sum(cost))

    def _history_row(self, residual, objective, tau, steps, U, V, sweep_time, elapsed):
        all_steps = np.concatenate([s for s, _, _ in steps])
        work = sum(self._work(s, c.astype(np.float64), kind) for s, c, kind in steps)
        cg = all_steps[all_steps >= 0]
        exact_rows = int(np.sum(all_steps < 0))
        observed = int(sum(np.count_nonzero(c) for _, c, _ in steps))
        cg_fraction = cg.size / observed if observed else 0.0
        rescued = int(np.sum((all_steps == -2) | (all_steps == -4)))
        mean = float(cg.mean()) if cg.size else 0.0
        top = float(cg.max()) if cg.size else 0.0
        rmse = math.nan
        if self.held_out is not None:
            rows, cols, values = self.held_out
            pred = np.einsum("ij,ij->i", U[rows], V[cols]) * self.scale
            rmse = float(np.sqrt(np.mean((pred - values) ** 2)))
        with np.errstate(over="ignore"):
            objective = float(np.float64(objective) * self.scale * self.scale)
        return (residual, objective, rmse, tau if self.method == "robust" else 0.0, mean, top,
                exact_rows, cg_fraction, rescued, work, sweep_time, elapsed)


def _scaled(obs):
    """``(scale, observations)``: the values divided by ``scale``, a power of 4 near
    their largest magnitude when that lies outside ``[2^-20, 2^20]`` (1 otherwise: ``obs``
    itself).  Powers of 4 keep the scaling and its square root exact."""
    top = float(np.max(np.abs(obs.row_vals))) if obs.nnz else 0.0
    if top == 0.0 or 2.0**-20 <= top <= 2.0**20:
        return 1.0, obs
    scale = 4.0 ** round(math.log(top, 4))
    inverse = obs.dtype.type(1.0 / scale)
    row_vals, col_vals = obs.row_vals * inverse, obs.col_vals * inverse
    row_vals.flags.writeable = col_vals.flags.writeable = False  # as in every Observations
    return scale, dataclasses.replace(obs, row_vals=row_vals, col_vals=col_vals)


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
    return np.ascontiguousarray(scipy.linalg.qr(U, mode="economic", check_finite=False)[0])


def _initial_left_factor(obs, rank, rng, kernels):
    """Top-``rank`` left singular vectors of ``P_O(M) / p`` (randomized SVD)."""
    m, n = obs.shape
    scale = (m * n) / obs.nnz
    width = min(min(m, n), rank + _INIT_OVERSAMPLING)
    dtype = obs.dtype

    def times(X):  # P_O(M) X / p
        return kernels.sparse_times_dense(obs.row_ptr, obs.row_cols, obs.row_vals,
                                          np.ascontiguousarray(X, dtype=dtype), scale)

    def times_t(X):  # P_O(M)^T X / p
        return kernels.sparse_times_dense(obs.col_ptr, obs.col_rows, obs.col_vals,
                                          np.ascontiguousarray(X, dtype=dtype), scale)

    Y = times(rng.standard_normal((n, width)).astype(dtype))
    Qm = scipy.linalg.qr(Y, mode="economic", check_finite=False)[0]
    for _ in range(_INIT_POWER_ITERATIONS):
        Qn = scipy.linalg.qr(times_t(Qm), mode="economic", check_finite=False)[0]
        Qm = scipy.linalg.qr(times(Qn), mode="economic", check_finite=False)[0]
    B = times_t(Qm).T  # = Qm^T P_O(M) / p  (width x n)
    Ub = scipy.linalg.svd(B, full_matrices=False, check_finite=False)[0]
    return np.ascontiguousarray(Qm @ Ub[:, :rank], dtype=dtype)

