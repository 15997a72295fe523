"""Statistical leverage scores: exact (thin QR) and sketched (Drineas et al. 2012)."""

import math

import numpy as np

from .._backend import from_host
from .._linalg import default_rcond, row_norms_squared, times_row_norms_squared
from .._result import Result
from .._rng import check_rng
from .._validation import check_int, check_matrix, check_option, check_real
from ..sketch import SKETCH_KINDS
from ._basis import range_basis, sketch_preconditioner

__all__ = ["LeverageScoresResult", "leverage_scores"]

_METHODS = ("exact", "sketched")
# Default sketch rows of the sketched method: max(20 d, 64 ln n) (see Notes).
_SKETCH_ROWS_PER_COLUMN = 20
_SKETCH_ROWS_PER_LOG_N = 64
# The Johnson-Lindenstrauss step is used by default only when it is at least twice as
# cheap as the exact row norms.
_JL_ROWS_PER_LOG_N = 32


class LeverageScoresResult(Result):
    """Result of :func:`leverage_scores`.

    ``numpy.asarray(result)`` gives ``scores``.

    Attributes
    ----------
    scores : array (n,)
        Leverage scores ``tau_i = a_i^T (A^T A)^+ a_i`` in ``[0, 1]`` (exact), or their
        estimates (sketched, clipped to ``[0, 1]``).
    rank : int
        Numerical rank of ``A`` used (exact: sum of the scores).
    method : str
        ``"exact"`` or ``"sketched"``.
    sketch_size : int or None
        Rows of the sketch (sketched method; ``None`` for exact).
    jl_size : int or None
        Columns of the Johnson-Lindenstrauss projection, ``None`` when not used.
    """

    scores: object
    rank: int
    method: str
    sketch_size: object = None
    jl_size: object = None

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.scores, dtype=dtype)


