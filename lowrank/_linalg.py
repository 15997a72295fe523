"""Dense linear-algebra helpers shared by several families (private).

Written once against the array namespace ``xp``, with the faster LAPACK/BLAS route on
the host: numerical rank, triangular solves and inverses, Cholesky and Householder
factors, orthonormal bases of a column space and row norms of products.  Leverage
scores, Lewis weights, sensitivities and least squares all read their answers from
such bases (they are invariant under ``A -> A T`` for invertible ``T``).
"""

import numpy as np
import scipy.linalg
from scipy.linalg import blas

from . import _kernels
from ._backend import host_dtype, is_cupy_namespace, is_numpy_namespace, is_sparse

__all__ = [
    "cholesky_upper",
    "default_rcond",
    "householder_basis",
    "numerical_rank",
    "orthonormalize",
    "qr_r",
    "right_solve_upper",
    "row_norms_squared",
    "times_row_norms_squared",
    "triangular_inverse",
    "triangular_solve",
]

# Rows of A per block when a product A @ X is reduced to row norms without storing it.
_BLOCK_ROWS = 8192
# Up to this order the host Cholesky runs in a Numba kernel (no BLAS threads to wake).
_SMALL_CHOLESKY = 512
# Orthogonality reached by one Cholesky QR pass when cond(C) <= this (error about
# cond(C)^2 eps), and the passes orthonormalize() makes before giving up.
_ONE_PASS_COND = 1e3
_MAX_PASSES = 3


def default_rcond(shape, dtype) -> float:
    """``max(n, d) * eps``: singular values below ``rcond * s_max`` count as zero."""
    return max(shape) * float(np.finfo(host_dtype(dtype)).eps)


def numerical_rank(xp, s, rcond) -> int:
    """Number of singular values ``s`` (descending) above ``rcond * s[0]`` (0 for an
    empty or zero ``s``)."""
    if s.shape[0] == 0 or not float(s[0]) > 0.0:
        return 0
    return int(xp.sum(xp.astype(s > s[0] * rcond, xp.int32)))


def row_norms_squared(xp, B):
    """``sum(B**2, axis=1)`` for a dense ``B``."""
    if is_numpy_namespace(xp) and isinstance(B, np.ndarray):
        return np.einsum("ij,ij->i", B, B)
    return xp.sum(B * B, axis=1)


def triangular_solve(xp, R, B, *, trans: bool = False):
    """Solve ``R X = B`` (or ``R^T X = B`` when ``trans``) for upper-triangular ``R``."""
    if is_numpy_namespace(xp):
        return scipy.linalg.solve_triangular(
            R, B, lower=False, trans=1 if trans else 0, check_finite=False
        )
    if is_cupy_namespace(xp):
        import cupyx.scipy.linalg  # optional dependency, present with CuPy

        return cupyx.scipy.linalg.solve_triangular(R, B, lower=False, trans=1 if trans else 0)
    M = xp.matrix_transpose(R) if trans else R
    if B.ndim == 1:
        return xp.linalg.solve(M, B[:, None])[:, 0]
    return xp.linalg.solve(M, B)


def triangular_inverse(xp, R):
    """The inverse of an upper-triangular ``R`` (LAPACK ``trtri`` on the host)."""
    if not is_numpy_namespace(xp):
        return triangular_solve(xp, R, xp.eye(R.shape[0], dtype=R.dtype))
    trtri = scipy.linalg.lapack.dtrtri if R.dtype == np.float64 else scipy.linalg.lapack.strtri
    inv, info = trtri(R, lower=0)
    if info != 0:  # exactly singular diagonal: let the solver report it as inf/nan
        return scipy.linalg.solve_triangular(R, np.eye(R.shape[0], dtype=R.dtype),
                                             check_finite=False)
    return np.triu(inv)


def _trmm(dtype):
    return blas.dtrmm if dtype == np.float64 else blas.strmm


def right_solve_upper(xp, V, C, *, overwrite=False):
    """``V @ C^-1`` for upper-triangular ``C`` (NumPy: ``trmm`` with the inverse, in place
    of ``V`` when ``overwrite``)."""
    if is_numpy_namespace(xp):
        # V C^-1 as (C^-T V^T)^T: the transpose of a C-ordered V is Fortran-ordered.
        return _trmm(V.dtype)(1.0, triangular_inverse(xp, C), V.T, side=0, lower=0,
                              trans_a=1, overwrite_b=1 if overwrite else 0).T
    return xp.matrix_transpose(triangular_solve(xp, C, xp.matrix_transpose(V), trans=True))


