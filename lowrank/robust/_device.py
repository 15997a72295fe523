"""Measurement operators on arrays of another namespace (CuPy on a GPU; array-API).

The work that grows with the data (``A(U V^T)``, the sign of the residual, and the
products of ``A^*(sign r)`` with the factors) runs in the namespace of ``y``; the small
``d x r`` factors, the schedule and the probes run on the host, and cross over once per
iteration (:class:`HostView`).  Entry measurements use index arrays sorted by row and by
column, built once on the host and moved to the device; their adjoint's products are
segment sums (differences of a cumulative sum), since the array API has no scatter-add.
"""

import numpy as np
import scipy.sparse

from .._backend import device_of, from_host, to_host

__all__ = ["DeviceSigns", "EntryIndex", "HostView", "device_key", "segment_sums"]


def device_key(xp, like):
    """A cache key for arrays of namespace ``xp`` on the device of ``like``."""
    return xp.__name__, str(device_of(like))


def segment_sums(xp, values, pointers):
    """Sums of the consecutive segments ``values[pointers[i]:pointers[i + 1]]`` along the
    first axis, accumulated in float64 (a difference of two cumulative sums)."""
    dtype = values.dtype
    wide = values if dtype == xp.float64 else xp.astype(values, xp.float64)
    total = xp.cumulative_sum(wide, axis=0, include_initial=True)
    out = xp.take(total, pointers[1:], axis=0) - xp.take(total, pointers[:-1], axis=0)
    return out if dtype == xp.float64 else xp.astype(out, dtype)


def _pointers(keys, n):
    return np.concatenate(([0], np.cumsum(np.bincount(keys, minlength=n)))).astype(np.int64)


class EntryIndex:
    """The positions ``(rows[k], cols[k])`` of entry measurements on a device.

    Always: ``rows``, ``cols``, ``flat`` and ``by_row`` (the entries in row-major
    order).  Unless every entry is observed once (``full``, where the adjoint is a dense
    layout), also the entries in column order, the segment pointers of both orders, and
    the map from each matrix entry to the sum of its (repeated) measurements.
    """

    def __init__(self, xp, like, rows, cols, shape, *, full):
        self.xp, self.shape, self.full, self.host = xp, shape, full, (rows, cols)
        n1, n2 = shape
        flat = rows * n2 + cols
        by_row = np.argsort(flat, kind="stable")

        def put(a):
            return from_host(xp, np.ascontiguousarray(a), like)

        self.rows, self.cols, self.flat, self.by_row = put(rows), put(cols), put(flat), \
            put(by_row)
        if full:
            return
        by_col = np.lexsort((rows, cols))
        self.row_ptr, self.row_cols = put(_pointers(rows, n1)), put(cols[by_row])
        self.by_col, self.col_ptr, self.col_rows = put(by_col), put(_pointers(cols, n2)), \
            put(rows[by_col])
        keys = flat[by_row]
        first = np.concatenate(([True], keys[1:] != keys[:-1]))
        self.key_ptr = put(np.append(np.flatnonzero(first), keys.size))
        position = np.full(n1 * n2, int(first.sum()), dtype=np.int64)
        position[keys[first]] = np.arange(int(first.sum()))
        self.position = put(position)

    def dense(self, z):
        """``sum_k z_k e_{rows[k]} e_{cols[k]}^T`` as a dense ``shape`` array."""
        xp = self.xp
        if self.full:
            return self.layout(z)
        sums = segment_sums(xp, xp.take(z, self.by_row), self.key_ptr)
        padded = xp.concat((sums, xp.zeros(1, dtype=z.dtype, device=device_of(z))))
        return xp.reshape(xp.take(padded, self.position), self.shape)

    def layout(self, y):
        """``y`` of an operator observing every entry once, as the ``shape`` matrix."""
        return self.xp.reshape(self.xp.take(y, self.by_row), self.shape)


class DeviceSigns:
    """``A^*(s)`` of entry measurements as an operator on device arrays: ``Q @ W`` and
    ``Q.T @ W`` by segment sums over the entries in row (column) order."""

    def __init__(self, index, s, transposed=False):
        self.index, self.s, self.transposed = index, s, transposed
        n1, n2 = index.shape
        self.shape = (n2, n1) if transposed else (n1, n2)
        self.dtype = s.dtype

    @property
    def T(self):
        return DeviceSigns(self.index, self.s, not self.transposed)

    def __matmul__(self, W):
        xp, idx = self.index.xp, self.index
        if self.transposed:
            order, others, pointers = idx.by_col, idx.col_rows, idx.col_ptr
        else:
            order, others, pointers = idx.by_row, idx.row_cols, idx.row_ptr
        values = xp.take(self.s, order)
        if W.ndim == 1:
            return segment_sums(xp, values * xp.take(W, others), pointers)
        return segment_sums(xp, values[:, None] * xp.take(W, others, axis=0), pointers)

    def to_host(self):
        """The host (SciPy CSR) matrix."""
        rows, cols = self.index.host
        Q = scipy.sparse.csr_matrix((to_host(self.s), (rows, cols)), shape=self.index.shape)
        return Q.T.tocsr() if self.transposed else Q


class HostView:
    """A device matrix (dense, or :class:`DeviceSigns`) seen from the host: products
    with NumPy arrays move them to the device and the (small) result back."""

    def __init__(self, Q, xp, like):
        self.Q, self.xp, self.like = Q, xp, like
        self.shape = tuple(Q.shape)
        self.dtype = np.dtype(str(Q.dtype).split(".")[-1])

    @property
    def T(self):
        Q = self.Q.T if isinstance(self.Q, DeviceSigns) else self.xp.matrix_transpose(self.Q)
        return HostView(Q, self.xp, self.like)

    def __matmul__(self, X):
        X = from_host(self.xp, np.ascontiguousarray(X, dtype=self.dtype), self.like)
        return to_host(self.Q @ X)

    def toarray(self):
        if isinstance(self.Q, DeviceSigns):
            return self.Q.to_host().toarray()
        return to_host(self.Q)

    def host_matrix(self):
        """A host copy: SciPy CSR for entry signs, else a dense array."""
        return self.Q.to_host() if isinstance(self.Q, DeviceSigns) else to_host(self.Q)
