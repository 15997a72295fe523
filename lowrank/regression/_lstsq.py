"""Least squares by sketching: direct, sketch-and-solve, sketch-and-precondition and
iterative sketching."""

import logging
import time
import warnings

import numpy as np
import scipy.linalg

from .._backend import host_dtype, is_numpy_namespace, is_sparse, norm, to_host
from .._result import Result, make_history
from .._rng import check_rng
from .._validation import check_int, check_matrix, check_option, check_real, check_vector
from ..exceptions import ConvergenceWarning
from ..sketch import SKETCH_KINDS
from ._iterative import Problem, iterative_sketching, sketch_and_precondition, sketch_factor
from ._preconditioners import cholesky_qr_refine

__all__ = ["LstsqResult", "lstsq"]

logger = logging.getLogger(__name__)

METHODS = ("auto", "direct", "sketch_and_solve", "sketch_and_precondition",
           "iterative_sketching")

# Sketch rows per column of A used by default (sketch_size = factor * d, at most n).
_DEFAULT_FACTOR = {"sketch_and_solve": 4, "sketch_and_precondition": 4,
                   "iterative_sketching": 12}


# Tiny d: a few dozen sketch rows cost nothing and keep the embedding tight.
_MIN_SKETCH_SIZE = 32


class LstsqResult(Result):
    """Result of :func:`lstsq`.

    Attributes
    ----------
    x : array (d,) or (d, k)
        The computed solution, in the namespace and float dtype of the data (one column
        per column of a 2-D ``b``).
    residual_norm : float or ndarray (k,)
        ``||A x - b||`` recomputed from ``x`` (per column for a 2-D ``b``).
    n_iter : int
        Iterations of the iterative phase (0 for direct and sketch-and-solve), summed
        over the columns of a 2-D ``b`` (whose passes over ``A`` are the largest
        column's count).
    converged : bool
        Whether the stopping test was met (always True for non-iterative methods); for a
        2-D ``b``, by every column.
    history : dict of ndarray
        Per iteration: ``residual`` (estimate of ``||A x_k - b||``), ``backward_error``
        (LSQR steps: the normwise backward-error estimate
        ``||M^T A^T r_k|| / (||A M|| ||r_k||)`` of the preconditioned problem; NaN for
        iterative-sketching steps), ``relative_step`` (iterative-sketching steps: the
        estimate ``||A (x_k - x_{k-1})|| / ||r_k||``; NaN for LSQR steps) and ``time``
        (seconds since the start of the iterative phase); for a 2-D ``b`` one row per
        column and iteration, in time order, with ``column`` (the column index).
    method : str
        The method that ran (``"auto"`` resolved).
    message : str
        How the solver stopped.
    sketch_size : int or None
        Rows of the sketch used (None for ``"direct"``).
    preconditioner : str
        ``"cholesky_qr"``, ``"sketch_qr"``, ``"sketch_svd"`` (rank-deficient sketch) or
        ``"none"``.
    column_converged : ndarray of bool (k,) or None
        For a 2-D ``b`` solved iteratively: whether each column converged; else None.
    """

    x: object
    residual_norm: float
    n_iter: int
    converged: bool
    history: dict
    method: str
    message: str = ""
    sketch_size: int | None = None
    preconditioner: str = "none"
    column_converged: object = None



