"""Linear measurement operators ``A: R^{d1 x d2} -> R^m`` with adjoints.

Each operator is callable (``A(X)``, the ``m`` measurements ``<A_i, X>``) and has
``A.adjoint(z)`` (``sum_i z_i A_i``).  The sub-gradient method reaches them through two
private methods that never form more than the operator needs:

- ``_residual(U, V, y)`` -> ``(A(U V^T) - y, sum |A(U V^T) - y|)``;
- ``_adjoint(z)`` -> ``sum_i z_i A_i`` as a dense array (Gaussian) or a SciPy sparse
  matrix (entries), whose products with the factors cost ``O(m d^2)`` or ``O(|Omega| r)``.
"""

import math

import numpy as np
import scipy.sparse

from .. import _kernels
from .._backend import array_namespace, from_host, is_numpy_namespace, to_host
from .._rng import check_rng, kernel_seed
from .._validation import check_dtype_arg, check_int, check_matrix, check_option, check_shape
from ._device import DeviceSigns, EntryIndex, device_key

__all__ = ["EntryMeasurements", "GaussianMeasurements"]

# Dense Gaussian storage above this many bytes is refused by storage="dense" and avoided by
# "auto" (which regenerates the matrices block by block instead).
_DENSE_LIMIT = 256 * 2**20
# Bytes of one block of regenerated measurement matrices.
_BLOCK_BYTES = 16 * 2**20
# The median of |N(0, 1)|.
_HALF_NORMAL_MEDIAN = 0.6744897501960817


def _matrix_shape(shape):
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        d = check_int(shape, "shape", low=1)
        return d, d
    return check_shape(shape, "shape")


class _Operator:
    """What every measurement operator shares: ``shape``, ``n_measurements``, ``dtype``
    and the checks of ``A(X)`` and ``A.adjoint(z)``."""

    shape: tuple
    n_measurements: int
    dtype: np.dtype

    def __call__(self, X):
        X, xp = check_matrix(X, "X", allow_sparse=False)
        if tuple(X.shape) != self.shape:
            raise ValueError(f"`X` must have shape {self.shape}; got {tuple(X.shape)}.")
        if not is_numpy_namespace(xp):
            return self._forward_device(xp, xp.astype(X, self._xp_dtype(xp)))
        return self._forward(np.asarray(X, dtype=self.dtype))

    def adjoint(self, z):
        """``sum_i z_i A_i``, a ``shape`` matrix (in the namespace of ``z``)."""
        xp = array_namespace(z) if hasattr(z, "__array_namespace__") else np
        if is_numpy_namespace(xp):
            z = np.asarray(z)
        if tuple(z.shape) != (self.n_measurements,):
            raise ValueError(f"`z` must have shape ({self.n_measurements},); got "
                             f"{tuple(z.shape)}.")
        if not xp.isdtype(z.dtype, ("bool", "integral", "real floating")):
            raise TypeError(f"`z` must be real; got dtype {z.dtype}.")
        if not is_numpy_namespace(xp):
            return self._adjoint_device(xp, xp.astype(z, self._xp_dtype(xp)))
        return self._adjoint(z.astype(self.dtype, copy=False))

    def _xp_dtype(self, xp):
        return getattr(xp, self.dtype.name)

    def _residual(self, U, V, y):
        r = self._forward(U @ V.T) - y
        return r, float(np.abs(r).sum())

    def _sign_adjoint(self, y):
        return self._adjoint(np.sign(y))

    def _scale_estimate(self, y):
        """A robust estimate of ``||X||_F`` from measurements of ``X`` (the median of
        ``|y|``, so less than half of them may be outliers)."""
        return float(np.median(np.abs(to_host(y)))) / _HALF_NORMAL_MEDIAN * self._median_scale


