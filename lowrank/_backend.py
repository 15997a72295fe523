"""Array-backend dispatch shared by every family.

The namespace is found per call from the arguments (``array_api_compat``); there is no
global backend state and no function moves data between host and device behind the
caller's back.  SciPy sparse matrices belong to the NumPy namespace; CuPy sparse
matrices (``cupyx.scipy.sparse``) to the CuPy namespace.

Moving host data to a namespace (:func:`from_host`) and emulating the scatter that the
array API standard lacks (:func:`scatter_rows`) live here, once; linear-algebra helpers
live in :mod:`lowrank._linalg`.
"""

import numpy as np
import scipy.sparse
from array_api_compat import array_namespace as _compat_namespace
from array_api_compat import device as _compat_device
from array_api_compat import is_cupy_namespace, is_numpy_namespace

__all__ = [
    "array_namespace",
    "column_norms",
    "device_of",
    "from_host",
    "host_dtype",
    "is_cupy_namespace",
    "is_host_sparse",
    "is_numpy_namespace",
    "is_sparse",
    "norm",
    "put_columns",
    "scale_columns",
    "scatter_rows",
    "take_columns",
    "to_float",
    "to_host",
    "where_columns",
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
            import cupy  # optional dependency, present with cupyx sparse input

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


def device_of(x):
    """The device of the array ``x`` (``"cpu"`` for NumPy)."""
    return _compat_device(x)


def from_host(xp, x, like=None, *, dtype=None):
    """The host (NumPy) array ``x`` in namespace ``xp``, on the device of ``like``.

    NumPy namespaces get ``x`` itself (cast to ``dtype`` if given, without a copy when it
    already has it); other namespaces get an explicit transfer.
    """
    if is_numpy_namespace(xp):
        return x if dtype is None else np.asarray(x).astype(host_dtype(dtype), copy=False)
    device = None if like is None else device_of(like)
    return xp.asarray(x, dtype=dtype, device=device)


def scatter_rows(xp, out, mask, values):
    """``out`` with ``values`` placed, in order, at the rows where ``mask`` is true.

    NumPy assigns in place; other namespaces (the array API has no scatter) gather each
    row's value by its rank among the selected rows and return a new array.
    """
    if is_numpy_namespace(xp):
        out[mask] = values
        return out
    position = xp.cumulative_sum(xp.astype(mask, xp.int64)) - 1
    gathered = xp.take(values, xp.clip(position, 0, values.shape[0] - 1), axis=0)
    keep = mask if out.ndim == 1 else mask[:, None]
    return xp.where(keep, gathered, out)


# Column helpers for blocks of right-hand sides (one column each); the per-column
# scalars and masks are host (NumPy) arrays.


def column_norms(xp, X) -> np.ndarray:
    """The Euclidean norms of the columns of ``X`` as a float64 NumPy array."""
    return np.asarray(to_host(xp.linalg.vector_norm(X, axis=0)), dtype=np.float64)


def scale_columns(xp, X, factors):
    """``X`` with column ``j`` multiplied by ``factors[j]`` (a host array)."""
    return X * from_host(xp, np.asarray(factors)[None, :], X, dtype=X.dtype)


def take_columns(xp, X, positions):
    """The columns ``positions`` (a host index array) of ``X``."""
    return xp.take(X, from_host(xp, np.asarray(positions, dtype=np.int64), X), axis=1)


def where_columns(xp, mask, X, Y):
    """Column ``j`` of ``X`` where the host boolean ``mask[j]``, else of ``Y``."""
    if mask.all():
        return X
    if not mask.any():
        return Y
    return xp.where(from_host(xp, mask[None, :], X), X, Y)


def put_columns(xp, X, positions, Y):
    """``X`` with its columns at ``positions`` (ascending, host) replaced by the
    columns of ``Y``, in order (in place for NumPy)."""
    if len(positions) == X.shape[1]:
        return Y
    mask = np.zeros(X.shape[1], dtype=bool)
    mask[positions] = True
    T = scatter_rows(xp, xp.matrix_transpose(X), from_host(xp, mask, X),
                     xp.matrix_transpose(Y))
    return xp.matrix_transpose(T)
