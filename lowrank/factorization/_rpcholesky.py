"""Randomly pivoted partial Cholesky (RPCholesky): low-rank approximation of PSD matrices."""

import contextlib
import math

import numpy as np
import scipy.linalg

from .. import _kernels
from .._backend import is_numpy_namespace
from .._result import History, IterationLog, Result
from .._rng import check_rng
from .._threads import blas_single_threaded
from .._validation import check_int, check_matrix, check_option, check_real

__all__ = ["RPCholeskyResult", "rp_cholesky"]

_METHODS = ("random", "greedy", "uniform")
_HISTORY = ("rank", "trace_error", "n_evaluations", "candidates")
# After t pivots the computed residual diagonal d_i = A_ii - sum_j F_ij^2 carries a
# rounding error of about sqrt(t) eps A_ii (more after ill-conditioned pivots); entries
# at or below _ROUNDING sqrt(t) eps A_ii count as zero (see Notes).  On exact low-rank
# matrices (rank <= 6, condition <= 30) 8 gave the exact rank in 93 % of the runs and one
# extra pivot in most others (4: 83 %; 16: 97 %); a larger factor raises the float32
# floor (8 sqrt(1000) eps = 3e-5 of A_ii at 1000 pivots).
_ROUNDING = 8.0
# Bounds of the automatic block size (those of the reference code).
_MIN_BLOCK = 10
_INITIAL_BLOCK_FRACTION = 10     # first block: ceil(rank / 10) candidates
_MAX_BLOCK_FRACTION = 3          # at most ceil(rank / 3) candidates
_BLOCK_GROWTH = 1.5              # at most 1.5 times the previous block
# Modelled rejection work (b^2 entries) aimed at 1/4 of the processing work (m n entries).
_REJECTION_SHARE = 4
# Triangular solves below this many flops run with BLAS on one thread: SciPy's BLAS
# threads waking next to NumPy's cost 10-20 ms per small solve (measured, 2 cores).
_SMALL_SOLVE = 1 << 24
# Side of the blocks the symmetry check reads with their mirrors (two fit in L1/L2).
_SYMMETRY_TILE = 64


class RPCholeskyResult(Result):
    """Result of :func:`rp_cholesky`: ``A ~ factor @ factor.T``.

    Attributes
    ----------
    factor : ndarray (n, rank)
        The low-rank factor (dtype of ``A``, or of ``diag`` for a callable ``A``);
        ``factor @ factor.T`` is the Nystrom approximation
        ``A[:, S] A[S, S]^-1 A[S, :]`` on the pivots ``S``.  A transposed view of a
        C-ordered ``rank x n`` array (so Fortran-ordered).
    pivots : ndarray (rank,) of int64
        The pivots in the order they were taken; exactly the ones used, also when the
        run stopped early.
    rank : int
        Columns of ``factor`` (``len(pivots)``); below the requested rank when ``tol``
        was reached, the residual vanished or the callback stopped the run.
    n_evaluations : int
        Entries of ``A`` read: ``n`` for the diagonal, ``n`` per pivot row and, in the
        accelerated variant, ``b^2`` per block of ``b`` candidates (rejected ones
        included), and the rows of pivots evaluated but cut by ``tol``.
    trace_error : float
        ``tr(A - factor @ factor.T) / tr(A)`` at the end (0 when ``A`` is zero).
    method : str
        ``"random"``, ``"greedy"`` or ``"uniform"``.
    accelerated : bool
        Whether the block variant with rejection sampling ran.
    converged : bool
        True when the run met its target: ``tol`` reached, the residual diagonal
        vanished (to rounding) or, with ``tol=0``, ``rank`` pivots taken.  False when
        ``rank`` pivots were taken without reaching a positive ``tol``, when the callback
        stopped the run, or on a numerical breakdown (an update that is not finite:
        overflow, or NaN in ``A`` with ``check_finite=False``).
    n_iter : int
        Rows of ``history``: pivots (one at a time) or blocks (accelerated).
    history : History
        Per pivot or block: ``rank`` (pivots so far), ``trace_error`` (relative residual
        trace), ``n_evaluations`` (cumulative), ``candidates`` (candidates of the block,
        1 one at a time) and ``time`` (seconds).
    message : str
        How the run ended.
    """

    factor: object
    pivots: object
    rank: int
    n_evaluations: int
    trace_error: float
    method: str
    accelerated: bool
    converged: bool
    n_iter: int
    history: History
    message: str