def lstsq(A, b, *, method="auto", sketch="sparse_sign", sketch_size=None, tol=1e-12,
          maxiter=None, rng=None, callback=None, check_finite=True,
          preconditioner="auto") -> LstsqResult:
    """Solve the linear least-squares problem ``min_x ||A x - b||_2`` by sketching.

    Parameters
    ----------
    A : (n, d) array or sparse matrix
        The data.  Dense NumPy, SciPy sparse, CuPy (dense or sparse) or any array API
        array.  Sketching methods need ``n >= d``.
    b : (n,) or (n, k) array
        Right-hand side(s), in the namespace of ``A``.  The ``k`` columns of a 2-D ``b``
        share one sketch of ``[A b]``, one QR and one preconditioner; the iterative phase
        runs them side by side, one pass over ``A`` per iteration for all the columns
        still running, each with its own stopping test and ``maxiter``.
    method : {"auto", "direct", "sketch_and_solve", "sketch_and_precondition", \
"iterative_sketching"}
        - ``"direct"``: LAPACK ``gelsd`` (minimum-norm solution; SciPy sparse ``A`` is
          densified).
        - ``"sketch_and_solve"``: ``argmin ||S (A x - b)||``; a rough answer
          (residual within ``(1+eps)/(1-eps)`` of optimal for an eps-embedding).
        - ``"sketch_and_precondition"``: R from a Householder QR of ``S A``; for dense,
          full-rank ``A`` the preconditioner is refined by a Cholesky QR of ``A R^{-1}``
          (well conditioned, so stable up to cond(A) ~ 1/eps); then LSQR on ``A M``
          started from the sketched solution, with up to two refinement solves on the
          updated residual (SPIR).  The accurate default.
        - ``"iterative_sketching"``: Richardson iteration with the sketch preconditioner
          and heavy-ball momentum.  Epperly (2023) proves forward stability for the
          iteration without momentum; with momentum it is stable in our tests but not
          proven (a safeguard drops the momentum if the iteration diverges).
        - ``"auto"``: for dense ``A``, ``"direct"`` unless ``d >= 96`` and
          ``n >= 64 d`` (the measured crossover); for sparse ``A``, ``"direct"`` if
          ``n < 4 d`` or ``n d < 2^18`` and ``"sketch_and_precondition"`` otherwise.
          Tall dense problems get one sketch of ``max(12 d, 32)`` rows, then
          ``"iterative_sketching"`` if the sketch estimates ``cond(A) <= 1e9`` and
          ``"sketch_and_precondition"`` (Cholesky QR) otherwise.  ``result.method``
          says which ran.
    sketch : {"sparse_sign", "srht", "gaussian", "rademacher", "countsketch"}
        Sketch family.
    sketch_size : int, optional
        Rows of the sketch, ``d <= sketch_size <= n``.  Default ``max(4 d, 32)``
        (``max(12 d, 32)`` for iterative sketching), at most ``n``.  The sparse sign
        sketch has ``min(4, sketch_size)`` nonzeros per column.
    tol : float, default 1e-12
        Relative tolerance of the iterative phase (raised to ``4 eps`` of the dtype).
    maxiter : int, optional
        Maximum iterations of the iterative phase (default 100 per LSQR solve, 200 for
        iterative sketching).
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness for the sketch; the same ``rng`` gives the same ``x``.
    callback : callable, optional
        ``callback(iteration, x_or_z, residual_estimate)`` after each iteration; return
        True to stop.  For a 2-D ``b``, ``x_or_z`` has one column per column still
        running and ``residual_estimate`` is an array of theirs.
    check_finite : bool, default True
        Reject NaN or inf in ``A`` and ``b``.
    preconditioner : {"auto", "cholesky_qr", "sketch"}
        For ``"sketch_and_precondition"``: ``"sketch"`` uses R from the QR of ``S A``
        alone (Blendenpik/LSRN style: cheaper set-up, tens of LSQR iterations);
        ``"cholesky_qr"`` refines it by a Cholesky QR of ``A R^{-1}`` (dense ``A``;
        falls back to ``"sketch"`` if the Cholesky factorization breaks down);
        ``"auto"`` is ``"cholesky_qr"`` for dense and ``"sketch"`` for sparse ``A``.

    Returns
    -------
    LstsqResult
        ``x``, ``residual_norm``, ``n_iter``, ``converged``, ``history``, ``method``.

    Raises
    ------
    ValueError
        Wrong shapes, non-finite data, unknown ``method``/``sketch``, ``sketch_size``
        outside ``[d, n]``, or ``n < d`` for a sketching method.
    TypeError
        Complex or non-numeric data, non-integer sizes.

    Warns
    -----
    ConvergenceWarning
        When the iterative phase stops at ``maxiter``.

    Notes
    -----
    For an eps-subspace embedding S of range(A), the singular values of ``A R^{-1}`` lie
    in ``[1/(1+eps), 1/(1-eps)]``, so LSQR converges at a rate independent of cond(A)
    (Rokhlin-Tygert 2008, Avron-Maymounkov-Toledo 2010).  Sketch-and-precondition from
    a zero start is not backward stable on ill-conditioned problems (Meier-Nakatsukasa-
    Townsend-Webb 2023); warm starting and iterative refinement (SPIR) restore
    stability (Epperly-Meier-Nakatsukasa 2024).  The Cholesky QR of ``B = A R_s^{-1}``
    is stable because ``B`` is well conditioned (Higgins-Szyld-Boman-Yamazaki 2023,
    Garrison-Ipsen 2024); it costs ``2 n d^2`` flops at BLAS-3 speed, after which LSQR
    needs one or two iterations.  Memory: one extra n x d array.

    Backend support: NumPy and SciPy sparse (host); CuPy and any array API namespace
    (the ``"direct"`` method uses a QR solve there).  Results are in the namespace of
    ``A``.

    References
    ----------
    .. [1] E. Epperly, M. Meier, Y. Nakatsukasa, "Fast randomized least-squares solvers
       can be just as accurate and stable as classical direct solvers", arXiv:2406.03468.
    .. [2] E. Epperly, "Fast and forward stable randomized algorithms for linear
       least-squares problems", arXiv:2311.04362.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.regression import lstsq
    >>> from lowrank.testing import lstsq_problem
    >>> P = lstsq_problem(4000, 20, cond=1e6, rng=0)
    >>> res = lstsq(P.A, P.b, method="sketch_and_precondition", rng=0)
    >>> res.converged, res.preconditioner
    (True, 'cholesky_qr')
    >>> bool(np.linalg.norm(res.x - P.x) <= 1e-8 * np.linalg.norm(P.x))
    True
    """
    A, xp = check_matrix(A, "A", check_finite=check_finite)
    n, d = A.shape
    b, xp_b = check_vector(b, "b", n, check_finite=check_finite, allow_matrix=True)
    if xp_b is not xp and not (is_numpy_namespace(xp) and is_numpy_namespace(xp_b)):
        raise TypeError("`A` and `b` must belong to the same array namespace.")
    method = check_option(method, "method", METHODS)
    check_option(sketch, "sketch", SKETCH_KINDS)
    tol = check_real(tol, "tol", low=0.0, high=1.0, low_open=True)
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", low=1)
    check_option(preconditioner, "preconditioner", ("auto", "cholesky_qr", "sketch"))
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None; got {callback!r}.")
    auto = method == "auto"
    if auto:
        method = _auto_method(A, n, d)
    if method != "direct" and n < d:
        raise ValueError(f"method={method!r} needs a tall `A` (n >= d); got shape {A.shape}. "
                         "Use method='direct' for underdetermined problems.")
    if sketch_size is not None:
        sketch_size = check_int(sketch_size, "sketch_size", low=d, high=n)
    elif method != "direct":
        sketch_size = min(n, max(_DEFAULT_FACTOR[method] * d, _MIN_SKETCH_SIZE))
    rng = check_rng(rng)
    A, b = _common_dtype(xp, A, b)
    tol = max(tol, 4 * float(np.finfo(host_dtype(A.dtype)).eps))
    start = time.perf_counter()
    if method == "direct":
        result = _direct(xp, A, b)
    elif method == "sketch_and_solve":
        result = _sketch_and_solve(xp, A, b, sketch, sketch_size, rng)
    else:
        problem = Problem(xp, A, b, sketch, sketch_size, rng, tol=tol, maxiter=maxiter,
                          callback=callback)
        result = _solve_iteratively(problem, method, auto, preconditioner)
    logger.info("lstsq %s on %dx%d: %d iterations, %.3fs", method, n, d, result.n_iter,
                time.perf_counter() - start)
    if not result.converged and result.message.startswith("maxiter"):
        warnings.warn(f"lstsq({method!r}) did not converge: {result.message}",
                      ConvergenceWarning, stacklevel=2)
    return result