def cholesky_upper(xp, G):
    """Upper Cholesky factor of a symmetric positive definite ``G``; ``None`` on breakdown."""
    try:
        if is_numpy_namespace(xp) and G.shape[0] <= _SMALL_CHOLESKY:
            R, ok = _kernels.load("linalg").cholesky_upper(np.ascontiguousarray(G))
            return R if ok else None
        if is_numpy_namespace(xp):
            R = scipy.linalg.cholesky(G, lower=False, check_finite=False)
        else:
            R = xp.matrix_transpose(xp.linalg.cholesky(G))
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return None
    except Exception as exc:  # CuPy raises its own LinAlgError type
        if "LinAlgError" in type(exc).__name__:
            return None
        raise
    if not bool(xp.all(xp.isfinite(R))):
        return None
    return R


def qr_r(xp, A):
    """The d x d ``R`` factor of the Householder QR of a tall ``A`` (no ``Q`` formed)."""
    if is_numpy_namespace(xp):
        return scipy.linalg.qr(A, mode="r", check_finite=False)[0][: A.shape[1]]
    return xp.linalg.qr(A, mode="reduced")[1]


def householder_basis(xp, A, rcond):
    """Orthonormal basis ``U`` (n x r) of ``range(A)`` and the rank ``r`` (dense A).

    Thin Householder QR ``A = Q R``, then the SVD of the small ``R`` decides the rank;
    ``U = Q`` when ``A`` has full column rank, else ``Q @ U_R[:, :r]``.
    """
    if is_numpy_namespace(xp):
        Q, R = scipy.linalg.qr(A, mode="economic", check_finite=False)
    else:
        Q, R = xp.linalg.qr(A, mode="reduced")
    U_R, s, _ = xp.linalg.svd(R, full_matrices=False)
    rank = numerical_rank(xp, s, rcond)
    if rank == Q.shape[1]:
        return Q, rank
    return Q @ U_R[:, :rank], rank


def orthonormalize(xp, V):
    """Cholesky QR of a well-conditioned ``V``, repeated while its factor is far from
    ``I`` (at most three passes).

    Returns ``Q`` with orthonormal columns spanning ``range(V)``, or ``None`` when the
    Cholesky factorization breaks down (``V`` numerically rank deficient) or three passes
    do not reach a factor with ``cond <= 1e3`` (which certifies orthogonality to about
    ``1e6 eps``): the caller then falls back to a Householder QR.
    """
    for _ in range(_MAX_PASSES):
        C = cholesky_upper(xp, xp.matrix_transpose(V) @ V)
        if C is None:
            return None
        V = right_solve_upper(xp, V, C)
        s = xp.linalg.svdvals(C)
        if float(s[0]) <= _ONE_PASS_COND * float(s[-1]):
            return V
    return None


def times_row_norms_squared(xp, A, X, *, upper=False):
    """Row norms squared of ``A @ X``, block by block (the product is never stored).

    ``upper=True`` declares ``X`` upper triangular: dense NumPy blocks then use the
    triangular product (BLAS ``trmm``, half the flops of a general product).
    """
    n = A.shape[0]
    if not is_numpy_namespace(xp):
        return row_norms_squared(xp, A @ X)
    if is_sparse(A):
        A = A.tocsr()
    out = np.empty(n, dtype=np.result_type(A.dtype, X.dtype))
    X = np.asarray(X, dtype=out.dtype)
    trmm = _trmm(out.dtype) if upper and not is_sparse(A) else None
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(n, start + _BLOCK_ROWS)
        if trmm is not None:
            # (A_b X)^T = X^T A_b^T, and the transpose of C-ordered rows is Fortran-ordered
            Bt = trmm(1.0, X, np.asarray(A[start:stop], dtype=out.dtype).T, side=0,
                      lower=0, trans_a=1)
            out[start:stop] = np.einsum("ij,ij->j", Bt, Bt)
        else:
            out[start:stop] = row_norms_squared(xp, np.asarray(A[start:stop] @ X))
    return out