def rp_cholesky(A, rank, *, method="random", block_size=None, tol=0.0, rng=None, diag=None,
                callback=None, check_finite=True) -> RPCholeskyResult:
    r"""Low-rank approximation ``A ~ F F^T`` of a PSD matrix by partial pivoted Cholesky.

    Takes up to ``rank`` pivots ``s``; each one adds the column
    ``(A[:, s] - F F[s]^T) / sqrt(d_s)`` to ``F`` and lowers the residual diagonal
    ``d = diag(A - F F^T)``.  The pivot rule is the ``method``:

    - ``"random"`` (RPCholesky; Chen, Epperly, Tropp and Webber): ``s`` drawn with
      probability ``d_s / sum(d)``;
    - ``"greedy"``: ``s = argmax d`` (the first one on ties; LAPACK ``?pstrf``'s rule);
    - ``"uniform"``: uniformly among the indices whose residual is not negligible,
      ``d_s > sqrt(eps) A_ss`` (uniform Nystrom, the baseline).  An index closer to the
      span of the pivots would be a nearly dependent pivot whose update amplifies
      rounding errors by ``sqrt(A_ss / d_s)``, and such errors compound from pivot to
      pivot (they reached entries of ``F`` above 1 on a unit-diagonal kernel); the
      residual-weighted rules never pick such pivots in practice.

    ``F F^T`` is the Nystrom approximation on the pivots, so only the diagonal and the
    pivot columns of ``A`` are read: ``A`` may be a callable that evaluates entries (a
    kernel matrix is never formed).

    Parameters
    ----------
    A : array_like (n, n) or callable
        A symmetric positive semidefinite matrix: a NumPy array (square, symmetric to
        ``sqrt(eps)`` relative in the Frobenius norm, finite; float32 kept), or a
        callable ``A(rows, cols) -> array (len(rows), len(cols))`` that returns the
        submatrix ``A[rows][:, cols]`` for int64 index arrays ``rows`` and ``cols``
        (symmetry is assumed).  It is called with ``cols = arange(n)`` for pivot rows
        and with ``rows = cols`` for the candidate blocks of the accelerated variant;
        every output's shape is checked (``ValueError`` naming ``A``) and, with
        ``check_finite``, its values.  Positive semidefiniteness is the caller's
        promise: a negative or rounding-level residual diagonal entry counts as zero.
    rank : int
        Pivots to take at most, ``1 <= rank <= n``.
    method : {"random", "greedy", "uniform"}, default "random"
        The pivot rule (above).
    block_size : int, optional
        ``method="random"`` only.  ``None`` (default): the accelerated block variant
        with an automatic block size; ``1``: the simple variant (one pivot at a time);
        ``b > 1``: the accelerated variant with ``b`` candidates per block.  The other
        methods take one pivot at a time (``None`` or ``1``).
    tol : float, default 0
        Stop as soon as the residual trace ``tr(A - F F^T) <= tol * tr(A)``,
        ``0 <= tol < 1``; with ``0`` the run takes ``rank`` pivots (fewer only when the
        residual vanishes to rounding).
    rng : None, int, numpy.random.Generator, ...
        Seeds the pivots (``"random"``, ``"uniform"``); the same ``rng`` gives the same
        output.
    diag : array_like (n,), optional
        The diagonal of ``A``; required when ``A`` is a callable (it gives ``n`` and the
        working dtype: float32 kept, integers promoted to float64), not allowed with an
        array.
    callback : callable, optional
        ``callback(rank, trace_error)`` after each pivot (each block when accelerated);
        return True to stop with the pivots taken so far.
    check_finite : bool, default True
        Reject NaN and inf in ``A`` (array, ``diag`` and every callable output).

    Returns
    -------
    RPCholeskyResult
        ``factor`` (``n x rank``), ``pivots``, ``rank``, ``n_evaluations``,
        ``trace_error``, ``method``, ``accelerated``, ``converged``, ``n_iter``,
        ``history`` and ``message``.

    Raises
    ------
    ValueError
        A non-square, non-symmetric or non-finite array; ``diag`` missing, misshapen or
        non-finite; a callable output of the wrong shape or with NaN/inf; ``rank``
        outside ``[1, n]``; an unknown ``method``; ``block_size < 1``, or ``> 1`` with
        a method other than ``"random"``; ``tol`` outside ``[0, 1)``.
    TypeError
        ``A`` neither a NumPy array nor a callable, non-integer ``rank`` or
        ``block_size``, complex data, a bad ``rng``.

    Warns
    -----
    ConvergenceWarning
        When ``rank`` pivots were taken before a positive ``tol`` was reached, or on a
        numerical breakdown.

    Notes
    -----
    **Guarantee** (Chen, Epperly, Tropp and Webber, main theorem): for ``r < k`` and
    ``k >= r / e + r log(1 / (e h))`` with ``h = tr(A - A_r) / tr(A)``, the expected
    trace error of RPCholesky is at most ``(1 + e) tr(A - A_r)``, ``A_r`` the best
    rank-``r`` approximation.  There is no constant-factor promise at equal rank; on
    RBF kernel matrices of Gaussian points the ratio to the best rank-``k`` trace
    error is typically 2-3, and up to about 6 on uniform points.  Greedy pivoting has
    no such guarantee and fails on matrices with clustered or outlying points.

    **Cost.** ``(rank + 1) n`` entry evaluations and ``O(rank^2 n)`` arithmetic for
    the simple variant; each pivot costs one product with the factor so far, a
    memory-bound matrix-vector product.  The accelerated variant (Epperly, Tropp and
    Webber, Algorithm 2.2) draws ``b`` candidates i.i.d. with probability ``d_s /
    sum(d)`` and accepts them in order by rejection sampling in the Schur complement of
    the block (candidate ``j`` accepted with probability ``r_j / d_j``, ``r_j`` its
    residual given the candidates accepted before it); the accepted pivots are
    processed together by matrix-matrix products.  Its output has the same
    distribution as the simple variant's (the pivots are drawn with the same
    probabilities; the random streams differ, so a given ``rng`` gives different
    pivots), at about ``b^2`` extra entry evaluations per block.  ``tol`` cuts a block
    at the first pivot that reaches it, as the simple variant would stop.  Measured on
    2 cores (RBF kernel of 20000 Gaussian points in 3-d given as a callable, rank
    1000): 1.8-2.1 s accelerated (9 blocks, 1.04 (k+1) n entries) against 5.0 s for
    the simple variant, at the same trace error (4.2e-7 and 4.4e-7).

    **Block size.** The reference code starts at ``ceil(rank / 10)`` and re-tunes
    ``b`` after every block from wall-clock timings, aiming for a rejection step that
    takes a quarter of the processing time, within ``max(ceil(b/3), 10) <= b_new <=
    min(ceil(1.5 b), ceil(rank / 3))``.  Timings would make the output depend on the
    machine's load, so the default applies the same rule to a count of the work:
    rejection reads ``b^2`` entries, processing ``m n`` for ``m`` accepted pivots, so
    the target is ``ceil(m n / (4 b))`` (for ``n`` much larger than ``rank`` the
    upper bound wins and ``b`` grows by 1.5 per block to ``ceil(rank / 3)``), and at
    most ``n``.

    **Rounding.** After ``t`` pivots a residual diagonal entry
    ``d_i <= 8 sqrt(t) eps A_ii`` (``eps`` of the working dtype) is taken for rounding
    noise and counts as zero: such an index is never drawn, and the run stops when all
    entries are zero (``A`` has numerical rank ``t``).  A matrix of exact rank ``r``
    gives ``r`` pivots, or one or two more (their terms are at rounding level; the
    reconstruction stays exact to rounding).  Pivot entries are set to zero exactly.
    Unlike the reference code, the pivot list is never padded when the run stops
    early, and all random numbers come from ``rng``.

    **Backend support.** NumPy arrays and host callables.

    References
    ----------
    Y. Chen, E. N. Epperly, J. A. Tropp, R. J. Webber, "Randomly pivoted Cholesky:
    practical approximation of a kernel matrix with few entry evaluations", Comm. Pure
    Appl. Math. 78(5) (2025), arXiv:2207.06503.
    E. N. Epperly, J. A. Tropp, R. J. Webber, "Embrace rejection: kernel matrix
    approximation by accelerated randomly pivoted Cholesky", arXiv:2410.03969 (2024).

    Examples
    --------
    An RBF kernel matrix of 2000 points, given by its entries (it is never formed):

    >>> import numpy as np
    >>> from scipy.spatial.distance import cdist
    >>> from lowrank.factorization import rp_cholesky
    >>> X = np.random.default_rng(0).standard_normal((2000, 3))
    >>> def kernel(rows, cols):          # exp(-|x - y|^2 / 8)
    ...     return np.exp(-cdist(X[rows], X[cols], "sqeuclidean") / 8)
    >>> res = rp_cholesky(kernel, 200, diag=np.ones(2000), tol=1e-3, rng=0)
    >>> res.converged, res.rank < 200, res.pivots.size == res.factor.shape[1]
    (True, True, True)
    >>> bool(res.n_evaluations < 0.1 * 2000**2)     # entries read
    True
    >>> K, F = kernel(np.arange(2000), np.arange(2000)), res.factor
    >>> bool(np.trace(K - F @ F.T) <= 1e-3 * np.trace(K))
    True
    """
    method = check_option(method, "method", _METHODS)
    entries = _entries(A, diag, check_finite)
    rank = check_int(rank, "rank", low=1, high=entries.n)
    if block_size is not None:
        block_size = check_int(block_size, "block_size", low=1)
        if method != "random" and block_size != 1:
            raise ValueError(f"`block_size` must be None or 1 for method={method!r} (the "
                             f"block variant samples pivots at random); got {block_size}.")
    tol = check_real(tol, "tol", low=0.0, high=1.0, high_open=True)
    rng = check_rng(rng)
    run = _Run(entries, rank, tol, callback)
    accelerated = method == "random" and block_size != 1
    if accelerated:
        _accelerated(run, block_size, rng)
    else:
        _one_at_a_time(run, method, rng)
    return run.result(method, accelerated)


