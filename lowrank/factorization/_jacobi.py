"""Jacobi eigendecomposition (two-sided rotations) and one-sided Jacobi SVD."""

import numpy as np

from .._backend import device_of, from_host, is_numpy_namespace
from ._batched import run_batched
from ._inputs import check_options, matrix_stack
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
    A : array_like (n, n) or (batch, n, n)
        Symmetric (checked to ``sqrt(eps)`` relative, then symmetrized), or a stack of
        symmetric matrices (see Notes).
    pivoting : {"random", "cyclic", "greedy"}, default "random"
        ``"random"``: pairs drawn uniformly and independently (Detherage-Shah; the
        off-diagonal mass then contracts by ``1 - 2/(n(n-1))`` per step in
        expectation); ``"cyclic"``: row-cyclic sweeps; ``"greedy"``: the pair of largest
        ``|a_ij| / sqrt(|a_ii a_jj|)`` (one NumPy matrix only).
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
        ``eigenvalues`` (ascending; ``(batch, n)`` for a stack), ``eigenvectors``, and
        the run's ``history``.

    Raises
    ------
    ValueError
        ``A`` not square or not symmetric, NaN/inf, unknown ``pivoting``, ``"greedy"``
        for a stack or a non-NumPy array.

    Warns
    -----
    ConvergenceWarning
        When ``maxiter`` sweeps end before the tolerance is met.

    Notes
    -----
    Cost: about ``8 n`` flops per rotation plus ``4 n`` for the eigenvectors; random
    pivoting takes about twice the rotations of cyclic sweeps.

    **Backend support.** One NumPy matrix runs the sequential engine (Numba, one pair
    at a time).  A stack ``(batch, n, n)``, or an array of another namespace (CuPy,
    any array API namespace; arrays of that namespace come back), runs in *rounds*:
    each round rotates ``n // 2`` disjoint pairs of every matrix at once with array
    operations (a uniformly random perfect matching for ``"random"``, drawn on the host
    from ``rng``; the round-robin tournament for ``"cyclic"``).  Disjoint rotations
    commute, so a round equals those steps done one by one; drawing a matching rather
    than one pair at a time is our parallel form of the random rule, not the paper's.
    A sweep is ``n - 1`` rounds (``n`` if ``n`` is odd); ``n_transforms`` and
    ``history`` then count over the whole stack, and ``converged`` holds when every
    matrix has converged.  This is the path for many small matrices on a GPU; on CuPy
    it is a checked alternative to ``cupy.linalg.eigh``'s batched Jacobi (whose results
    were wrong in cupy#4847: the input's diagonal came back as the eigenvalues).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.factorization import jacobi_eigh
    >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> res = jacobi_eigh(A, rng=0)
    >>> res.eigenvalues
    array([1., 3.])
    >>> jacobi_eigh(np.stack([A, 2 * A]), pivoting="cyclic").eigenvalues  # a stack
    array([[1., 3.],
           [2., 6.]])
    """
    M, xp, single = matrix_stack(A, check_finite, symmetric=True)
    n = M.shape[-1]
    pivoting, tol, sweeps, rng = check_options(pivoting, tol, maxiter, rng, M.dtype, n)
    if not (single and is_numpy_namespace(xp)):
        return _stacked_eigh(M, xp, single, pivoting, tol, sweeps, rng, callback)
    M = np.ascontiguousarray(M[0])
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
    A : array_like (m, n) or (batch, m, n)
        Any real matrix (a wide one is factored through its transpose), or a stack.
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
        ``U`` (``m x k``), ``s`` (descending), ``Vt`` (``k x n``) with ``k = min(m, n)``
        (with a leading ``batch`` axis for a stack).

    Notes
    -----
    **Backend support.** As :func:`jacobi_eigh`: one NumPy matrix runs the sequential
    Numba engine, a stack or an array of another namespace (CuPy, array API) runs in
    rounds of disjoint column pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.factorization import jacobi_svd
    >>> A = np.random.default_rng(0).standard_normal((6, 4))
    >>> res = jacobi_svd(A, rng=0)
    >>> bool(np.allclose(res.s, np.linalg.svd(A, compute_uv=False)))
    True
    """
    X, xp, single = matrix_stack(A, check_finite, symmetric=False)
    pivoting, tol, sweeps, rng = check_options(pivoting, tol, maxiter, rng, X.dtype,
                                               max(X.shape[1:]))
    if not (single and is_numpy_namespace(xp)):
        return _stacked_svd(X, xp, single, pivoting, tol, sweeps, rng, callback)
    X = X[0]
    wide = X.shape[0] < X.shape[1]
    X = np.array(X.T if wide else X, order="F")     # the kernels walk down columns
    W = np.eye(X.shape[1], dtype=X.dtype, order="F")
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


