"""Least squares by sketching: direct, sketch-and-solve, sketch-and-precondition and
iterative sketching."""

import dataclasses
import logging
import math
import time
import warnings

import numpy as np
import scipy.linalg

from .. import _kernels
from .._backend import host_dtype, is_numpy_namespace, is_sparse, norm, to_host
from .._linalg import cholesky_upper, numerical_rank, qr_r, triangular_solve
from .._result import IterationLog, Result, make_history
from .._rng import check_rng
from .._solvers.lsqr import lsqr
from .._threads import threads_for
from .._validation import check_int, check_matrix, check_option, check_real, check_vector
from ..exceptions import ConvergenceWarning
from ..sketch import SKETCH_KINDS, make_sketch

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
        over the columns of a 2-D ``b``.
    converged : bool
        Whether the stopping test was met (always True for non-iterative methods); for a
        2-D ``b``, by every column.
    history : dict of ndarray
        Per iteration: ``residual`` (estimate of ``||A x_k - b||``), ``backward_error``
        (LSQR steps: the normwise backward-error estimate
        ``||M^T A^T r_k|| / (||A M|| ||r_k||)`` of the preconditioned problem; NaN for
        iterative-sketching steps), ``relative_step`` (iterative-sketching steps: the
        estimate ``||A (x_k - x_{k-1})|| / ||r_k||``; NaN for LSQR steps) and ``time``
        (seconds since the start of the iterative phase); for a 2-D ``b`` the columns'
        iterations one after the other, with ``column`` (the column index) per row.
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


class _Preconditioner:
    """Right preconditioner M (d x r) with ``apply(z) = M z`` and ``apply_T(w) = M^T w``.

    Forms: ``R^{-1}`` (triangular, from a QR of the sketch), ``X R_c^{-1}`` (sketch-
    preconditioned Cholesky QR, X the explicit inverse of the sketch's R), and
    ``V_r diag(1/s_r)`` (rank-deficient sketch).
    """

    def __init__(self, xp, kind, *, R=None, X=None, V=None, s=None):
        self.xp, self.kind, self.R, self.X, self.V, self.s = xp, kind, R, X, V, s
        self.n_cols = V.shape[1] if V is not None else R.shape[0]

    def apply(self, z):
        if self.kind == "sketch_svd":
            return self.V @ (z / (self.s if z.ndim == 1 else self.s[:, None]))
        y = triangular_solve(self.xp, self.R, z)
        return y if self.X is None else self.X @ y

    def apply_T(self, w):
        if self.kind == "sketch_svd":
            return (self.xp.matrix_transpose(self.V) @ w) / self.s
        if self.X is not None:
            w = self.xp.matrix_transpose(self.X) @ w
        return triangular_solve(self.xp, self.R, w, trans=True)

    def apply_inverse_T(self, y):
        """``M^{-T} y``."""
        if self.kind == "sketch_svd":
            return self.V @ (y * self.s)
        y = self.xp.matrix_transpose(self.R) @ y
        if self.X is not None:
            y = triangular_solve(self.xp, self.X, y, trans=True)
        return y

    def apply_inverse(self, y):
        """``M^{-1} y`` (for the triangular forms ``R y``; for the SVD form
        ``diag(s) V^T y``)."""
        if self.kind == "sketch_svd":
            return (self.xp.matrix_transpose(self.V) @ y) * self.s
        if self.X is not None:
            y = triangular_solve(self.xp, self.X, y)
        return self.R @ y

    def singular_values(self, n_steps=12):
        """Estimates of the largest and smallest singular values of ``M^{-1}``, i.e. of
        ``||A||`` and ``sigma_min(A)`` within the sketch's distortion.

        Power iteration on ``M^{-T} M^{-1}`` and on ``M M^T`` (O(d^2) per step, on the
        data's device); a dozen steps give the few correct digits a stopping rule needs.
        """
        if self.kind == "sketch_svd":
            return float(self.s[0]), float(self.s[-1])
        xp = self.xp
        v = xp.ones(self.n_cols, dtype=self.R.dtype)
        w = v
        big = small = 0.0
        for _ in range(n_steps):
            v = self.apply_inverse_T(self.apply_inverse(v))
            big = norm(xp, v)
            v = v / big
            w = self.apply(self.apply_T(w))
            small = norm(xp, w)
            w = w / small
        return float(np.sqrt(big)), float(1.0 / np.sqrt(small))


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
        then runs column by column (each with its own stopping test and ``maxiter``).
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
        True to stop.
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
    elif b.ndim == 2:
        result = _solve_columns(xp, A, b, method, auto, sketch, sketch_size, tol, maxiter,
                                rng, callback, preconditioner)
    elif auto and method == "iterative_sketching":
        result = _auto_dense(xp, A, b, sketch, sketch_size, tol, maxiter, rng, callback,
                             preconditioner)
    elif method == "sketch_and_precondition":
        refine = preconditioner == "cholesky_qr" or (preconditioner == "auto"
                                                      and not is_sparse(A))
        result = _sketch_and_precondition(xp, A, b, sketch, sketch_size, tol,
                                          maxiter or 100, rng, callback, refine)
    else:
        result = _iterative_sketching(xp, A, b, sketch, sketch_size, tol,
                                      maxiter or 200, rng, callback)
    logger.info("lstsq %s on %dx%d: %d iterations, %.3fs", method, n, d, result.n_iter,
                time.perf_counter() - start)
    if not result.converged and result.message.startswith("maxiter"):
        warnings.warn(f"lstsq({method!r}) did not converge: {result.message}",
                      ConvergenceWarning, stacklevel=2)
    return result