# -- access to the entries of A -----------------------------------------------------------


class _ArrayEntries:
    """Entries of a dense symmetric array (its rows stand for its columns)."""

    def __init__(self, A):
        self.A, self.n, self.dtype = A, A.shape[0], A.dtype

    def diagonal(self):
        return np.diagonal(self.A).astype(np.float64)

    def rows(self, idx):
        return self.A[idx]

    def block(self, idx):
        return self.A[np.ix_(idx, idx)]


class _CallableEntries:
    """Entries from ``A(rows, cols)``, with every output's shape (and values) checked."""

    def __init__(self, function, diag, check_finite):
        self.function, self.diag, self.check_finite = function, diag, check_finite
        self.n, self.dtype = diag.shape[0], diag.dtype
        self._all = np.arange(self.n, dtype=np.int64)

    def diagonal(self):
        return self.diag.astype(np.float64)

    def rows(self, idx):
        return self._call(idx, self._all)

    def block(self, idx):
        return self._call(idx, idx)

    def _call(self, rows, cols):
        out = self.function(rows, cols)
        try:
            out = np.asarray(out)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"`A(rows, cols)` must return an array; got "
                            f"{type(out).__name__}.") from exc
        expected = (rows.size, cols.size)
        if out.shape != expected:
            raise ValueError(f"`A(rows, cols)` must return an array of shape (len(rows), "
                             f"len(cols)) = {expected}; got shape {out.shape}.")
        if out.dtype.kind not in "biuf":
            raise TypeError(f"`A(rows, cols)` must return real numbers; got dtype "
                            f"{out.dtype}.")
        if self.check_finite and not (np.isfinite(out.sum()) or np.isfinite(out).all()):
            raise ValueError("`A(rows, cols)` must return only finite values (no NaN or "
                             "inf); got some for rows " + _some(rows) + ".")
        return out.astype(self.dtype, copy=False)


