"""Array-backend dispatch shared by every family.

The namespace is found per call from the arguments (``array_api_compat``); there is no
global backend state and no function moves data between host and device behind the
caller's back.  SciPy sparse matrices belong to the NumPy namespace; CuPy sparse
matrices (``cupyx.scipy.sparse``) to the CuPy namespace.

Linear-algebra primitives that the array API standard lacks (triangular solves) or that
have a faster LAPACK route on the host are wrapped here so that the algorithms are
written once against ``xp``.
"""

import numpy as np
import scipy.linalg
import scipy.sparse
from array_api_compat import array_namespace as _compat_namespace
from array_api_compat import is_cupy_namespace, is_numpy_namespace

__all__ = [
    "array_namespace",
    "cholesky_upper",
    "host_dtype",
    "is_cupy_namespace",
    "is_host_sparse",
    "is_numpy_namespace",
    "is_sparse",
    "norm",
    "qr_r",
    "to_float",
    "to_host",
    "triangular_solve",
]


def is_host_sparse(A) -> bool:
    """True for SciPy sparse matrices and arrays."""
    return scipy.sparse.issparse(A)


def _is_cupy_sparse(A) -> bool:
    return type(A).__module__.startswith("cupyx.scipy.sparse")


def is_sparse(A) -> bool:
    """True for SciPy or CuPy sparse matrices."""
    return is_host_sparse(A) or _is_cupy_sparse(A)


def array_namespace(*arrays):
    """Return the array namespace shared by ``arrays`` (sparse matrices included).

    SciPy sparse inputs map to NumPy's namespace and CuPy sparse inputs to CuPy's;
    ``None`` entries are ignored.  Mixing namespaces raises ``TypeError``.
    """
    dense = []
    for a in arrays:
        if a is None:
            continue
        if is_host_sparse(a):
            dense.append(np.empty(0))
        elif _is_cupy_sparse(a):
            import cupy

            dense.append(cupy.empty(0))
        else:
            dense.append(a)
    if not dense:
        return _compat_namespace(np.empty(0))
    return _compat_namespace(*dense)


def to_float(xp, A):
    """Cast ``A`` to its working floating dtype: float32/float64 kept, others to float64."""
    dtype = A.dtype
    if dtype in (xp.float32, xp.float64):
        return A
    if is_sparse(A):
        return A.astype(np.float64)
    return xp.astype(A, xp.float64)


def to_host(x):
    """``x`` as a NumPy array (no copy for NumPy input; CuPy arrays by ``.get()``, which
    they require for an explicit transfer)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get") and not is_sparse(x):
        return x.get()
    return np.asarray(x)


def host_dtype(dtype) -> np.dtype:
    """The NumPy dtype with the same name as a namespace's dtype (e.g. for ``finfo``)."""
    return np.dtype(str(dtype).split(".")[-1])


def norm(xp, x) -> float:
    """Euclidean norm of a vector (Frobenius norm of a matrix) as a Python float."""
    return float(xp.linalg.vector_norm(xp.reshape(x, (-1,))))


def triangular_solve(xp, R, B, *, trans: bool = False):
    """Solve ``R X = B`` (or ``R^T X = B`` when ``trans``) for upper-triangular ``R``."""
    if is_numpy_namespace(xp):
        return scipy.linalg.solve_triangular(
            R, B, lower=False, trans=1 if trans else 0, check_finite=False
        )
    if is_cupy_namespace(xp):
        import cupyx.scipy.linalg

        return cupyx.scipy.linalg.solve_triangular(R, B, lower=False, trans=1 if trans else 0)
    M = xp.matrix_transpose(R) if trans else R
    if B.ndim == 1:
        return xp.linalg.solve(M, B[:, None])[:, 0]
    return xp.linalg.solve(M, B)


# Up to this order the host Cholesky runs in a Numba kernel (no BLAS threads to wake).
_SMALL_CHOLESKY = 512


def cholesky_upper(xp, G):
    """Upper Cholesky factor of a symmetric positive definite ``G``; ``None`` on breakdown."""
    try:
        if is_numpy_namespace(xp) and G.shape[0] <= _SMALL_CHOLESKY:
            from ._kernels.regression import cholesky_upper as small_cholesky

            R, ok = small_cholesky(np.ascontiguousarray(G))
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
