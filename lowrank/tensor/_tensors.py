"""Dense tensors from CP factors, symmetrization, and the symmetric operands SPM reads.

SPM touches its input through four operations only: the compressed flattening, the
products ``T(., a_i, ..., a_i)`` (MTTKRP), the values ``T(a_i, ..., a_i)`` and
``||T||_F^2``.  :class:`DenseSymmetric` provides them for a formed tensor and
:class:`~lowrank.tensor.MomentTensor` for a moment tensor given by samples.
"""

import itertools
import math
import os

import numpy as np

from .._backend import array_namespace, from_host, host_dtype
from .._validation import check_int, check_matrix
from ._multiindex import multi_indices, n_sorted

__all__ = ["DenseSymmetric", "asymmetry", "cp_tensor", "memory_limit", "symmetric_tensor",
           "symmetrize"]

# Work arrays are split into blocks of about this many entries.
BLOCK_ENTRIES = 1 << 22


def memory_limit() -> int:
    """Bytes a single array may take: half the machine's physical memory (8 GiB when it
    cannot be read)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def check_dense_size(shape, itemsize, what):
    """Raise ``MemoryError`` before allocating a dense tensor larger than the limit."""
    size = math.prod(shape) * itemsize
    if size > memory_limit():
        raise MemoryError(
            f"{what} of shape {tuple(shape)} would take {size / 2**30:.1f} GiB, more than "
            f"half of this machine's memory; work with the factors instead (for a moment "
            f"tensor, lowrank.tensor.MomentTensor never forms it).")


def _check_factors(weights, factors, name):
    weights, xp = check_matrix(weights, "weights", allow_sparse=False, ndim=(1,))
    r = weights.shape[0]
    checked = []
    for j, A in enumerate(factors):
        label = name if isinstance(name, str) else name[j]
        A, xa = check_matrix(A, label, allow_sparse=False)
        if xa is not xp and getattr(xa, "__name__", "") != getattr(xp, "__name__", ""):
            raise TypeError(f"`{label}` must be an array of the same namespace as `weights`.")
        if A.shape[1] != r:
            raise ValueError(f"`{label}` must have {r} columns, one per weight; got shape "
                             f"{tuple(A.shape)}.")
        checked.append(A)
    dtype = xp.result_type(weights, *checked)
    return xp, xp.astype(weights, dtype), [xp.astype(A, dtype) for A in checked]


def _khatri_rao(xp, factors, cols):
    """Column-wise Kronecker product of ``factors[k][:, cols]`` (first factor slowest)."""
    K = factors[-1][:, cols]
    for A in reversed(factors[:-1]):
        K = xp.reshape(A[:, None, cols] * K[None, :, :], (-1, K.shape[1]))
    return K


def _khatri_rao_sum(xp, weights, factors):
    """``sum_i w_i * factors[0][:, i] (x) ... (x) factors[-1][:, i]`` as a dense tensor:
    the flattening with the first half of the modes on the rows is
    ``(K_left * w) @ K_right^T`` (column-wise Kronecker products), summed in place over
    blocks of components so that no Kronecker block is larger than ``BLOCK_ENTRIES``."""
    if len(factors) == 1:
        return factors[0] @ weights
    shape = tuple(int(A.shape[0]) for A in factors)
    half = (len(factors) + 1) // 2
    left, right = factors[:half], factors[half:]
    rows, cols_out = math.prod(shape[:half]), math.prod(shape[half:])
    r = int(weights.shape[0])
    step = max(1, BLOCK_ENTRIES // max(rows, cols_out))
    out = xp.zeros((rows, cols_out), dtype=weights.dtype)
    for start in range(0, r, step):
        cols = slice(start, min(r, start + step))
        out += (_khatri_rao(xp, left, cols) * weights[None, cols]) @ _khatri_rao(xp, right,
                                                                                 cols).T
    return xp.reshape(out, shape)


def symmetric_tensor(weights, A, order):
    """The dense symmetric tensor with the given weights and factors.

    ``T = sum_i weights[i] * A[:, i]^{(x) order}``.

    Parameters
    ----------
    weights : array (r,)
        The weights ``lambda_i`` (any sign).
    A : array (d, r)
        The factors, one per column (any norm).
    order : int
        The order ``m >= 1`` of the tensor.

    Returns
    -------
    T : array (d,) * order
        The dense tensor, in the namespace and dtype of the inputs.

    Raises
    ------
    MemoryError
        When ``d**order`` entries would take more than half the machine's memory.

    Notes
    -----
    Backend support: NumPy, CuPy and other array API namespaces.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.tensor import symmetric_tensor
    >>> T = symmetric_tensor(np.array([2.0]), np.array([[1.0], [-1.0]]), 3)
    >>> T[0, 0, 1], T[1, 1, 1]
    (np.float64(-2.0), np.float64(-2.0))
    """
    order = check_int(order, "order", low=1)
    xp, weights, (A,) = _check_factors(weights, [A], "A")
    check_dense_size((A.shape[0],) * order, host_dtype(A.dtype).itemsize,
                     "The tensor")
    return _khatri_rao_sum(xp, weights, [A] * order)


def cp_tensor(weights, factors):
    """The dense tensor of a CP decomposition.

    ``T = sum_i weights[i] * factors[0][:, i] (x) ... (x) factors[-1][:, i]``.

    Parameters
    ----------
    weights : array (r,)
        The weights ``lambda_i``.
    factors : sequence of arrays (d_j, r)
        One factor matrix per mode.

    Returns
    -------
    T : array (d_0, ..., d_{m-1})
        The dense tensor, in the namespace and dtype of the inputs.

    Notes
    -----
    Backend support: NumPy, CuPy and other array API namespaces.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.tensor import cp_tensor
    >>> T = cp_tensor(np.ones(1), [np.ones((2, 1)), np.arange(3.0)[:, None]])
    >>> T.tolist()
    [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    """
    if isinstance(factors, (str, bytes)) or not hasattr(factors, "__len__") or not factors:
        raise TypeError("`factors` must be a non-empty sequence of (d_j, r) arrays; got "
                        f"{type(factors).__name__}.")
    names = [f"factors[{j}]" for j in range(len(factors))]
    xp, weights, factors = _check_factors(weights, list(factors), names)
    shape = tuple(int(A.shape[0]) for A in factors)
    check_dense_size(shape, host_dtype(weights.dtype).itemsize, "The tensor")
    return _khatri_rao_sum(xp, weights, factors)


def symmetrize(T):
    """The symmetric part of ``T``: the mean of ``T`` over all permutations of its modes.

    Parameters
    ----------
    T : array (d,) * m
        A tensor with equal sides.

    Returns
    -------
    array (d,) * m
        ``(1/m!) sum_sigma T.transpose(sigma)``, the orthogonal projection of ``T`` onto
        symmetric tensors.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.tensor import symmetrize
    >>> S = symmetrize(np.arange(8.0).reshape(2, 2, 2))
    >>> bool(np.allclose(S, S.transpose(1, 0, 2)))
    True
    """
    T, xp = input_tensor(T, "T", min_order=1, cubical=True)
    total = xp.zeros_like(T)
    count = 0
    for sigma in itertools.permutations(range(T.ndim)):
        total = total + xp.permute_dims(T, sigma)
        count += 1
    return total / count


def input_tensor(T, name, *, min_order, check_finite=True, cubical=False):
    """Validate a dense tensor (order, real dtype, finiteness, equal sides when
    ``cubical``); returns ``(T, xp)`` with integers promoted to float64."""
    if not hasattr(T, "__array_namespace__") and not isinstance(T, np.ndarray):
        try:
            T = np.asarray(T)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"`{name}` must be an array; got {type(T).__name__}.") from exc
    xp = array_namespace(T)
    if T.ndim < min_order:
        raise ValueError(f"`{name}` must be a tensor of order >= {min_order}; got shape "
                         f"{tuple(T.shape)}.")
    flat, xp = check_matrix(xp.reshape(T, (-1,)), name, allow_sparse=False, ndim=(1,),
                            check_finite=check_finite)
    T = xp.reshape(flat, T.shape)
    if cubical and len(set(T.shape)) != 1:
        raise ValueError(f"`{name}` must have equal sides (d, ..., d); got shape "
                         f"{tuple(T.shape)}.")
    return T, xp


def asymmetry(xp, T, *, exclude_last=False) -> float:
    """``max_j ||T - T with modes j, j+1 swapped||_F / ||T||_F`` (0 for symmetric ``T``;
    adjacent transpositions generate every permutation), over all modes or all but the
    last."""
    scale = float(xp.linalg.vector_norm(xp.reshape(T, (-1,))))
    if scale == 0.0:
        return 0.0
    worst = 0.0
    for j in range(T.ndim - 1 - int(exclude_last)):
        axes = list(range(T.ndim))
        axes[j], axes[j + 1] = axes[j + 1], axes[j]
        diff = xp.reshape(T - xp.permute_dims(T, tuple(axes)), (-1,))
        worst = max(worst, float(xp.linalg.vector_norm(diff)) / scale)
    return worst


def flat_positions(d, rows, cols):
    """Row-major positions in a ``d^(n + k)`` tensor of the index tuples ``rows[p] +
    cols[q]`` (``D_rows x D_cols`` int64)."""
    weights_r = d ** np.arange(rows.shape[1] + cols.shape[1] - 1, cols.shape[1] - 1, -1)
    weights_c = d ** np.arange(cols.shape[1] - 1, -1, -1)
    return (rows @ weights_r)[:, None] + (cols @ weights_c)[None, :]


class DenseSymmetric:
    """A formed symmetric tensor ``T`` (validated) as an SPM operand."""

    def __init__(self, T, xp):
        self.T, self.xp = T, xp
        self.order, self.dim = T.ndim, int(T.shape[0])
        self.dtype = T.dtype

    def flattening(self, n_rows):
        """The compressed flattening ``M[p, q] = sqrt(mu(p)) T[p + q] sqrt(mu(q))`` with
        ``p`` of length ``n_rows`` and ``q`` of length ``order - n_rows``."""
        xp, d = self.xp, self.dim
        rows, cols = multi_indices(d, n_rows), multi_indices(d, self.order - n_rows)
        flat = xp.reshape(self.T, (-1,))
        n_cols = cols.indices.shape[0]
        step = max(1, BLOCK_ENTRIES // n_cols)
        blocks = []
        for start in range(0, rows.indices.shape[0], step):
            pos = flat_positions(d, rows.indices[start:start + step], cols.indices)
            values = xp.take(flat, from_host(xp, pos.ravel(), self.T), axis=0)
            blocks.append(xp.reshape(values, pos.shape))
        M = xp.concat(blocks, axis=0) if len(blocks) > 1 else blocks[0]
        r_scale = from_host(xp, rows.sqrt_mult, self.T, dtype=self.dtype)
        c_scale = from_host(xp, cols.sqrt_mult, self.T, dtype=self.dtype)
        return r_scale[:, None] * M * c_scale[None, :]

    def flattening_shape(self, n_rows):
        return n_sorted(self.dim, n_rows), n_sorted(self.dim, self.order - n_rows)

    def mttkrp(self, A):
        """``out[:, i] = T(., a_i, ..., a_i)`` (``d x r``), over blocks of components."""
        xp, d, m = self.xp, self.dim, self.order
        r = A.shape[1]
        step = max(1, BLOCK_ENTRIES // d ** (m - 1))
        outs = []
        for start in range(0, r, step):
            B = A[:, start:min(start + step, r)]
            Y = xp.reshape(self.T, (-1, d)) @ B
            for _ in range(m - 2):
                Y = xp.sum(xp.reshape(Y, (-1, d, B.shape[1])) * B[None, :, :], axis=1)
            outs.append(Y)
        return xp.concat(outs, axis=1) if len(outs) > 1 else outs[0]

    def norm_squared(self):
        flat = self.xp.reshape(self.T, (-1,))
        return float(self.xp.sum(flat * flat))


def dense_operand(T, *, check_finite, symmetry_tol=None):
    """Validate a dense symmetric tensor for SPM and wrap it."""
    T, xp = input_tensor(T, "T", min_order=3, check_finite=check_finite, cubical=True)
    tol = symmetry_tol
    if tol is None:
        tol = math.sqrt(float(np.finfo(host_dtype(T.dtype)).eps))
    gap = asymmetry(xp, T)
    if gap > tol:
        raise ValueError(
            f"`T` must be symmetric: swapping two modes changes it by {gap:.3g} relative "
            f"to ||T||_F (tolerance {tol:.3g}); symmetrize it with "
            f"lowrank.tensor.symmetrize, or use multi_subspace_power_method for tensors "
            f"that are not symmetric.")
    return DenseSymmetric(T, xp)
