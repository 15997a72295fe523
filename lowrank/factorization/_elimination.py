"""Gram-Schmidt QR (one-sided eliminations) and Cholesky (two-sided eliminations)."""

import numpy as np

from .._result import History
from ._inputs import check_options, dense_matrix, symmetric_matrix
from ._jacobi import _run_fields, complete_orthonormal
from ._pairwise import ELIMINATION, PIVOTING, run_pairwise
from ._result import CholeskyResult, QRResult

__all__ = ["elimination_cholesky", "gram_schmidt_qr"]

COLUMN_VARIANTS = ("classical", "modified", "cgs2")


def _column_by_column(A, variant):
    """Classical, modified or twice-iterated classical Gram-Schmidt, one column at a
    time: ``(Q, R)``."""
    _m, n = A.shape
    Q = np.zeros_like(A)
    R = np.zeros((n, n), dtype=A.dtype)
    for k in range(n):
        v = A[:, k].copy()
        passes = 2 if variant == "cgs2" else 1
        for _ in range(passes):
            if variant == "modified":
                for i in range(k):
                    r = Q[:, i] @ v
                    R[i, k] += r
                    v -= r * Q[:, i]
            else:
                r = Q[:, :k].T @ v
                R[:k, k] += r
                v -= Q[:, :k] @ r
        R[k, k] = np.linalg.norm(v)
        if R[k, k] > 0:
            Q[:, k] = v / R[k, k]
    return Q, R