def _some(idx):
    shown = ", ".join(str(int(i)) for i in idx[:5])
    return f"[{shown}{', ...' if idx.size > 5 else ''}]"


def _entries(A, diag, check_finite):
    if callable(A) and not hasattr(A, "__array__"):
        if diag is None:
            raise ValueError("`diag` must be given when `A` is a callable (the n diagonal "
                             "entries of A); got None.")
        diag, xp = check_matrix(diag, "diag", allow_sparse=False, check_finite=check_finite,
                                ndim=(1,))
        if not is_numpy_namespace(xp):
            raise TypeError(f"`diag` must be a NumPy array; got one of {xp.__name__}.")
        return _CallableEntries(A, np.asarray(diag), check_finite)
    if diag is not None:
        raise ValueError("`diag` must be None when `A` is an array (its diagonal is read "
                         "from A); got an argument.")
    A, xp = check_matrix(A, "A", allow_sparse=False, check_finite=False)
    if not is_numpy_namespace(xp):
        raise TypeError(f"`A` must be a NumPy array or a callable; got an array of "
                        f"{xp.__name__}.")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"`A` must be square; got shape {A.shape}.")
    _check_symmetric(A, check_finite)
    return _ArrayEntries(A)


def _check_symmetric(A, check_finite):
    """``||A - A^T||_F <= sqrt(eps) ||A||_F`` and, when ``check_finite``, no NaN or inf:
    one parallel pass over A (Numba), the cost of reading it once."""
    norm, gap = _kernels.load("factorization").symmetry_gap(A, _SYMMETRY_TILE)
    if check_finite and not (math.isfinite(norm) or np.isfinite(A).all()):
        raise ValueError("`A` must contain only finite values (no NaN or inf).")
    limit = math.sqrt(float(np.finfo(A.dtype).eps))
    relative = math.sqrt(gap / norm) if norm > 0 else 0.0
    if relative > limit:
        raise ValueError(f"`A` must be symmetric: ||A - A.T||_F / ||A||_F = {relative:.3g} "
                         f"> {limit:.3g}.")