def leverage_scores(A, *, method="exact", sketch="sparse_sign", sketch_size=None,
                    jl_size=None, rcond=None, rng=None, check_finite=True):
    r"""Leverage scores of the rows of ``A``.

    ``tau_i = a_i^T (A^T A)^+ a_i = ||U_{i,:}||^2`` for an orthonormal basis ``U`` of
    ``range(A)``.  They lie in ``[0, 1]``, sum to ``rank(A)`` and do not change when
    ``A`` is multiplied on the right by an invertible matrix.

    Parameters
    ----------
    A : array_like (n, d), SciPy sparse matrix or array-API array
        The data matrix; any shape (wide ``A`` of full row rank has all scores 1).
    method : {"exact", "sketched"}
        ``"exact"``: dense ``A`` by a thin Householder QR, ``A = QR``; the SVD of the
        small ``R`` gives the numerical rank ``r`` and, when ``A`` is rank deficient, the
        rotation that isolates ``range(A)``.  Sparse ``A`` is never densified: a sparse
        sign sketch gives ``R_s`` with ``A R_s^-1`` well conditioned, and a Cholesky QR of
        that ``n x d`` matrix (repeated while its factor is not near ``I``) gives the
        orthonormal basis.  Both are exact to rounding; the sparse path is randomized only
        in its speed, with a fixed internal seed.
        ``"sketched"``: Drineas, Magdon-Ismail, Mahoney and Woodruff (2012): ``R`` from the
        QR of a sketch ``S A`` (``sketch_size`` rows), then
        ``tau_i ~ ||a_i^T R^-1 G||^2`` with ``G`` a ``d x jl_size`` Gaussian
        Johnson-Lindenstrauss matrix (or ``||a_i^T R^-1||^2`` without one).  The
        estimates are rescaled to sum to the sketch's rank and clipped to ``[0, 1]``.
    sketch : str
        Sketch family for ``method="sketched"`` (see :func:`lowrank.sketch.make_sketch`);
        sparse sign with 8 nonzeros per column by default.
    sketch_size : int, optional
        Sketch rows, ``min(n, d) <= sketch_size <= n``; default
        ``min(n, max(20 d, 64 ln n))``.  When it equals ``n`` the exact method runs
        instead (``method`` of the result says so).
    jl_size : int, optional
        Columns of the Johnson-Lindenstrauss projection.  Default: ``32 ceil(ln n)``
        when that is at most ``d / 2`` (the projection then saves at least half of the
        ``O(n d^2)`` product), otherwise no projection.  ``0`` disables it.
    rcond : float, optional
        Singular values below ``rcond * s_max`` count as zero; default
        ``max(n, d) * eps``.
    rng : None, int, numpy.random.Generator, ...
        Seeds the sketches of ``method="sketched"``.
    check_finite : bool
        Reject NaN and inf in ``A`` (before any work).

    Returns
    -------
    LeverageScoresResult
        ``scores`` (dtype of ``A``), ``rank``, ``method``, ``sketch_size``, ``jl_size``.

    Notes
    -----
    **Cost.** Exact: ``4 n d^2`` flops of Householder QR (``O(nnz(A) d + n d^2)`` for
    sparse input).  Sketched: one sparse sketch (``O(nnz(A))``), a QR of
    ``sketch_size x d`` and one product ``A R^-1`` (``n d^2`` flops, or ``2 n d jl_size``
    with the projection).

    **Accuracy of the sketched scores.** Each estimate is a quadratic form
    ``u_i^T M^-1 u_i`` with ``M = U^T S^T S U``; its relative error is about
    ``sqrt(2 / sketch_size)`` per row (so about ``2 sqrt(ln n / sketch_size)`` for the
    worst of ``n`` rows, hence the ``64 ln n`` floor), plus the bias
    ``d / sketch_size`` that the rescaling to ``sum = rank`` removes.  Measured maximum
    relative error over all rows of ``2^18 x 128`` matrices at the default ``20 d``
    rows: 0.15 (Gaussian rows) and 0.19 (Student-t(1) rows, leverage up to 0.9998).
    The projection adds a relative error of about ``sqrt(8 ln(2n) / jl_size)`` for the
    worst row (union bound): constant-factor estimates, enough for sampling with
    oversampling.

    **Backend support.** NumPy, SciPy sparse, CuPy (``cupyx`` sparse for the sketched
    method) and other array-API arrays; the scores come back in the input's namespace.

    References
    ----------
    P. Drineas, M. Magdon-Ismail, M. W. Mahoney, D. P. Woodruff, "Fast approximation of
    matrix coherence and statistical leverage", JMLR 13 (2012).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sampling import leverage_scores
    >>> A = np.random.default_rng(0).standard_normal((1000, 5))
    >>> A[0] *= 100                     # one dominant row
    >>> res = leverage_scores(A)
    >>> res.rank, round(float(res.scores.sum()), 10), bool(res.scores[0] > 0.8)
    (5, 5.0, True)
    >>> approx = leverage_scores(A, method="sketched", rng=0)
    >>> bool(np.max(np.abs(approx.scores / res.scores - 1)) < 0.5)
    True
    """
    method = check_option(method, "method", _METHODS)
    sketch = check_option(sketch, "sketch", SKETCH_KINDS)
    A, xp = check_matrix(A, "A", check_finite=check_finite)
    n, d = A.shape
    if sketch_size is not None:
        sketch_size = check_int(sketch_size, "sketch_size", low=min(n, d), high=n)
    if jl_size is not None:
        jl_size = check_int(jl_size, "jl_size", low=0)
    rcond = default_rcond(A.shape, A.dtype) if rcond is None else check_real(
        rcond, "rcond", low=0.0, high=1.0, high_open=True)
    rng = check_rng(rng)
    m = sketch_size if sketch_size is not None else min(n, max(
        _SKETCH_ROWS_PER_COLUMN * d, math.ceil(_SKETCH_ROWS_PER_LOG_N * math.log(max(n, 2)))))
    if method == "exact" or m >= n:  # a sketch as tall as A saves nothing: be exact
        scores, rank = _exact(xp, A, rcond)
        return LeverageScoresResult(scores=scores, rank=rank, method="exact")
    return _sketched(xp, A, sketch, m, jl_size, rcond, rng)


def _exact(xp, A, rcond):
    """``(scores, rank)`` from an orthonormal basis of ``range(A)``."""
    U, rank = range_basis(xp, A, rcond)
    if rank == 0:
        return xp.zeros(A.shape[0], dtype=A.dtype), 0
    return xp.clip(row_norms_squared(xp, U), 0.0, 1.0), rank


def _sketched(xp, A, kind, m, jl_size, rcond, rng):
    n = A.shape[0]
    sketch_rng, jl_rng = rng.spawn(2)
    X, rank, upper = sketch_preconditioner(xp, A, rcond, sketch_rng, sketch_size=m,
                                           kind=kind)
    if rank == 0:
        return LeverageScoresResult(scores=xp.zeros(n, dtype=A.dtype), rank=0,
                                    method="sketched", sketch_size=m, jl_size=None)
    if jl_size is None:
        jl_size = _JL_ROWS_PER_LOG_N * math.ceil(math.log(max(n, 2)))
        jl_size = jl_size if jl_size <= X.shape[1] // 2 else 0
    if jl_size > 0:
        G = jl_rng.standard_normal((X.shape[1], jl_size)) / math.sqrt(jl_size)
        X, upper = X @ from_host(xp, G, X, dtype=X.dtype), False
    scores = times_row_norms_squared(xp, A, X, upper=upper)
    total = float(xp.sum(scores))
    if total > 0:
        scores = scores * (rank / total)
    scores = xp.clip(scores, 0.0, 1.0)
    return LeverageScoresResult(scores=xp.astype(scores, A.dtype), rank=rank,
                                method="sketched", sketch_size=m,
                                jl_size=jl_size if jl_size > 0 else None)