def _auto_method(A, n, d):
    """``"direct"`` for small or nearly square problems; for tall ones, sketching:
    ``"sketch_and_precondition"`` for sparse A, and for dense A ``"iterative_sketching"``
    whose sketch then decides (see :func:`_auto_dense`)."""
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


def _auto_dense(xp, A, b, kind, sketch_size, tol, maxiter, rng, callback, preconditioner):
    """Sketch once; continue by iterative sketching (one fused pass over A per
    iteration) when the sketch's R says cond(A) <= 1e9, otherwise by the backward
    stable sketch-preconditioned Cholesky QR + LSQR, reusing the same sketch."""
    factor = _sketch_factor(xp, A, b, kind, sketch_size, rng)
    if _prefers_iterative(factor[0], preconditioner):
        return _iterative_sketching(xp, A, b, kind, sketch_size, tol, maxiter or 200,
                                    rng, callback, factor=factor)
    return _sketch_and_precondition(xp, A, b, kind, sketch_size, tol, maxiter or 100, rng,
                                    callback, preconditioner != "sketch", factor=factor)


def _prefers_iterative(M, preconditioner):
    """Whether method="auto" continues by iterative sketching after the sketch ``M``."""
    if M.kind != "sketch_qr" or preconditioner == "cholesky_qr":
        return False
    a_norm, s_min = M.singular_values()
    return a_norm <= _AUTO_ITERATIVE_MAX_COND * s_min


def _solve_columns(xp, A, B, method, auto, kind, sketch_size, tol, maxiter, rng, callback,
                   preconditioner):
    """Several right-hand sides (the columns of ``B``) by an iterative method: one sketch
    of ``[A B]``, one QR and one preconditioner (its Cholesky QR refinement included)
    shared by every column, then the iterative phase column by column."""
    M, Z0 = _sketch_factor(xp, A, B, kind, sketch_size, rng)
    iterative = method == "iterative_sketching" and (not auto
                                                     or _prefers_iterative(M, preconditioner))
    if not iterative:
        refine = preconditioner == "cholesky_qr" or (preconditioner == "auto"
                                                      and not is_sparse(A))
        if refine and M.kind == "sketch_qr":
            refined = _cholesky_qr_refine(xp, A, B, M)
            if refined is not None:
                M, Z0 = refined
    results = []
    for j in range(B.shape[1]):
        factor = (M, Z0[:, j])
        if iterative:
            res = _iterative_sketching(xp, A, B[:, j], kind, sketch_size, tol,
                                       maxiter or 200, rng, callback, factor=factor)
        else:
            res = _sketch_and_precondition(xp, A, B[:, j], kind, sketch_size, tol,
                                           maxiter or 100, rng, callback, False,
                                           factor=factor)
        results.append(res)
    return _merge_columns(xp, results)


def _merge_columns(xp, results):
    """One :class:`LstsqResult` from the results of the single columns."""
    first = results[0]
    offset, times = 0.0, []
    for r in results:  # each column's clock continues the previous one's
        times.append(np.asarray(r.history["time"]) + offset)
        offset = times[-1][-1] if times[-1].size else offset
    history = {key: np.concatenate([r.history[key] for r in results])
               for key in first.history if key != "time"}
    history["column"] = np.concatenate([np.full(len(r.history["time"]), j, dtype=float)
                                        for j, r in enumerate(results)])
    history["time"] = np.concatenate(times)
    failed = [(j, r) for j, r in enumerate(results) if not r.converged]
    message = (f"{failed[0][1].message} (column {failed[0][0]}, "
               f"{len(failed)} of {len(results)} columns not converged)" if failed
               else f"converged ({len(results)} columns)")
    return LstsqResult(
        x=xp.stack([r.x for r in results], axis=1),
        residual_norm=np.asarray([r.residual_norm for r in results]),
        n_iter=sum(r.n_iter for r in results), converged=not failed, history=history,
        method=first.method, message=message, sketch_size=first.sketch_size,
        preconditioner=first.preconditioner,
        column_converged=np.asarray([r.converged for r in results]))