# -- the run: factor, residual diagonal, stopping rules ------------------------------------


class _Run:
    """The state of one factorization: rows of ``F^T``, pivots, residual diagonal, log."""

    def __init__(self, entries, rank, tol, callback):
        self.entries, self.k, self.tol = entries, rank, tol
        # A negative diagonal entry (A not PSD) counts as zero, as any later residual.
        self.scale = np.maximum(entries.diagonal(), 0.0)
        self.d = self.scale.copy()
        self.trace = float(np.sum(self.scale))
        self.residual = self.trace
        self.threshold = tol * self.trace
        self.eps = float(np.finfo(entries.dtype).eps)
        self.G = np.empty((rank, entries.n), dtype=entries.dtype)   # F^T, row per pivot
        self.pivots = np.empty(rank, dtype=np.int64)
        self.t = 0
        self.n_evaluations = entries.n
        self.log = IterationLog(_HISTORY, maxiter=rank, callback=callback)
        self.broken = False

    def floor(self, idx=None):
        """Rounding level of the residual diagonal after the pivots taken so far."""
        scale = self.scale if idx is None else self.scale[idx]
        return (_ROUNDING * math.sqrt(max(self.t, 1)) * self.eps) * scale

    def finished(self):
        """Whether to stop before the next pivot (the log's message says why)."""
        if self.broken or self.log.stopped_by_callback:
            return True
        relative = self.residual / self.trace if self.trace > 0 else 0.0
        if self.residual == 0.0:
            self.log.converge(f"the residual diagonal vanished (to rounding) after {self.t} "
                              f"pivots: A has numerical rank {self.t}")
        elif self.residual <= self.threshold:
            self.log.converge(f"residual trace {relative:.3g} * tr(A) <= tol={self.tol:g} "
                              f"after {self.t} pivots")
        elif self.t == self.k and self.tol == 0.0:
            self.log.converge(f"rank={self.k} pivots taken")
        elif self.t == self.k:
            self.log.fail(f"rank={self.k} pivots taken with residual trace {relative:.3g} "
                          f"* tr(A) above tol={self.tol:g}")
        else:
            return False
        return True

    def append(self, rows, pivots, candidates, stale=None):
        """Add the rows ``F[:, t:t+m]^T`` of the pivots, update the residual diagonal
        (``stale`` entries become zero too) and record a row of history."""
        drop = np.einsum("ij,ij->j", rows, rows, dtype=np.float64)
        if not math.isfinite(float(drop.sum())):
            self.break_down("the update is not finite (NaN in A, or entries near the end "
                            "of the float range)")
            return
        m = pivots.size
        self.G[self.t:self.t + m] = rows
        self.pivots[self.t:self.t + m] = pivots
        self.t += m
        self.d -= drop
        self.zero_out(pivots if stale is None else np.concatenate([pivots, stale]))
        relative = self.residual / self.trace if self.trace > 0 else 0.0
        self.log.record(rank=self.t, trace_error=relative, n_evaluations=self.n_evaluations,
                        candidates=candidates)
        self.log.call_back(self.t, relative)

    def break_down(self, why):
        self.broken = True
        self.log.fail(f"numerical breakdown after {self.t} pivots: {why}")

    def zero_out(self, stale=None):
        """Residual entries at rounding level (and ``stale`` ones) become exactly zero."""
        d = self.d
        d[d <= self.floor()] = 0.0
        if stale is not None:
            d[stale] = 0.0
        self.residual = float(np.sum(d))

    def result(self, method, accelerated):
        t = self.t
        rows = self.G if t == self.k else self.G[:t].copy()
        for b in range(1, t):           # exact zeros: factor[pivots] is lower triangular
            rows[b, self.pivots[:b]] = 0.0
        self.log.warn("rp_cholesky")
        return RPCholeskyResult(
            factor=rows.T, pivots=self.pivots[:t].copy(), rank=t,
            n_evaluations=self.n_evaluations,
            trace_error=self.residual / self.trace if self.trace > 0 else 0.0,
            method=method, accelerated=accelerated, converged=self.log.converged,
            n_iter=self.log.n_iter, history=self.log.history(), message=self.log.message)


