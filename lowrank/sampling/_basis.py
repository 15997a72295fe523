"""Well-conditioned bases of a column space and row norms of products (private).

Leverage scores, Lewis weights and sensitivities are all invariant under ``A -> A T``
for invertible ``T``, so each family first replaces ``A`` by ``A X``, a basis of
``range(A)`` that is orthonormal (Householder QR) or nearly so (a sketch's ``R^-1``),
and reads everything from row norms of such products.
"""

import numpy as np
import scipy.linalg

from .._backend import cholesky_upper, host_dtype, is_numpy_namespace, is_sparse, qr_r
from ..sketch import make_sketch

__all__ = [
    "default_rcond",
    "householder_basis",
    "orthonormalize",
    "right_solve_upper",
    "row_norms_squared",
    "sketch_preconditioner",
    "times_row_norms_squared",
    "upper_inverse",
]

# Rows of A per block when a product A @ X is reduced to row norms without storing it.
_BLOCK_ROWS = 8192
# Nonzeros per column of the sparse sign sketches used here (8 keeps coherent inputs
# as accurate as SRHT in our measurements; 4 lost up to 0.1 in max relative error).
_NNZ = 8


def default_rcond(shape, dtype) -> float:
    """``max(n, d) * eps``: singular values below ``rcond * s_max`` count as zero."""
    return max(shape) * float(np.finfo(host_dtype(dtype)).eps)


def row_norms_squared(xp, B):
    """``sum(B**2, axis=1)`` for a dense ``B``."""
    if is_numpy_namespace(xp) and isinstance(B, np.ndarray):
        return np.einsum("ij,ij->i", B, B)
    return xp.sum(B * B, axis=1)


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
    rank = _numerical_rank(xp, s, rcond)
    if rank == Q.shape[1]:
        return Q, rank
    return Q @ U_R[:, :rank], rank


def _numerical_rank(xp, s, rcond) -> int:
    if float(s[0]) == 0.0:
        return 0
    return int(xp.sum(xp.astype(s > s[0] * rcond, xp.int32)))


def sketch_preconditioner(xp, A, rcond, rng, *, sketch_size=None, kind="sparse_sign"):
    """``(X, rank, triangular)`` with ``A @ X`` a well-conditioned basis of ``range(A)``.

    Sketch ``A`` (``sketch_size`` rows, default ``min(n, 4 d)``), then: if the sketch has
    full numerical rank, ``X = R^-1`` from its Householder QR (``triangular=True``); else
    ``X = V_r / s_r`` from the SVD of ``R`` (rank ``r``).  With the sketch an embedding,
    ``cond(A X)`` is a small constant whatever ``cond(A)`` is.
    """
    n, d = A.shape
    m = min(n, max(4 * d, d + 8)) if sketch_size is None else sketch_size
    options = {"nnz_per_column": min(_NNZ, m)} if kind == "sparse_sign" else {}
    S = make_sketch(kind, m, n, rng=rng, **options)
    R = qr_r(xp, S @ A)
    _, s, Vt = xp.linalg.svd(R, full_matrices=False)
    rank = _numerical_rank(xp, s, rcond)
    if rank == 0:
        return None, 0, False
    if rank == d and R.shape[0] == d:
        eye = xp.eye(d, dtype=R.dtype)
        return _triangular_inverse(xp, R, eye), d, True
    return xp.matrix_transpose(Vt[:rank, :]) / s[:rank], rank, False


def _triangular_inverse(xp, R, eye):
    if is_numpy_namespace(xp):
        return upper_inverse(R)
    from .._backend import triangular_solve

    return triangular_solve(xp, R, eye)


def upper_inverse(R):
    """The inverse of an upper-triangular NumPy ``R`` (LAPACK ``trtri``)."""
    trtri = scipy.linalg.lapack.dtrtri if R.dtype == np.float64 else scipy.linalg.lapack.strtri
    inv, info = trtri(R, lower=0)
    if info != 0:  # exactly singular diagonal: let the solver report it as inf/nan
        return scipy.linalg.solve_triangular(R, np.eye(R.shape[0], dtype=R.dtype),
                                             check_finite=False)
    return np.triu(inv)


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


def _trmm(dtype):
    from scipy.linalg import blas

    return blas.dtrmm if dtype == np.float64 else blas.strmm


def orthonormalize(xp, V, *, max_passes=3):
    """Cholesky QR of a well-conditioned ``V`` (repeated while ``R`` is far from ``I``).

    Returns ``Q`` with orthonormal columns spanning ``range(V)``, or ``None`` if the
    Cholesky factorization breaks down (``V`` numerically rank deficient).
    """
    for _ in range(max_passes):
        G = xp.matrix_transpose(V) @ V
        C = cholesky_upper(xp, G)
        if C is None:
            return None
        V = right_solve_upper(xp, V, C)
        # One pass suffices when cond(C) <= 1e3: the orthogonality error of V C^-1 is
        # then about cond(C)^2 * eps.
        s = xp.linalg.svdvals(C)
        if float(s[0]) <= 1e3 * float(s[-1]):
            return V
    return V


def right_solve_upper(xp, V, C, *, overwrite=False):
    """``V @ C^-1`` for upper-triangular ``C`` (NumPy: ``trmm`` with the inverse, in place
    of ``V`` when ``overwrite``)."""
    if is_numpy_namespace(xp):
        # V C^-1 as (C^-T V^T)^T: the transpose of a C-ordered V is Fortran-ordered.
        return _trmm(V.dtype)(1.0, upper_inverse(C), V.T, side=0, lower=0, trans_a=1,
                              overwrite_b=1 if overwrite else 0).T
    from .._backend import triangular_solve

    return xp.matrix_transpose(triangular_solve(xp, C, xp.matrix_transpose(V), trans=True))