def _common_dtype(xp, A, b):
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
    if is_numpy_namespace(xp):
        dense = A.toarray() if is_sparse(A) else A
        x = scipy.linalg.lstsq(dense, b, check_finite=False)[0]
    else:
        dense = A.toarray() if is_sparse(A) else A
        x = xp.linalg.pinv(dense) @ b
    return LstsqResult(x=x, residual_norm=_residual_norm(xp, A, b, x), n_iter=0,
                       converged=True, history=make_history(), method="direct",
                       message="direct solve (LAPACK)")


# Nonzeros per column of lstsq's sparse sign sketch.  Measured on 2^17 x 256 (cond 1e8)
# and on a coherent 2^15 x 128 problem: 4 nonzeros gave the same iteration counts as 8
# (17-21) with a 20% faster solve; the Cholesky QR step only needs SA of full rank.
_SPARSE_SIGN_NNZ = 4
# Sketch kinds whose operator generates its entries during each product.
_DRAWN_PER_PRODUCT = ("gaussian", "rademacher")


def _sketch_factor(xp, A, b, kind, sketch_size, rng):
    """Sketch [A b]; return the preconditioner from QR (or SVD) of S A and the sketched
    solution's coordinates ``z0`` (so that ``x0 = M z0``)."""
    options = {"nnz_per_column": min(_SPARSE_SIGN_NNZ, sketch_size)} if (
        kind == "sparse_sign") else {}
    S = make_sketch(kind, sketch_size, A.shape[0], rng=rng, **options)
    d = A.shape[1]
    if kind in _DRAWN_PER_PRODUCT and not is_sparse(A):
        # A dense sketch draws S anew for every product: sketch [A b] in one product (a
        # copy of A, small beside the product's 2 m n d flops) rather than draw S twice.
        SAb = S @ xp.concat([A, b if b.ndim == 2 else b[:, None]], axis=1)
        SA, Sb = SAb[:, :d], (SAb[:, d] if b.ndim == 1 else SAb[:, d:])
    else:
        SA, Sb = S @ A, S @ b
    # R of the QR of [SA, Sb]: its last columns hold Q^T Sb, so Q is never formed.
    Rb = qr_r(xp, xp.concat([SA, Sb if Sb.ndim == 2 else Sb[:, None]], axis=1))
    R, z0 = Rb[:d, :d], (Rb[:d, d] if Sb.ndim == 1 else Rb[:d, d:])
    diag = xp.abs(xp.linalg.diagonal(R))
    eps = float(np.finfo(host_dtype(A.dtype)).eps)
    if float(xp.min(diag)) > float(xp.max(diag)) * d * eps:
        return _Preconditioner(xp, "sketch_qr", R=R), z0
    U, s, Vt = xp.linalg.svd(SA, full_matrices=False)
    r = max(numerical_rank(xp, s, d * eps), 1)
    M = _Preconditioner(xp, "sketch_svd", V=xp.matrix_transpose(Vt[:r, :]), s=s[:r])
    return M, xp.matrix_transpose(U[:, :r]) @ Sb


def _sketch_and_solve(xp, A, b, kind, sketch_size, rng):
    M, z0 = _sketch_factor(xp, A, b, kind, sketch_size, rng)
    x = M.apply(z0)
    return LstsqResult(x=x, residual_norm=_residual_norm(xp, A, b, x), n_iter=0,
                       converged=True, history=make_history(), method="sketch_and_solve",
                       message="sketch-and-solve (no iterative phase)",
                       sketch_size=sketch_size, preconditioner=M.kind)


def _cholesky_qr_refine(xp, A, b, M):
    """Refine a triangular sketch preconditioner R_s by a Cholesky QR of B = A R_s^{-1}.

    Returns the refined preconditioner and ``z0 = Q^T b`` (Q = B R_c^{-1} implicit), or
    ``None`` when the Cholesky factorization breaks down (A numerically rank deficient).
    """
    d = A.shape[1]
    eye = xp.eye(d, dtype=A.dtype)
    X = triangular_solve(xp, M.R, eye)
    G, c = _gram_of_product(xp, A, X, b)
    Rc = cholesky_upper(xp, G)
    if Rc is None:
        return None
    z0 = triangular_solve(xp, Rc, c, trans=True)
    return _Preconditioner(xp, "cholesky_qr", R=Rc, X=X), z0