def _auto_method(A, n, d):
    """``"direct"`` for small or nearly square problems; for tall ones, sketching:
    ``"sketch_and_precondition"`` for sparse A, and for dense A ``"iterative_sketching"``
    whose sketch then decides (see :func:`_solve_iteratively`)."""
    if is_sparse(A):
        # Sketching never densifies A: worth it as soon as the problem is not tiny.
        return "direct" if n < 4 * d or n * d < 2**18 else "sketch_and_precondition"
    if d < _AUTO_MIN_COLUMNS or n < _AUTO_MIN_ASPECT * d:
        return "direct"
    return "iterative_sketching"


# Dense crossover measured against LAPACK gelsd on a 2-core machine (2026-11): sketching
# lost below about 100 columns (LAPACK's QR is efficient on narrow matrices: 0.7x at
# d = 32 and 64) and broke even at n = 64 d (0.97x at 8192 x 128, 0.96x at 16384 x 256;
# 0.4x at 8192 x 512); it won from n = 128 d (1.2x at d = 128, 1.6x at d = 256) up to
# 3.4x at 2^17 x 256.
_AUTO_MIN_COLUMNS = 96
_AUTO_MIN_ASPECT = 64


# Largest condition-number estimate for which method="auto" keeps iterative sketching:
# its backward error grows with cond(A) (forward, not backward, stable), measured at
# about 5e-11 for cond 1e8 and 4e-9 for cond 1e10 on 3000 x 40 problems.
_AUTO_ITERATIVE_MAX_COND = 1e9


def _prefers_iterative(M, preconditioner):
    """Whether method="auto" continues by iterative sketching after the sketch ``M``."""
    if M.kind != "sketch_qr" or preconditioner == "cholesky_qr":
        return False
    a_norm, s_min = M.singular_values()
    return a_norm <= _AUTO_ITERATIVE_MAX_COND * s_min