def gram_schmidt_qr(A, *, pivoting="cyclic", tol=None, maxiter=None, rng=None,
                    callback=None, check_finite=True):
    """QR factorization by Gram-Schmidt, as pairwise eliminations or column by column.

    The pairwise form picks pairs ``i < j`` by the pivoting rule and removes from column
    ``j`` its component along column ``i`` (``a_j -= (a_i . a_j / a_i . a_i) a_i``, the
    later index always eliminated by the earlier one) until all columns are orthogonal
    to ``tol``; then ``Q`` is the normalized columns and ``R`` the accumulated unit
    upper triangular transform scaled by the column norms.  One row-cyclic sweep is
    right-looking modified Gram-Schmidt; the run sweeps again until the relative test
    holds, so it also re-orthogonalizes.

    Parameters
    ----------
    A : array_like (m, n)
        ``m >= n``.
    pivoting : {"cyclic", "random", "greedy", "classical", "modified", "cgs2"}, default "cyclic"
        The pairwise rules (``"cyclic"``, ``"random"``: uniform pairs as in
        Detherage-Shah, ``"greedy"``: the pair of largest ``|cos(a_i, a_j)|``), or the
        column-by-column variants for comparison: classical (CGS, orthogonality lost as
        ``eps cond(A)^2``), modified (MGS, as ``eps cond(A)``) and CGS2 (classical twice,
        orthogonal to ``eps``).  Cyclic is the default: random pairs converge at the
        same proven linear rate but need many sweeps where cyclic needs one or two; their
        value is the analysis, not speed.
    tol : float, optional
        Stop when every ``|a_i . a_j| <= tol ||a_i|| ||a_j||``; default ``max(m, n) eps``.
    maxiter, rng, callback, check_finite
        As in :func:`jacobi_eigh` (the column-by-column variants ignore them).

    Returns
    -------
    QRResult
        ``Q`` (``m x n``), ``R`` (``n x n``, upper triangular, nonnegative diagonal) and
        ``rank``.  A column that is exactly dependent on earlier ones becomes zero: its
        diagonal entry of ``R`` is 0 and its column of ``Q`` is completed to an
        orthonormal set (so ``Q`` always has orthonormal columns and ``A = Q R``).

    Raises
    ------
    ValueError
        ``m < n``, NaN/inf, unknown ``pivoting``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.factorization import gram_schmidt_qr
    >>> A = np.random.default_rng(0).standard_normal((5, 3))
    >>> res = gram_schmidt_qr(A)
    >>> bool(np.allclose(res.Q @ res.R, A)), bool(np.allclose(np.tril(res.R, -1), 0))
    (True, True)
    """
    X = np.asfortranarray(dense_matrix(A, check_finite))   # the kernels walk down columns
    m, n = X.shape
    if m < n:
        raise ValueError(f"`A` must have at least as many rows as columns; got shape {X.shape}.")
    pivoting, tol, sweeps, rng = check_options(pivoting, tol, maxiter, rng, X.dtype, max(m, n),
                                               options=PIVOTING + COLUMN_VARIANTS)
    if pivoting in COLUMN_VARIANTS:
        Q, R = _column_by_column(X, pivoting)
        norms = np.diag(R).copy()
        fields = dict(pivoting=pivoting, converged=True, n_iter=1, n_transforms=n * (n - 1) // 2,
                      tol=tol, history=History(), message=f"{pivoting} Gram-Schmidt")
    else:
        W = np.eye(n, dtype=X.dtype, order="F")
        run = run_pairwise(X, W, two_sided=False, kind=ELIMINATION, pivoting=pivoting,
                           tol=tol, max_sweeps=sweeps, rng=rng, callback=callback,
                           name="gram_schmidt_qr")
        norms = np.linalg.norm(X, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            Q = np.where(norms > 0, X / norms, 0.0).astype(X.dtype)
        R = (norms[:, None] * W.T).astype(X.dtype)
        fields = _run_fields(run, pivoting, tol)
    Q = complete_orthonormal(Q, norms == 0)
    return QRResult(Q=Q, R=np.triu(R), rank=int(np.sum(norms > 0)), **fields)


def elimination_cholesky(A, *, pivoting="cyclic", tol=None, maxiter=None, rng=None,
                         callback=None, check_finite=True):
    """Cholesky factorization ``A = L L^T`` by pairwise Gaussian eliminations.

    Each step picks a pair ``i < j`` and eliminates ``a_ij`` from both sides
    (column ``j -= mu column i`` and row ``j -= mu row i``, ``mu = a_ij / a_ii``) until
    ``A`` is diagonal to ``tol``; the multipliers accumulate the unit lower triangular
    factor directly.  One row-cyclic sweep is right-looking ``L D L^T``.

    Parameters
    ----------
    A : array_like (n, n)
        Symmetric positive definite.
    pivoting : {"cyclic", "random", "greedy"}, default "cyclic"
        The pair rule (see :func:`gram_schmidt_qr` for why cyclic is the default).
    tol, maxiter, rng, callback, check_finite
        As in :func:`jacobi_eigh` (default ``tol = n eps``).

    Returns
    -------
    CholeskyResult
        ``L`` (lower triangular, positive diagonal).

    Raises
    ------
    numpy.linalg.LinAlgError
        When ``A`` is not positive definite: a diagonal entry is not positive at the
        start or a pivot becomes nonpositive during the elimination (the message names
        the index).
    ValueError
        ``A`` not square or not symmetric, NaN/inf, unknown ``pivoting``.

    See Also
    --------
    rp_cholesky : with ``method="greedy"`` and ``rank=n``, the diagonally pivoted,
        rank-revealing Cholesky of a semidefinite matrix (LAPACK ``?pstrf``).

    Notes
    -----
    A positive definite ``A`` has exactly one Cholesky factor with a positive diagonal,
    so the pivoting rule (the order of the pair eliminations) changes the path, its
    rounding and its cost, never ``L``.  The pivoted Cholesky ``P^T A P = L L^T`` that
    SciPy users ask for (scipy#10832; SciPy exposes only the raw
    ``scipy.linalg.lapack.dpstrf``) permutes the *diagonal* pivots, largest residual
    first, and stops at the numerical rank of a semidefinite ``A``: that is
    ``rp_cholesky(A, n, method="greedy")``, whose ``pivots`` and ``factor`` are
    ``dpstrf``'s (``factor[pivots]`` lower triangular, ``rank`` the numerical rank).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.factorization import elimination_cholesky
    >>> A = np.array([[4.0, 2.0], [2.0, 3.0]])
    >>> elimination_cholesky(A).L
    array([[2.        , 0.        ],
           [1.        , 1.41421356]])
    """
    M = symmetric_matrix(A, check_finite)
    n = M.shape[0]
    pivoting, tol, sweeps, rng = check_options(pivoting, tol, maxiter, rng, M.dtype, n)
    bad = np.flatnonzero(np.diag(M) <= 0)
    if bad.size:
        raise np.linalg.LinAlgError(
            f"`A` is not positive definite: diagonal entry {int(bad[0])} is "
            f"{M[bad[0], bad[0]]:.6g} <= 0.")
    W = np.eye(n, dtype=M.dtype, order="F")
    run = run_pairwise(M, W, two_sided=True, kind=ELIMINATION, pivoting=pivoting, tol=tol,
                       max_sweeps=sweeps, rng=rng, callback=callback,
                       name="elimination_cholesky")
    if run.failed_pivot >= 0:
        k = run.failed_pivot
        raise np.linalg.LinAlgError(
            f"`A` is not positive definite: pivot {k} became {M[k, k]:.6g} <= 0 during "
            f"the elimination.")
    L = W * np.sqrt(np.diag(M))[None, :]
    return CholeskyResult(L=np.tril(L).astype(M.dtype), **_run_fields(run, pivoting, tol))