class GaussianMeasurements(_Operator):
    """``m`` Gaussian measurements ``y_i = <A_i, X>``, ``A_i`` with i.i.d. N(0, 1) entries.

    Parameters
    ----------
    shape : int or (int, int)
        The shape ``(d1, d2)`` of ``X`` (an int ``d`` means ``(d, d)``).
    n_measurements : int
        ``m``.
    rng : None, int, numpy.random.Generator, ...
        Seeds the matrices; the same ``rng`` gives the same operator whatever the
        ``storage``.
    dtype : {float64, float32}, default float64
    storage : {"auto", "dense", "blocks"}, default "auto"
        ``"dense"`` keeps the ``m x d1 d2`` matrix (``m d1 d2`` floats: 800 MB at
        ``d = 100, m = 10^4`` in float64); ``"blocks"`` keeps only seeds and regenerates
        the matrices block by block on each use (memory ``O(d1 d2)`` per block, time
        dominated by the normal draws); ``"auto"`` is dense up to 256 MB.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.robust import GaussianMeasurements
    >>> A = GaussianMeasurements(4, 30, rng=0)
    >>> X, z = np.eye(4), np.ones(30)
    >>> bool(np.isclose(A(X) @ z, np.sum(X * A.adjoint(z))))      # adjoint test
    True
    """

    def __init__(self, shape, n_measurements, *, rng=None, dtype=np.float64,
                 storage="auto"):
        self.shape = _matrix_shape(shape)
        self.n_measurements = check_int(n_measurements, "n_measurements", low=1)
        self.dtype = check_dtype_arg(dtype)
        check_option(storage, "storage", ("auto", "dense", "blocks"))
        size = self.shape[0] * self.shape[1]
        nbytes = self.n_measurements * size * self.dtype.itemsize
        if storage == "dense" and nbytes > _DENSE_LIMIT * 16:
            raise MemoryError(f"storage='dense' needs {nbytes / 2**30:.1f} GiB for the "
                              f"{self.n_measurements} x {size} matrix; use "
                              f"storage='blocks'.")
        self._median_scale = 1.0      # <A_i, X> ~ N(0, ||X||_F^2)
        self.storage = storage if storage != "auto" else (
            "dense" if nbytes <= _DENSE_LIMIT else "blocks")
        self._seed = kernel_seed(check_rng(rng))
        self._block_rows = max(1, min(self.n_measurements,
                                      _BLOCK_BYTES // (8 * size)))
        self._matrix = (np.concatenate([block for _, block in self._blocks()])
                        if self.storage == "dense" else None)
        self._device = {}

    def _blocks(self):
        """``(start, A_block)`` over the row blocks of the ``m x d1 d2`` matrix, each
        drawn from its own seed (so the matrix does not depend on the storage)."""
        size = self.shape[0] * self.shape[1]
        for b, start in enumerate(range(0, self.n_measurements, self._block_rows)):
            rows = min(self._block_rows, self.n_measurements - start)
            block = np.random.default_rng([self._seed, b]).standard_normal((rows, size))
            yield start, block.astype(self.dtype, copy=False)

    def _each_block(self):
        if self._matrix is not None:
            return [(0, self._matrix)]
        return self._blocks()

    def _forward(self, X):
        x = np.ascontiguousarray(X, dtype=self.dtype).reshape(-1)
        out = np.empty(self.n_measurements, dtype=self.dtype)
        for start, block in self._each_block():
            out[start:start + block.shape[0]] = block @ x
        return out

    def _adjoint(self, z):
        out = np.zeros(self.shape[0] * self.shape[1], dtype=self.dtype)
        for start, block in self._each_block():
            out += z[start:start + block.shape[0]] @ block
        return out.reshape(self.shape)

    def _device_blocks(self, xp, like):
        """:meth:`_each_block` in namespace ``xp`` (dense storage: moved once, kept)."""
        if self._matrix is None:
            return ((start, from_host(xp, block, like)) for start, block in self._blocks())
        key = device_key(xp, like)
        if key not in self._device:
            self._device[key] = from_host(xp, self._matrix, like)
        return [(0, self._device[key])]

    def _forward_device(self, xp, X):
        x = xp.reshape(X, (-1,))
        parts = [block @ x for _, block in self._device_blocks(xp, X)]
        return parts[0] if len(parts) == 1 else xp.concat(parts)

    def _adjoint_device(self, xp, z):
        out = None
        for start, block in self._device_blocks(xp, z):
            part = z[start:start + block.shape[0]] @ block
            out = part if out is None else out + part
        return xp.reshape(out, self.shape)

    def _sign_adjoint(self, y):
        if isinstance(y, np.ndarray):
            return self._adjoint(np.sign(y))
        xp = array_namespace(y)
        return self._adjoint_device(xp, xp.sign(y))

    def _loss_and_sign_adjoint(self, U, V, y):
        """``(sum |r|, A^*(sign r))`` with ``r = A(U V^T) - y``, in one pass over the
        blocks (each regenerated block serves both products)."""
        if not isinstance(y, np.ndarray):
            return self._loss_and_sign_adjoint_device(array_namespace(y), U, V, y)
        x = (U @ V.T).reshape(-1)
        loss = 0.0
        Q = np.zeros(x.size, dtype=self.dtype)
        for start, block in self._each_block():
            r = block @ x - y[start:start + block.shape[0]]
            loss += float(np.abs(r).sum())
            Q += np.sign(r) @ block
        return loss, Q.reshape(self.shape)

    def _loss_and_sign_adjoint_device(self, xp, U, V, y):
        x = xp.reshape(U @ V.T, (-1,))
        loss, Q = 0.0, None
        for start, block in self._device_blocks(xp, y):
            r = block @ x - y[start:start + block.shape[0]]
            loss += float(xp.sum(xp.abs(r)))
            part = xp.sign(r) @ block
            Q = part if Q is None else Q + part
        return loss, xp.reshape(Q, self.shape)

    def __repr__(self):
        return (f"GaussianMeasurements(shape={self.shape}, n_measurements="
                f"{self.n_measurements}, dtype={self.dtype.name}, storage={self.storage!r})")


class EntryMeasurements(_Operator):
    """Entry measurements ``y_k = X[rows[k], cols[k]]`` (robust completion; every entry
    for fully observed robust PCA).

    ``A.adjoint(z)`` is the SciPy CSR matrix with ``z_k`` at ``(rows[k], cols[k])``
    (repeated entries summed); for ``z`` of another array namespace (CuPy), the dense
    matrix in that namespace.  The sub-gradient method evaluates ``U V^T`` only at the
    observed entries: ``O(|Omega| r)`` per iteration; when every entry is observed once
    (robust PCA) it works on dense ``d1 x d2`` residuals with BLAS instead.

    Parameters
    ----------
    rows, cols : array_like of int (n,)
        The observed positions.
    shape : (int, int)
        The shape of ``X``.
    dtype : {float64, float32}, default float64

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.robust import EntryMeasurements
    >>> A = EntryMeasurements([0, 1, 2], [1, 1, 0], (3, 2))
    >>> A(np.arange(6.0).reshape(3, 2))
    array([1., 3., 4.])
    """

    def __init__(self, rows, cols, shape, *, dtype=np.float64):
        self.shape = check_shape(shape, "shape")
        self.dtype = check_dtype_arg(dtype)
        rows, cols = np.asarray(rows), np.asarray(cols)
        if rows.size == 0 or cols.size == 0:
            raise ValueError("`rows` and `cols` must hold at least one entry; got none.")
        for a, name, size in ((rows, "rows", self.shape[0]), (cols, "cols", self.shape[1])):
            if a.ndim != 1:
                raise ValueError(f"`{name}` must be 1-D; got shape {a.shape}.")
            if a.dtype.kind not in "iu":
                raise TypeError(f"`{name}` must be integers; got dtype {a.dtype}.")
            if a.size and (a.min() < 0 or a.max() >= size):
                bad = a.min() if a.min() < 0 else a.max()
                raise ValueError(f"`{name}` must satisfy 0 <= index < {size}; got {int(bad)}.")
        if rows.size != cols.size:
            raise ValueError(f"`rows` and `cols` must have equal lengths; got {rows.size} "
                             f"and {cols.size}.")
        self.rows = rows.astype(np.int64)
        self.cols = cols.astype(np.int64)
        self.n_measurements = int(rows.size)
        # entries of size about ||X||_F / sqrt(d1 d2) each
        self._median_scale = math.sqrt(self.shape[0] * self.shape[1])
        flat = self.rows * self.shape[1] + self.cols
        # data[k] of the adjoint's CSR pattern is entry order[k] (None: already in order)
        in_order = bool(np.all(flat[1:] > flat[:-1]))
        self._order = None if in_order else np.argsort(flat, kind="stable")
        self._merged = not in_order and bool(np.any(np.diff(flat[self._order]) == 0))
        # Every entry observed once (robust PCA): dense residuals and BLAS products.
        self._full = (not self._merged
                      and self.n_measurements == self.shape[0] * self.shape[1])
        self._flat = None if (self._full and in_order) else flat
        self._pattern = None
        self._dense_y = (None, None)
        self._buffer = None
        self._device = {}

    def _index(self, xp, like):
        """The positions on the device of ``like`` (built once per device)."""
        key = device_key(xp, like)
        if key not in self._device:
            self._device[key] = EntryIndex(xp, like, self.rows, self.cols, self.shape,
                                           full=self._full)
        return self._device[key]

    def _forward_device(self, xp, X):
        return xp.take(xp.reshape(X, (-1,)), self._index(xp, X).flat)

    def _adjoint_device(self, xp, z):
        return self._index(xp, z).dense(z)

    def _csr_pattern(self):
        """The adjoint's CSR pattern, built on first use."""
        if self._pattern is None:
            take = (lambda a: a) if self._order is None else (lambda a: a[self._order])
            self._pattern = scipy.sparse.csr_matrix(
                (np.ones(self.n_measurements, dtype=self.dtype),
                 (take(self.rows), take(self.cols))), shape=self.shape)
        return self._pattern

    def _forward(self, X):
        return np.asarray(X[self.rows, self.cols], dtype=self.dtype)

    def _adjoint(self, z):
        if self._merged:                       # repeated entries: let SciPy sum them
            return scipy.sparse.csr_matrix((z, (self.rows, self.cols)), shape=self.shape)
        Q = self._csr_pattern().copy()
        Q.data = np.ascontiguousarray(z if self._order is None else z[self._order])
        return Q

    def _residual(self, U, V, y):
        r = np.empty(self.n_measurements, dtype=self.dtype)
        total = _kernels.load("robust").entry_residual(
            self.rows, self.cols, np.ascontiguousarray(U), np.ascontiguousarray(V), y, r)
        return r, float(total)

    def _loss_and_sign_adjoint(self, U, V, y):
        if not isinstance(y, np.ndarray):
            return self._loss_and_sign_adjoint_device(array_namespace(y), U, V, y)
        if self._full:
            # sign(U V^T - Y) in place in one reused buffer (valid until the next call)
            if self._buffer is None or self._buffer.dtype != U.dtype:
                self._buffer = np.empty(self.shape, dtype=U.dtype)
            D = np.matmul(U, V.T, out=self._buffer)
            loss = _kernels.load("robust").dense_sign_residual(D, self._as_dense(y))
            return float(loss), D
        r, loss = self._residual(U, V, y)
        return loss, self._adjoint(np.sign(r))

    def _loss_and_sign_adjoint_device(self, xp, U, V, y):
        index = self._index(xp, y)
        if self._full:
            D = U @ V.T - self._as_dense(y)
            return float(xp.sum(xp.abs(D))), xp.sign(D)
        r = xp.sum(xp.take(U, index.rows, axis=0) * xp.take(V, index.cols, axis=0),
                   axis=1) - y
        return float(xp.sum(xp.abs(r))), DeviceSigns(index, xp.sign(r))

    def _sign_adjoint(self, y):
        if self._full:
            return np.sign(self._as_dense(y)) if isinstance(y, np.ndarray) else \
                array_namespace(y).sign(self._as_dense(y))
        if isinstance(y, np.ndarray):
            return self._adjoint(np.sign(y))
        xp = array_namespace(y)
        return DeviceSigns(self._index(xp, y), xp.sign(y))

    def _as_dense(self, y):
        """``y`` laid out as the ``shape`` matrix (kept for the ``y`` of the last call:
        the sub-gradient method passes the same one every iteration; a view of ``y``
        when the entries come in row-major order)."""
        if self._dense_y[0] is not y:
            if not isinstance(y, np.ndarray):
                xp = array_namespace(y)
                self._dense_y = (y, self._index(xp, y).layout(y))
                return self._dense_y[1]
            if self._flat is None:
                Y = np.ascontiguousarray(y).reshape(self.shape)
            else:
                Y = np.empty(self.shape[0] * self.shape[1], dtype=self.dtype)
                Y[self._flat] = y
                Y = Y.reshape(self.shape)
            self._dense_y = (y, Y)
        return self._dense_y[1]

    def __repr__(self):
        return (f"EntryMeasurements(shape={self.shape}, n_measurements="
                f"{self.n_measurements}, dtype={self.dtype.name})")