def _solve_iteratively(problem, method, auto, preconditioner):
    """Sketch ``[A b]`` once, then run the iterative phase of ``method``.

    With ``auto``, iterative sketching (one fused pass over A per iteration) runs only
    when the sketch's R says cond(A) <= 1e9; otherwise the backward stable
    sketch-preconditioned Cholesky QR + LSQR, on the same sketch.  The columns of a 2-D
    ``b`` share the sketch, its QR and the preconditioner (the Cholesky QR refinement
    included), and each iteration is one pass over A for all the columns still running.
    """
    factor = sketch_factor(problem)
    if method == "iterative_sketching" and (
            not auto or _prefers_iterative(factor[0], preconditioner)):
        method, solve = "iterative_sketching", iterative_sketching
    else:
        method, solve = "sketch_and_precondition", sketch_and_precondition
        factor = _refined(problem, factor, preconditioner)
    return _from_run(problem, solve(problem, factor), method)


def _refined(problem, factor, preconditioner):
    """``factor = (M, z0)`` refined by the Cholesky QR of ``A M`` when ``preconditioner``
    asks for it (``"auto"``: for dense A) and M is triangular; unchanged otherwise or
    when the Cholesky factorization breaks down."""
    M, _ = factor
    wanted = preconditioner == "cholesky_qr" or (preconditioner == "auto"
                                                  and not is_sparse(problem.A))
    if wanted and M.kind == "sketch_qr":
        refined = cholesky_qr_refine(problem.xp, problem.A, problem.b, M)
        if refined is not None:
            return refined
    return factor


def _from_run(problem, run, method):
    """The :class:`LstsqResult` of the iterative phase: one column's log as it is (1-D
    ``b``), or the columns' logs merged in time order, each row tagged with its
    ``column``."""
    logs = run.logs
    if problem.b.ndim == 1:
        log = logs[0]
        return LstsqResult(x=run.X[:, 0], residual_norm=float(run.residual_norms[0]),
                           n_iter=log.n_iter, converged=log.converged,
                           history=log.history(), method=method,
                           message=log.message + run.notes[0],
                           sketch_size=problem.sketch_size,
                           preconditioner=run.preconditioner.kind)
    rows = sorted(((row, j) for j, log in enumerate(logs) for row in log.rows),
                  key=lambda item: item[0][-1])
    columns = logs[0].columns
    history = {name: [row[i] for row, _ in rows] for i, name in enumerate(columns)}
    history["column"] = [j for _, j in rows]
    converged = np.asarray([log.converged for log in logs])
    failed = np.flatnonzero(~converged)
    message = (f"{logs[failed[0]].message}{run.notes[failed[0]]} (column {failed[0]}, "
               f"{failed.size} of {len(logs)} columns not converged)" if failed.size
               else f"converged ({len(logs)} columns)")
    return LstsqResult(x=run.X, residual_norm=run.residual_norms,
                       n_iter=sum(log.n_iter for log in logs), converged=not failed.size,
                       history=history, method=method, message=message,
                       sketch_size=problem.sketch_size,
                       preconditioner=run.preconditioner.kind, column_converged=converged)


def _common_dtype(xp, A, b):
    """``A`` and ``b`` cast to their common (float) dtype."""
    dtype = xp.result_type(A.dtype, b.dtype)
    if A.dtype != dtype:
        A = A.astype(host_dtype(dtype)) if is_sparse(A) else xp.astype(A, dtype)
    if b.dtype != dtype:
        b = xp.astype(b, dtype)
    return A, b


def _residual_norm(xp, A, b, x):
    """``||b - A x||`` (per column, as a NumPy array, for a 2-D ``b``)."""
    if b.ndim == 1:
        return norm(xp, b - A @ x)
    return np.asarray(to_host(xp.linalg.vector_norm(b - A @ x, axis=0)), dtype=np.float64)


def _direct(xp, A, b):
    """The minimum-norm solution by LAPACK ``gelsd`` (host) or the pseudoinverse."""
    dense = A.toarray() if is_sparse(A) else A
    if is_numpy_namespace(xp):
        x = scipy.linalg.lstsq(dense, b, check_finite=False)[0]
    else:
        x = xp.linalg.pinv(dense) @ b
    return LstsqResult(x=x, residual_norm=_residual_norm(xp, A, b, x), n_iter=0,
                       converged=True, history=make_history(), method="direct",
                       message="direct solve (LAPACK)")


def _sketch_and_solve(xp, A, b, kind, sketch_size, rng):
    """``argmin ||S (A x - b)||`` from one sketch of ``[A b]``."""
    M, z0 = sketch_factor(Problem(xp, A, b, kind, sketch_size, rng))
    x = M.apply(z0)
    return LstsqResult(x=x, residual_norm=_residual_norm(xp, A, b, x), n_iter=0,
                       converged=True, history=make_history(), method="sketch_and_solve",
                       message="sketch-and-solve (no iterative phase)",
                       sketch_size=sketch_size, preconditioner=M.kind)
