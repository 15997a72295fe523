"""Result objects of the pairwise factorizations."""

from .._result import History, Result

__all__ = ["CholeskyResult", "EighResult", "PairwiseResult", "QRResult", "SVDResult"]


class PairwiseResult(Result):
    """Fields every pairwise factorization reports.

    Attributes
    ----------
    pivoting : str
        The pair rule used.
    converged : bool
        Whether every scaled off-diagonal Gram entry
        ``|g_ij| / sqrt(|g_ii g_jj|)`` reached ``tol``.
    n_iter : int
        Sweeps run (``n (n - 1) / 2`` steps each).
    n_transforms : int
        2 x 2 transforms applied (pairs already below ``tol`` are skipped).
    tol : float
        The stopping tolerance used.
    history : History
        Per sweep: ``off_diagonal`` (the off-diagonal Frobenius norm of the Gram matrix,
        relative to the input's), ``max_scaled`` (the largest scaled off-diagonal entry),
        ``transforms`` (cumulative) and ``time``.
    message : str
        How the run ended.
    """

    pivoting: str
    converged: bool
    n_iter: int
    n_transforms: int
    tol: float
    history: History
    message: str


class EighResult(PairwiseResult):
    """:func:`jacobi_eigh`: ``A = eigenvectors @ diag(eigenvalues) @ eigenvectors.T``.

    Attributes
    ----------
    eigenvalues : ndarray (n,)
        In ascending order (as :func:`scipy.linalg.eigh`).
    eigenvectors : ndarray (n, n)
        Orthonormal columns, in the order of the eigenvalues.
    """

    eigenvalues: object
    eigenvectors: object


class SVDResult(PairwiseResult):
    """:func:`jacobi_svd`: ``A = U @ diag(s) @ Vt``.

    Attributes
    ----------
    U : ndarray (m, k)
        Orthonormal columns, ``k = min(m, n)``.
    s : ndarray (k,)
        Singular values in descending order.
    Vt : ndarray (k, n)
        Orthonormal rows.
    """

    U: object
    s: object
    Vt: object


class QRResult(PairwiseResult):
    """:func:`gram_schmidt_qr`: ``A = Q @ R``.

    Attributes
    ----------
    Q : ndarray (m, n)
        Orthonormal columns.
    R : ndarray (n, n)
        Upper triangular with a nonnegative diagonal.
    rank : int
        The number of nonzero diagonal entries of ``R``.
    """

    Q: object
    R: object
    rank: int


class CholeskyResult(PairwiseResult):
    """:func:`elimination_cholesky`: ``A = L @ L.T``.

    Attributes
    ----------
    L : ndarray (n, n)
        Lower triangular with a positive diagonal.
    """

    L: object
