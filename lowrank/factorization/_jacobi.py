"""Jacobi eigendecomposition (two-sided rotations) and one-sided Jacobi SVD."""

import numpy as np

from ._inputs import check_options, dense_matrix, symmetric_matrix
from ._pairwise import ROTATION, run_pairwise
from ._result import EighResult, SVDResult

__all__ = ["complete_orthonormal", "jacobi_eigh", "jacobi_svd"]


def complete_orthonormal(Q, missing):
    """``Q`` with the columns flagged ``missing`` replaced by an orthonormal basis of the
    complement of the others (deterministic: Householder QR of the kept columns)."""
    if not np.any(missing):
        return Q
    kept = Q[:, ~missing]
    full = np.linalg.qr(np.concatenate([kept, np.eye(Q.shape[0], dtype=Q.dtype)], axis=1))[0]
    Q = Q.copy()
    Q[:, missing] = full[:, kept.shape[1]:kept.shape[1] + int(np.sum(missing))]
    return Q


def jacobi_eigh(A, *, pivoting="random", tol=None, maxiter=None, rng=None, callback=None,
                check_finite=True):
    """Eigendecomposition of a symmetric matrix by Jacobi rotations.

    Each step picks a pair ``i < j`` by the pivoting rule and applies the rotation that
    zeroes ``a_ij`` on both sides (``A <- J^T A J``), accumulating the eigenvectors.  The
    run stops when every ``|a_ij| <= tol * sqrt(|a_ii a_jj|)``: this relative test is
    what lets positive definite matrices with graded scales get their small eigenvalues
    to high *relative* accuracy (Demmel-Veselic), which LAPACK's tridiagonal drivers do
    not promise.

    Parameters
    ----------
    A : array_like (n, n)
        Symmetric (checked to ``sqrt(eps)`` relative, then symmetrized).
    pivoting : {"random", "cyclic", "greedy"}, default "random"
        ``"random"``: pairs drawn uniformly and independently (Detherage-Shah; the
        off-diagonal mass then contracts by ``1 - 2/(n(n-1))`` per step in
        expectation); ``"cyclic"``: row-cyclic sweeps; ``"greedy"``: the pair of largest
        ``|a_ij| / sqrt(|a_ii a_jj|)``.
    tol : float, optional
        Relative stopping tolerance; default ``n * eps``.
    maxiter : int, optional
        Sweeps (``n (n - 1) / 2`` steps each) at most; default 100.
    rng : None, int, array_like or numpy.random.Generator
        Seeds the random pairs (same ``rng``, same result).
    callback : callable, optional
        ``callback(sweep, max_scaled)`` after each sweep; return True to stop.
    check_finite : bool, default True
        Reject NaN and inf.

    Returns
    -------
    EighResult
        ``eigenvalues`` (ascending), ``eigenvectors``, and the run's ``history``.

    Raises
    ------
    ValueError
        ``A`` not square or not symmetric, NaN/inf, unknown ``pivoting``.

    Warns
    -----
    ConvergenceWarning
        When ``maxiter`` sweeps end before the tolerance is met.

    Notes
    -----
    Cost: about ``8 n`` flops per rotation plus ``4 n`` for the eigenvectors; random
    pivoting takes about twice the rotations of cyclic sweeps.  Runs on the CPU (Numba).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.factorization import jacobi_eigh
    >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> res = jacobi_eigh(A, rng=0)
    >>> res.eigenvalues
    array([1., 3.])
    """
    M = symmetric_matrix(A, check_finite)
    n = M.shape[0]
    pivoting, tol, sweeps, rng = check_options(pivoting, tol, maxiter, rng, M.dtype, n)
    W = np.eye(n, dtype=M.dtype, order="F")
    run = run_pairwise(M, W, two_sided=True, kind=ROTATION, pivoting=pivoting, tol=tol,
                       max_sweeps=sweeps, rng=rng, callback=callback, name="jacobi_eigh")
    values = np.diag(M).copy()
    order = np.argsort(values, kind="stable")
    return EighResult(eigenvalues=values[order], eigenvectors=W[:, order],
                      **_run_fields(run, pivoting, tol))


def jacobi_svd(A, *, pivoting="random", tol=None, maxiter=None, rng=None, callback=None,
               check_finite=True):
    """Singular value decomposition by one-sided (Hestenes) Jacobi rotations.

    Each step rotates a pair of columns of ``A`` so that they become orthogonal (the
    two-sided Jacobi step on the implicit Gram matrix ``A^T A``, whose entries are
    computed from the current columns, never formed).  At convergence the columns are
    ``U diag(s)`` and the accumulated rotations are ``V``.  With the relative stopping
    test, singular values of column-graded matrices come out to high relative accuracy.

    Parameters
    ----------
    A : array_like (m, n)
        Any real matrix (a wide one is factored through its transpose).
    pivoting : {"random", "cyclic", "greedy"}, default "random"
        As in :func:`jacobi_eigh`, on the pairs of columns.
    tol : float, optional
        Stop when every ``|a_i . a_j| <= tol ||a_i|| ||a_j||``; default
        ``max(m, n) * eps`` (the rounding level of a dot product of length ``m``).
    maxiter, rng, callback, check_finite
        As in :func:`jacobi_eigh`.

    Returns
    -------
    SVDResult
        ``U`` (``m x k``), ``s`` (descending), ``Vt`` (``k x n``) with ``k = min(m, n)``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.factorization import jacobi_svd
    >>> A = np.random.default_rng(0).standard_normal((6, 4))
    >>> res = jacobi_svd(A, rng=0)
    >>> bool(np.allclose(res.s, np.linalg.svd(A, compute_uv=False)))
    True
    """
    X = dense_matrix(A, check_finite)
    wide = X.shape[0] < X.shape[1]
    X = np.asfortranarray(X.T if wide else X)      # the kernels walk down columns
    m, n = X.shape
    pivoting, tol, sweeps, rng = check_options(pivoting, tol, maxiter, rng, X.dtype, max(m, n))
    W = np.eye(n, dtype=X.dtype, order="F")
    run = run_pairwise(X, W, two_sided=False, kind=ROTATION, pivoting=pivoting, tol=tol,
                       max_sweeps=sweeps, rng=rng, callback=callback, name="jacobi_svd")
    s = np.linalg.norm(X, axis=0)
    order = np.argsort(-s, kind="stable")
    s, X, W = s[order], X[:, order], W[:, order]
    with np.errstate(divide="ignore", invalid="ignore"):
        U = np.where(s > 0, X / s, 0.0).astype(X.dtype)
    U = complete_orthonormal(U, s == 0)
    fields = _run_fields(run, pivoting, tol)
    if wide:
        return SVDResult(U=W, s=s, Vt=U.T, **fields)
    return SVDResult(U=U, s=s, Vt=W.T, **fields)


def _run_fields(run, pivoting, tol):
    return dict(pivoting=pivoting, converged=run.log.converged, n_iter=run.sweeps,
                n_transforms=run.transforms, tol=tol, history=run.log.history(),
                message=run.log.message)