# -- pivot rules ----------------------------------------------------------------------------


def _draw(d, uniforms):
    """Indices drawn with probability ``d / sum(d)`` (one per uniform in ``[0, 1)``)."""
    cumulative = np.cumsum(d)
    idx = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
    # u * total may round up to the total: the last index of positive weight then
    idx[idx >= d.size] = np.flatnonzero(d)[-1]
    return idx


def _select(method, d, rng, scale, eps):
    if method == "greedy":
        return int(np.argmax(d))
    if method == "uniform":
        live = np.flatnonzero(d > math.sqrt(eps) * scale)
        if live.size == 0:
            return -1
        return int(live[rng.integers(live.size)])
    return int(_draw(d, rng.random(1))[0])


def _one_at_a_time(run, method, rng):
    """One pivot per step: a matrix-vector product with the factor so far."""
    G = run.G
    while not run.finished():
        t = run.t
        s = _select(method, run.d, rng, run.scale, run.eps)
        if s < 0:                      # uniform: only negligible residuals are left
            run.log.converge(f"every residual is below sqrt(eps) A_ss after {t} pivots: "
                             f"further uniform pivots would be numerically dependent")
            break
        row = run.entries.rows(np.array([s], dtype=np.int64))[0]
        run.n_evaluations += run.entries.n
        if t:
            row = row - G[:t, s] @ G[:t]
        pivot = float(row[s])          # the residual recomputed from A, not the tracked d_s
        if not pivot > run.floor(s):   # rounding level (or NaN): s has no residual left
            run.zero_out(np.array([s], dtype=np.int64))
            continue
        row = row / math.sqrt(pivot)
        run.append(row[None, :], np.array([s], dtype=np.int64), 1)


def _next_block_size(b, accepted, n, k):
    target = math.ceil(accepted * n / (_REJECTION_SHARE * b))
    upper = min(target, math.ceil(_BLOCK_GROWTH * b), math.ceil(k / _MAX_BLOCK_FRACTION))
    return min(max(upper, math.ceil(b / 3), _MIN_BLOCK), n)


def _accelerated(run, block_size, rng):
    """Blocks of candidates, accepted by rejection sampling, processed together."""
    kernels = _kernels.load("factorization")
    G, entries, n = run.G, run.entries, run.entries.n
    b = math.ceil(run.k / _INITIAL_BLOCK_FRACTION) if block_size is None else block_size
    while not run.finished():
        t = run.t
        candidates = _draw(run.d, rng.random(b))
        uniforms = rng.random(b)
        H = entries.block(candidates)
        if t:
            C = G[:t, candidates]
            H = H - C.T @ C
        H = np.ascontiguousarray(H, dtype=np.float64)   # one kernel specialization
        run.n_evaluations += b * b
        floor = run.floor(candidates)
        accepted, L = kernels.rejection_cholesky(H, candidates, uniforms, floor)
        # candidates whose residual the block shows at rounding level are not drawn again
        stale = candidates[np.diagonal(H) <= floor]
        m = min(accepted.size, run.k - t)
        if m == 0:
            if stale.size == 0:
                run.break_down("no candidate of the block could be accepted (NaN in A?)")
            run.zero_out(stale)
            continue
        pivots = candidates[accepted[:m]]
        R = entries.rows(pivots)
        run.n_evaluations += m * n
        if t:
            R = R - G[:t, pivots].T @ G[:t]
        with blas_single_threaded() if m * m * n < _SMALL_SOLVE else contextlib.nullcontext():
            rows = scipy.linalg.solve_triangular(L[:m, :m].astype(R.dtype), R, lower=True,
                                                 check_finite=False)
        if run.threshold > 0 and m > 1:   # stop at the pivot that reaches tol
            drops = np.cumsum(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))
            reached = np.flatnonzero(run.residual - drops <= run.threshold)
            if reached.size:
                m = int(reached[0]) + 1
                rows, pivots = rows[:m], pivots[:m]
        run.append(rows, pivots, b, stale)
        if block_size is None:
            b = _next_block_size(b, accepted.size, n, run.k)