# Rows of A per block of the Gram computation: a 4096 x d block of B = A X stays in the
# last-level cache between the two products, and B is never stored whole.
_GRAM_BLOCK_ROWS = 4096


def _gram_of_product(xp, A, X, b):
    """``(B^T B, B^T b)`` for ``B = A X``, block by block on the host (dense A)."""
    if not is_numpy_namespace(xp) or is_sparse(A):
        B = A @ X
        return xp.matrix_transpose(B) @ B, xp.matrix_transpose(B) @ b
    n, d = A.shape
    G = np.zeros((d, d), dtype=A.dtype)
    c = np.zeros((d, *b.shape[1:]), dtype=A.dtype)
    buf = np.empty((min(n, _GRAM_BLOCK_ROWS), d), dtype=A.dtype)
    for start in range(0, n, _GRAM_BLOCK_ROWS):
        stop = min(n, start + _GRAM_BLOCK_ROWS)
        Bb = np.matmul(A[start:stop], X, out=buf[: stop - start])
        G += Bb.T @ Bb
        c += Bb.T @ b[start:stop]
    return G, c


# The columns of lstsq's history (see LstsqResult).
_HISTORY = ("residual", "backward_error", "relative_step")


def _new_log(maxiter, callback):
    return IterationLog(_HISTORY, maxiter=maxiter, callback=callback)


def _iterative_result(log, x, r_norm, method, sketch_size, M):
    return LstsqResult(x=x, residual_norm=r_norm, n_iter=log.n_iter, converged=log.converged,
                       history=log.history(), method=method, message=log.message,
                       sketch_size=sketch_size, preconditioner=M.kind)


def _sketch_and_precondition(xp, A, b, kind, sketch_size, tol, maxiter, rng, callback,
                             refine, factor=None, log=None):
    M, z0 = factor or _sketch_factor(xp, A, b, kind, sketch_size, rng)
    log = log or _new_log(maxiter, callback)
    if refine and M.kind == "sketch_qr":
        refined = _cholesky_qr_refine(xp, A, b, M)
        if refined is not None:
            M, z0 = refined
    x = M.apply(z0)
    r = b - A @ x
    r_norm = norm(xp, r)
    if r_norm >= norm(xp, b):  # keep the warm start only if it helps
        x = xp.zeros_like(x)
        r, r_norm = b, norm(xp, b)

    def matvec(z):
        return A @ M.apply(z)

    transpose_times = _transpose_operator(xp, A)

    def rmatvec(u):
        return M.apply_T(transpose_times(u))

    budget = maxiter - log.n_iter
    log.converge("converged")
    for _ in range(2):  # SPIR: at most two refinement solves
        if budget <= 0:
            break
        dz, istop, itn, _, rows = lsqr(xp, matvec, rmatvec, r, M.n_cols, atol=tol, btol=tol,
                                       maxiter=budget, dtype=A.dtype,
                                       callback=log.callback)
        log.extend([(res, backward, math.nan, t) for res, backward, t in rows],
                   time_offset=log.elapsed() - (rows[-1][2] if rows else 0.0))
        budget -= itn
        if itn > 0:
            x = x + M.apply(dz)
            r = b - A @ x
            r_norm = norm(xp, r)
        if istop == 7:
            log.fail(f"maxiter={maxiter} reached")
            break
        if istop == 8:
            log.stopped_by_callback = True
            log.fail("stopped by callback")
            break
        if itn <= 1:
            break
    return _iterative_result(log, x, r_norm, "sketch_and_precondition", sketch_size, M)


def _transpose_operator(xp, A):
    """``u -> A^T u``: blocked sums in a Numba kernel for a C-ordered dense host ``A``
    (more accurate than one n-term BLAS sum), the namespace's product otherwise."""
    if is_numpy_namespace(xp) and not is_sparse(A) and A.flags.c_contiguous:
        transpose_times = _kernels.load("regression").transpose_times

        def product(u):
            with threads_for(A.size):
                return transpose_times(A, np.ascontiguousarray(u), _GRADIENT_BLOCK_ROWS)

        return product
    AT = A.T if is_sparse(A) else xp.matrix_transpose(A)
    return lambda u: AT @ u


