"""Moment tensors given by samples, never formed."""

import math

from .._backend import from_host, host_dtype
from .._validation import check_int, check_matrix
from ._multiindex import multi_indices, n_sorted
from ._tensors import BLOCK_ENTRIES, check_dense_size, symmetric_tensor

__all__ = ["MomentTensor", "scaled_monomials"]


def scaled_monomials(xp, X, table, like=None):
    """``out[s, p] = sqrt(mu(p)) * prod_j X[s, p_j]`` for the rows ``s`` of ``X``
    (``N x D``, ``table.n >= 1``): the compressed rank-one tensors ``x_s^{(x)n}``."""
    like = X if like is None else like
    out = None
    for j in range(table.n):
        column = xp.take(X, from_host(xp, table.indices[:, j], like), axis=1)
        out = column if out is None else out * column
    scale = from_host(xp, table.sqrt_mult, like, dtype=X.dtype)
    return out * scale[None, :]


class MomentTensor:
    """A moment tensor given by samples, never formed.

    The ``order``-th moment tensor of the samples is ``(1/n) sum_s x_s^{(x) order}``.

    :func:`~lowrank.tensor.subspace_power_method` reads it through its compressed
    flattening (``(1/n) Phi_a^T Phi_b`` with ``Phi_a`` the samples' scaled monomials of
    degree ``a = ceil(order/2)``, accumulated over blocks of samples) and, for
    ``refine=True``, through ``T(., a, ..., a) = (1/n) X^T (X a)^{order-1}``; the
    ``d^order`` tensor is never built.  At ``order = 6`` and ``d = 40`` the dense tensor
    has 4.1e9 entries (33 GB) and the flattening 1.3e8 (1 GB).

    Parameters
    ----------
    X : array (n, d)
        The samples, one per row (raw moments: center or whiten them first if the model
        calls for it).
    order : int
        The order ``m >= 3`` of the moment.
    check_finite : bool, default True
        Reject NaN and inf in ``X``.

    Attributes
    ----------
    X : array (n, d)
        The validated samples (float32 kept, integers promoted to float64).
    order : int
    dim : int
        The side ``d`` of the moment tensor.
    shape : tuple
        ``(d,) * order``.

    Notes
    -----
    Backend support: NumPy, CuPy and other array API namespaces.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.tensor import MomentTensor
    >>> X = np.random.default_rng(0).standard_normal((500, 4))
    >>> M = MomentTensor(X, 4)
    >>> bool(np.allclose(M.to_dense()[0, 0, 1, 1], np.mean(X[:, 0]**2 * X[:, 1]**2)))
    True
    """

    def __init__(self, X, order, *, check_finite=True):
        X, xp = check_matrix(X, "X", allow_sparse=False, check_finite=check_finite)
        self.order = check_int(order, "order", low=3)
        self.X, self.xp = X, xp
        self.dim = int(X.shape[1])
        self.dtype = X.dtype
        self.shape = (self.dim,) * self.order

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    def __repr__(self) -> str:
        return (f"MomentTensor(order={self.order}, dim={self.dim}, "
                f"n_samples={self.n_samples}, dtype={self.dtype})")

    def to_dense(self):
        """The formed moment tensor (``MemoryError`` when it would not fit)."""
        xp = self.xp
        weights = xp.full((self.n_samples,), 1.0 / self.n_samples, dtype=self.dtype)
        return symmetric_tensor(weights, self.X.T, self.order)

    def flattening_shape(self, n_rows):
        return n_sorted(self.dim, n_rows), n_sorted(self.dim, self.order - n_rows)

    def flattening(self, n_rows):
        """The compressed flattening, accumulated over blocks of samples."""
        xp, X = self.xp, self.X
        rows, cols = multi_indices(self.dim, n_rows), multi_indices(self.dim, self.order - n_rows)
        D_rows, D_cols = rows.indices.shape[0], cols.indices.shape[0]
        check_dense_size((D_rows, D_cols), host_dtype(self.dtype).itemsize,
                         "The compressed flattening")
        step = max(1, BLOCK_ENTRIES // max(D_rows, D_cols))
        M = xp.zeros((D_rows, D_cols), dtype=self.dtype)
        for start in range(0, self.n_samples, step):
            block = X[start:min(start + step, self.n_samples), :]
            left = scaled_monomials(xp, block, rows)
            right = left if cols is rows else scaled_monomials(xp, block, cols)
            M += left.T @ right
        return M / self.n_samples

    def mttkrp(self, A):
        """``out[:, i] = T(., a_i, ..., a_i) = (1/n) X^T (X a_i)^{order-1}``."""
        Y = self.X @ A
        return self.X.T @ (Y ** (self.order - 1)) / self.n_samples

    def norm_squared(self):
        """``||T||_F^2 = (1/n^2) sum_{s,t} (x_s . x_t)^order``, over blocks of samples."""
        xp, X = self.xp, self.X
        step = max(1, int(math.sqrt(BLOCK_ENTRIES)))
        total = 0.0
        for start in range(0, self.n_samples, step):
            G = X[start:min(start + step, self.n_samples), :] @ X.T
            total += float(xp.sum(G ** self.order))
        return total / self.n_samples ** 2