def _stacked_eigh(M, xp, single, pivoting, tol, sweeps, rng, callback):
    """:func:`jacobi_eigh` of a stack (or of an array of another namespace)."""
    _check_stacked_pivoting(pivoting)
    W = _identities(xp, M, M.shape[-1])
    M, W, run = run_batched(M, W, xp, two_sided=True, pivoting=pivoting, tol=tol,
                            max_sweeps=sweeps, rng=rng, callback=callback,
                            name="jacobi_eigh")
    index = from_host(xp, np.arange(M.shape[-1], dtype=np.int64), M)
    n = M.shape[-1]
    values = xp.take(xp.reshape(M, (M.shape[0], n * n)), index * (n + 1), axis=1)
    order = _order(xp, values, descending=False)
    values, vectors = _permuted(xp, values, order), xp.matmul(W, order)
    if single:
        values, vectors = values[0, ...], vectors[0, ...]
    return EighResult(eigenvalues=values, eigenvectors=vectors,
                      **_run_fields(run, pivoting, tol))


def _stacked_svd(X, xp, single, pivoting, tol, sweeps, rng, callback):
    """:func:`jacobi_svd` of a stack (or of an array of another namespace)."""
    _check_stacked_pivoting(pivoting)
    wide = X.shape[1] < X.shape[2]
    if wide:
        X = xp.matrix_transpose(X)
    W = _identities(xp, X, X.shape[-1])
    X, W, run = run_batched(X, W, xp, two_sided=False, pivoting=pivoting, tol=tol,
                            max_sweeps=sweeps, rng=rng, callback=callback,
                            name="jacobi_svd")
    s = xp.sqrt(xp.sum(X * X, axis=1))
    order = _order(xp, s, descending=True)
    s, X, W = _permuted(xp, s, order), xp.matmul(X, order), xp.matmul(W, order)
    positive = s > 0
    U = X / xp.where(positive, s, xp.ones_like(s))[:, None, :]
    U = _complete_stacked(xp, U, ~positive)
    U, Vt = (W, xp.matrix_transpose(U)) if wide else (U, xp.matrix_transpose(W))
    if single:
        U, s, Vt = U[0, ...], s[0, ...], Vt[0, ...]
    return SVDResult(U=U, s=s, Vt=Vt, **_run_fields(run, pivoting, tol))


def _check_stacked_pivoting(pivoting):
    if pivoting == "greedy":
        raise ValueError("pivoting='greedy' needs the sequential engine: pass one 2-D "
                         "NumPy matrix, or use 'random' or 'cyclic' for stacks and "
                         "other array namespaces.")


def _identities(xp, like, n):
    eye = xp.eye(n, dtype=like.dtype, device=device_of(like))
    return xp.zeros((like.shape[0], n, n), dtype=like.dtype, device=device_of(like)) + eye


def _order(xp, values, *, descending):
    """The permutation matrices ``P`` (``(batch, n, n)``, ``P[b, k, j] = 1`` where
    ``order[b, j] = k``) that sort each row of ``values``: ``X @ P`` reorders columns."""
    order = xp.argsort(values, axis=1, descending=descending, stable=True)
    index = from_host(xp, np.arange(values.shape[1], dtype=np.int64), values)
    return xp.astype(order[:, None, :] == index[None, :, None], values.dtype)


def _permuted(xp, values, order):
    """Each row of ``values`` reordered by the permutation matrices ``order`` (exact:
    one term of each sum is nonzero)."""
    return xp.sum(values[:, :, None] * order, axis=1)


def _complete_stacked(xp, U, missing):
    """``U`` with the columns flagged ``missing`` (the zero singular values, last after
    sorting) replaced by orthonormal vectors orthogonal to the others: Householder QR
    of ``U`` with those columns set to coordinate vectors."""
    if not bool(xp.any(missing)):
        return U
    m, n = U.shape[1:]
    coordinates = xp.eye(m, n, dtype=U.dtype, device=device_of(U))
    Q, R = xp.linalg.qr(xp.where(missing[:, None, :], coordinates, U))
    index = from_host(xp, np.arange(n, dtype=np.int64), U)
    diagonal = xp.take(xp.reshape(R, (R.shape[0], n * n)), index * (n + 1), axis=1)
    signs = xp.where(diagonal < 0, -xp.ones_like(diagonal), xp.ones_like(diagonal))
    return xp.where(missing[:, None, :], Q * signs[:, None, :], U)