def _gradient_operator(xp, A, b):
    """``x -> (A^T (b - A x), ||b - A x||)``: one fused pass over a C-ordered dense host
    ``A`` (Numba), two BLAS passes otherwise."""
    if is_numpy_namespace(xp) and not is_sparse(A) and A.flags.c_contiguous:
        residual_gradient = _kernels.load("regression").residual_gradient
        b = np.ascontiguousarray(b)

        def gradient(x):
            with threads_for(A.size):
                g, rr = residual_gradient(A, b, np.ascontiguousarray(x), _GRADIENT_BLOCK_ROWS)
            return g, float(np.sqrt(rr))

        return gradient
    AT = A.T if is_sparse(A) else xp.matrix_transpose(A)

    def gradient(x):
        r = b - A @ x
        return AT @ r, norm(xp, r)

    return gradient


# Rows per block of the fused gradient kernel (fixed, so results are thread-count free).
_GRADIENT_BLOCK_ROWS = 4096


def _iterative_sketching(xp, A, b, kind, sketch_size, tol, maxiter, rng, callback,
                         factor=None):
    M, z0 = factor or _sketch_factor(xp, A, b, kind, sketch_size, rng)
    log = _new_log(maxiter, callback)
    d = A.shape[1]
    rho = d / sketch_size
    # Heavy-ball parameters optimal for the spectrum of a Gaussian embedding (note).
    alpha, beta = (1.0 - rho) ** 2, rho
    eps = float(np.finfo(host_dtype(A.dtype)).eps)
    a_norm, s_min = M.singular_values()
    kappa = a_norm / s_min
    gradient = _gradient_operator(xp, A, b)
    x = M.apply(z0)
    x_prev = x
    g, r_norm = gradient(x)
    best_x, best_r, best_change = x, r_norm, np.inf
    growth, damped = 0, False
    # Heavy ball reaches full accuracy in about this many steps when the sketch embeds
    # as well as a Gaussian one; far slower progress means the spectrum is wider than
    # the momentum parameters assume (small n, coherent A).
    patience = 2 * int(np.ceil(np.log(eps) / np.log(np.sqrt(rho)))) + 10
    for it in range(1, maxiter + 1):
        if it > patience:
            return _finish_by_lsqr(xp, A, b, kind, sketch_size, tol, maxiter, rng, M, x, log)
        step = M.apply(M.apply_T(g))
        x, x_prev = x + alpha * step + beta * (x - x_prev), x
        g, r_norm = gradient(x)
        # ||A (x - x_prev)|| estimated by the preconditioner (within the sketch's
        # distortion), which saves a pass over A.
        change = norm(xp, M.apply_inverse(x - x_prev))
        log.record(residual=r_norm, backward_error=math.nan,
                   relative_step=change / max(r_norm, change, np.finfo(float).tiny))
        if log.call_back(it, x, r_norm):
            break
        x_norm = norm(xp, x)
        floor = eps * (a_norm * x_norm + 0.04 * kappa * r_norm)
        # Stop once the step is below tol relative to x (||A dx|| >= sigma_min ||dx||,
        # sigma_min ~ ||A|| / kappa) or below the attainable accuracy (Epperly 2023).
        if change <= max(tol * a_norm / kappa * x_norm, floor):
            log.converge("converged (momentum disabled after divergence)" if damped
                         else "converged")
            break
        # Safeguard: a sketch that embeds worse than the momentum parameters assume
        # makes the iteration diverge; restart from the best iterate without momentum
        # and with a halved step (Richardson converges for a small enough step).
        # (Divergence shows as steps that keep growing; heavy ball's transients do not
        # double the smallest step three times in a row.)
        if r_norm < best_r:
            best_x, best_r = x, r_norm
        if change < best_change:
            best_change, growth = change, 0
        elif change > 2 * best_change:
            growth += 1
        if growth >= 3:
            alpha, beta = (1.0, 0.0) if not damped else (alpha / 2, 0.0)
            damped, growth, best_change = True, 0, np.inf
            x = x_prev = best_x
            g, r_norm = gradient(x)
            logger.info("iterative sketching: divergence detected, step set to %g", alpha)
    return _iterative_result(log, x, r_norm, "iterative_sketching", sketch_size, M)


def _finish_by_lsqr(xp, A, b, kind, sketch_size, tol, maxiter, rng, M, x, log):
    """Continue a slow iterative-sketching run by LSQR with the same preconditioner
    (whose rate adapts to the actual spectrum), from the current iterate, in the same
    iteration log (and iteration budget)."""
    steps = log.n_iter
    logger.info("iterative sketching: slow progress after %d steps, continuing by LSQR",
                steps)
    res = _sketch_and_precondition(xp, A, b, kind, sketch_size, tol, maxiter, rng, None,
                                   False, factor=(M, M.apply_inverse(x)), log=log)
    message = res.message + f" (LSQR after {steps} iterative-sketching steps)"
    return dataclasses.replace(res, method="iterative_sketching", message=message)
