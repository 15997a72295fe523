"""Random sketching operators S (m x n) with ``S @ A``, ``S.T @ Y`` and ``todense()``."""

import math

import numpy as np
import scipy.sparse

from .. import _kernels
from .._backend import (
    device_of,
    from_host,
    host_dtype,
    is_host_sparse,
    is_numpy_namespace,
    is_sparse,
    scatter_rows,
)
from .._rng import check_rng, kernel_seed
from .._threads import threads_for
from .._validation import check_dtype_arg, check_int, check_matrix, check_option

__all__ = [
    "SKETCH_KINDS",
    "CountSketch",
    "GaussianSketch",
    "RademacherSketch",
    "SRHTSketch",
    "SketchOperator",
    "SparseSignSketch",
    "make_sketch",
    "sketch",
]

# Columns of S (rows of A) drawn per block by the dense sketches: fixed, so S does not
# depend on how the product is computed.
_DENSE_BLOCK = 2048
# Entries of S drawn at a time by the dense sketches (8 MiB in float64).
_DENSE_CHUNK = 1 << 20


class SketchOperator:
    """Base class of the m x n sketching operators.

    Subclasses implement ``_apply(A, xp)`` for a dense 2-D ``A`` (n x d) in namespace
    ``xp``, ``_apply_sparse`` for sparse ``A`` and ``_adjoint(Y, xp)`` for ``S^T @ Y``.
    """

    kind = ""

    def __init__(self, sketch_size, n, *, rng=None, dtype=None):
        self.sketch_size = check_int(sketch_size, "sketch_size", low=1)
        self.n = check_int(n, "n", low=1)
        self._dtype = check_dtype_arg(dtype)
        self._rng = check_rng(rng)

    @property
    def shape(self) -> tuple[int, int]:
        """``(sketch_size, n)``."""
        return (self.sketch_size, self.n)

    @property
    def dtype(self):
        """The dtype of ``S`` (float64 unless given; products use the data's float dtype)."""
        return self._dtype if self._dtype is not None else np.dtype(np.float64)

    @property
    def T(self) -> "AdjointSketch":
        """The adjoint operator ``S^T`` (n x m)."""
        return AdjointSketch(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sketch_size={self.sketch_size}, n={self.n})"

    def _check_operand(self, A, rows, name):
        A, xp = check_matrix(A, name, ndim=(1, 2), check_finite=False)
        if A.shape[0] != rows:
            raise ValueError(f"`{name}` must have {rows} rows to match the sketch of shape "
                             f"{self.shape}; got shape {tuple(A.shape)}.")
        return A, xp

    def __matmul__(self, A):
        A, xp = self._check_operand(A, self.n, "A")
        vector = A.ndim == 1
        if is_sparse(A):
            Y = self._apply_sparse(A, xp)
        else:
            Y = self._apply(A[:, None] if vector else A, xp)
        return Y[:, 0] if vector else Y

    def _rmatmul_adjoint(self, Y):
        Y, xp = self._check_operand(Y, self.sketch_size, "Y")
        if is_sparse(Y):
            Y = Y.toarray()
        vector = Y.ndim == 1
        X = self._adjoint(Y[:, None] if vector else Y, xp)
        return X[:, 0] if vector else X

    def todense(self) -> np.ndarray:
        """The m x n matrix S as a dense NumPy array (for tests and small problems)."""
        return self._adjoint(np.eye(self.sketch_size, dtype=self.dtype), np).T.copy()


class AdjointSketch:
    """The adjoint ``S^T`` of a sketch: ``S.T @ Y`` maps m-row data to n rows."""

    def __init__(self, parent: SketchOperator):
        self.parent = parent

    @property
    def shape(self):
        return self.parent.shape[::-1]

    @property
    def dtype(self):
        return self.parent.dtype

    @property
    def T(self) -> SketchOperator:
        return self.parent

    def __matmul__(self, Y):
        return self.parent._rmatmul_adjoint(Y)

    def todense(self) -> np.ndarray:
        return self.parent.todense().T.copy()

    def __repr__(self) -> str:
        return f"{self.parent!r}.T"


class _DenseSketch(SketchOperator):
    """Dense i.i.d. sketch, generated in fixed column blocks from per-block seeds.

    Each m x 2048 column block is drawn in chunks of rows (at most 2^20 entries each)
    from its own stream; the chunks continue one stream, so S is the same matrix however
    it is chunked, and no more than one chunk of S is ever held.
    """

    def __init__(self, sketch_size, n, *, rng=None, dtype=None):
        super().__init__(sketch_size, n, rng=rng, dtype=dtype)
        self._seed = kernel_seed(self._rng)

    def _draw(self, g, rows, width, dtype):
        """The next ``rows x width`` entries of the block stream ``g``."""
        raise NotImplementedError

    def _chunks(self, dtype):
        """``(r0, r1, c0, c1, S[r0:r1, c0:c1])`` over the column blocks and row chunks."""
        for i, c0 in enumerate(range(0, self.n, _DENSE_BLOCK)):
            c1 = min(self.n, c0 + _DENSE_BLOCK)
            g = np.random.default_rng([self._seed, i])
            step = max(1, _DENSE_CHUNK // (c1 - c0))
            for r0 in range(0, self.sketch_size, step):
                r1 = min(self.sketch_size, r0 + step)
                yield r0, r1, c0, c1, self._draw(g, r1 - r0, c1 - c0, dtype)

    def _apply(self, A, xp):
        if is_numpy_namespace(xp):
            Y = np.zeros((self.sketch_size, A.shape[1]), dtype=A.dtype)
            for r0, r1, c0, c1, S in self._chunks(A.dtype):
                Y[r0:r1] += S @ A[c0:c1]
            return Y
        rows = {}
        for r0, _, c0, c1, S in self._chunks(host_dtype(A.dtype)):
            term = from_host(xp, S, A) @ A[c0:c1, :]
            rows[r0] = term if r0 not in rows else rows[r0] + term
        return xp.concat([rows[r0] for r0 in sorted(rows)], axis=0)

    def _apply_sparse(self, A, xp):
        A = A.tocsr()
        if is_host_sparse(A):
            Y = np.zeros((self.sketch_size, A.shape[1]), dtype=A.dtype)
            for r0, r1, c0, c1, S in self._chunks(A.dtype):
                Y[r0:r1] += (A[c0:c1].T @ S.T).T
            return Y
        rows = {}
        for r0, _, c0, c1, S in self._chunks(host_dtype(A.dtype)):
            term = (A[c0:c1, :].T @ from_host(xp, S).T).T
            rows[r0] = term if r0 not in rows else rows[r0] + term
        return xp.concat([rows[r0] for r0 in sorted(rows)], axis=0)

    def _adjoint(self, Y, xp):
        blocks = {}
        for r0, r1, c0, _, S in self._chunks(host_dtype(Y.dtype)):
            term = from_host(xp, S, Y).T @ Y[r0:r1, :]
            blocks[c0] = term if c0 not in blocks else blocks[c0] + term
        return xp.concat([blocks[c0] for c0 in sorted(blocks)], axis=0)


class GaussianSketch(_DenseSketch):
    """Gaussian sketch: i.i.d. N(0, 1/m) entries.

    Parameters
    ----------
    sketch_size : int
        Number of rows ``m`` of the sketch.
    n : int
        Number of columns (rows of the data it is applied to).
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness; the same ``rng`` gives the same S.
    dtype : float32 or float64, optional
        dtype of ``todense()``; products take the dtype of the data.

    Notes
    -----
    S is generated in blocks of 2048 columns from per-block seeds, each drawn in chunks
    of at most 2^20 entries, so ``S @ A`` needs 8 MiB of extra memory besides its result,
    never the whole m x n matrix.  Cost: 2 m n d flops.  With
    m = O(eps^-2 (d + log(1/delta))) it is an eps-subspace embedding, and it is the one
    sketch with a complete proof of the l_inf regression guarantee
    (:func:`lowrank.regression.linf_lstsq`).

    Backend support: NumPy, SciPy sparse, CuPy and any array API namespace (the random
    blocks are drawn on the host and moved to the data's device).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sketch import GaussianSketch
    >>> S = GaussianSketch(40, 1000, rng=0)
    >>> A = np.random.default_rng(1).standard_normal((1000, 5))
    >>> (S @ A).shape
    (40, 5)
    """

    kind = "gaussian"

    def _draw(self, g, rows, width, dtype):
        # Draw in float64 whatever the data's dtype, so that S is the same matrix for
        # float32 and float64 data.
        S = g.standard_normal((rows, width))
        S *= 1.0 / math.sqrt(self.sketch_size)
        return S.astype(dtype, copy=False)


class RademacherSketch(_DenseSketch):
    """Rademacher sketch: i.i.d. entries +-1/sqrt(m) with equal probability.

    Parameters and notes as :class:`GaussianSketch`; cheaper to draw.  Its l_inf
    regression guarantee is empirical only (see :func:`lowrank.regression.linf_lstsq`).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sketch import RademacherSketch
    >>> S = RademacherSketch(8, 20, rng=0)
    >>> np.allclose(np.abs(S.todense()), 1 / np.sqrt(8))
    True
    """

    kind = "rademacher"

    def _draw(self, g, rows, width, dtype):
        bits = g.integers(0, 2, size=(rows, width), dtype=np.int8)
        scale = dtype.type(1.0 / math.sqrt(self.sketch_size))
        return (2 * bits - 1).astype(dtype) * scale


class SRHTSketch(SketchOperator):
    """Subsampled randomized Hadamard transform S = sqrt(N/m) R (H_N / sqrt(N)) D.

    D is a Rademacher diagonal, H_N the N x N Walsh-Hadamard matrix with N the next power
    of two >= n (rows of the data are zero-padded), and R samples m of the N rows
    uniformly without replacement (``sketch_size <= N``).

    Parameters
    ----------
    sketch_size, n, rng, dtype
        As :class:`GaussianSketch`.
    panel : int, default 32
        Columns of the data transformed together (memory: N x panel).

    Notes
    -----
    The n x n transform is never formed: a blocked fast Walsh-Hadamard transform (Numba)
    runs in cache-sized tiles, O(N d log N) additions in about two passes over memory.
    With m = O(eps^-2 (sqrt(d) + sqrt(log n))^2 log d) it is an eps-subspace embedding
    (Tropp 2011).

    Backend support: NumPy and SciPy sparse (Numba kernel); CuPy and other array API
    namespaces (butterfly stages written with array operations).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sketch import SRHTSketch
    >>> S = SRHTSketch(16, 100, rng=0)
    >>> A = np.random.default_rng(1).standard_normal((100, 3))
    >>> np.allclose(S @ A, S.todense() @ A)
    True
    """

    kind = "srht"

    def __init__(self, sketch_size, n, *, rng=None, dtype=None, panel=32):
        super().__init__(sketch_size, n, rng=rng, dtype=dtype)
        self.padded_n = 1 << max(0, (self.n - 1).bit_length())
        if self.sketch_size > self.padded_n:
            raise ValueError(f"`sketch_size` must be <= {self.padded_n} (n padded to a power "
                             f"of two) for the SRHT; got {self.sketch_size}.")
        self.panel = check_int(panel, "panel", low=1)
        self.signs = self._rng.integers(0, 2, size=self.n, dtype=np.int8) * 2 - 1
        self.sampled_rows = np.sort(self._rng.choice(self.padded_n, self.sketch_size,
                                                     replace=False))
        self._scale = 1.0 / math.sqrt(self.sketch_size)

    def _apply(self, A, xp):
        if is_numpy_namespace(xp):
            return self._apply_host(A)
        signs = from_host(xp, self.signs, A, dtype=A.dtype)
        X = xp.zeros((self.padded_n, A.shape[1]), dtype=A.dtype, device=device_of(A))
        X = _set_rows(xp, X, A * signs[:, None], self.n)
        X = _fwht_xp(xp, X)
        rows = from_host(xp, self.sampled_rows, A)
        return xp.take(X, rows, axis=0) * self._scale

    def _apply_sparse(self, A, xp):
        if is_host_sparse(A):
            return self._apply_host(A.tocsc())
        return self._apply(A.toarray(), xp)

    def _apply_host(self, A):
        fwht_rows = _kernels.load("sketch").fwht_rows
        n, d = A.shape
        dtype = A.dtype
        Y = np.empty((self.sketch_size, d), dtype=dtype)
        signs = self.signs.astype(dtype)[:, None]
        width = min(self.panel, d)
        buf = np.empty((self.padded_n, width), dtype=dtype)
        for c0 in range(0, d, width):
            c1 = min(d, c0 + width)
            X = buf if c1 - c0 == width else np.empty((self.padded_n, c1 - c0), dtype=dtype)
            panel = A[:, c0:c1]
            panel = panel.toarray() if is_host_sparse(panel) else panel
            np.multiply(panel, signs, out=X[:n])
            X[n:] = 0
            with threads_for(X.size * self.padded_n.bit_length()):
                fwht_rows(X, _fwht_block_rows(self.padded_n, c1 - c0, dtype))
            np.multiply(X[self.sampled_rows], dtype.type(self._scale), out=Y[:, c0:c1])
        return Y

    def _adjoint(self, Y, xp):
        if is_numpy_namespace(xp):
            fwht_rows = _kernels.load("sketch").fwht_rows
            X = np.zeros((self.padded_n, Y.shape[1]), dtype=Y.dtype)
            X[self.sampled_rows] = Y
            with threads_for(X.size * self.padded_n.bit_length()):
                fwht_rows(X, _fwht_block_rows(self.padded_n, Y.shape[1], Y.dtype))
            return X[: self.n] * (self.signs.astype(Y.dtype)[:, None] * self._scale)
        X = xp.zeros((self.padded_n, Y.shape[1]), dtype=Y.dtype, device=device_of(Y))
        mask = np.zeros(self.padded_n, dtype=bool)
        mask[self.sampled_rows] = True  # sampled_rows is sorted: Y's rows are in mask order
        X = scatter_rows(xp, X, from_host(xp, mask, Y), Y)
        X = _fwht_xp(xp, X)[: self.n, :]
        signs = from_host(xp, self.signs, Y, dtype=Y.dtype)
        return X * (signs[:, None] * self._scale)


class SparseSignSketch(SketchOperator):
    """Sparse sign embedding (SASO/OSNAP): k nonzeros +-1/sqrt(k) per column of S.

    Parameters
    ----------
    sketch_size, n, rng, dtype
        As :class:`GaussianSketch`.
    nnz_per_column : int, optional
        Nonzeros k per column, in distinct rows (``1 <= k <= sketch_size``); default
        ``min(8, sketch_size)``.  k = 1 is CountSketch.

    Notes
    -----
    S is stored as an n x k array of row indices and signs, never as a dense matrix.
    ``S @ A`` costs O(nnz(A) k) with a Numba kernel for dense A (parallel over column
    blocks, so the result does not depend on the thread count) and a sparse product for
    SciPy sparse A.  With m = O(d polylog(d) / eps^2) and k = O(polylog(d) / eps) it is an
    eps-subspace embedding (Cohen 2016); k = 8, m = 3d is the usual preconditioner choice.
    It has no l_inf regression guarantee; CountSketch fails on adversarial inputs.

    Backend support: NumPy, SciPy sparse (Numba / SciPy); CuPy, CuPy sparse and any
    array API namespace (a gather followed by segment sums).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sketch import SparseSignSketch
    >>> S = SparseSignSketch(30, 1000, nnz_per_column=4, rng=0)
    >>> np.count_nonzero(S.todense(), axis=0)[:5]
    array([4, 4, 4, 4, 4])
    """

    kind = "sparse_sign"

    def __init__(self, sketch_size, n, *, rng=None, dtype=None, nnz_per_column=None):
        super().__init__(sketch_size, n, rng=rng, dtype=dtype)
        if nnz_per_column is None:
            nnz_per_column = min(8, self.sketch_size)
        self.nnz_per_column = check_int(nnz_per_column, "nnz_per_column", low=1,
                                        high=self.sketch_size)
        self.rows = _distinct_rows(self._rng, self.n, self.nnz_per_column, self.sketch_size)
        self.signs = (self._rng.integers(0, 2, size=self.rows.shape, dtype=np.int8) * 2 - 1
                      ).astype(np.int8)
        self._scale = 1.0 / math.sqrt(self.nnz_per_column)
        self._csr = None
        self._segments = None

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(sketch_size={self.sketch_size}, n={self.n}, "
                f"nnz_per_column={self.nnz_per_column})")

    def _apply(self, A, xp):
        if is_numpy_namespace(xp):
            kernels = _kernels.load("sketch")
            scale = A.dtype.type(self._scale)
            with threads_for(A.size * self.nnz_per_column):
                if A.flags.f_contiguous and not A.flags.c_contiguous:
                    Y = kernels.sparse_sign_apply_cols(self.rows, self.signs, A.T,
                                                       self.sketch_size).T
                else:
                    A = np.ascontiguousarray(A)
                    Y = kernels.sparse_sign_apply_rows(self.rows, self.signs, A,
                                                       self.sketch_size,
                                                       _column_block(A.shape[1]))
            Y *= scale
            return Y
        return self._apply_segments(A, xp)

    def _apply_segments(self, A, xp):
        # A gather of the rows of A in bucket order, then a sum per bucket by the
        # difference of prefix sums (the array API has no scatter-add).
        src, sgn, starts, ends = self._bucket_segments()
        G = xp.take(A, from_host(xp, src, A), axis=0)
        G = G * from_host(xp, sgn, A, dtype=A.dtype)[:, None]
        C = xp.cumulative_sum(G, axis=0, include_initial=True)
        Y = xp.take(C, from_host(xp, ends, A), axis=0) - xp.take(
            C, from_host(xp, starts, A), axis=0)
        return Y * self._scale

    def _bucket_segments(self):
        if self._segments is None:
            flat = self.rows.reshape(-1)
            order = np.argsort(flat, kind="stable")
            counts = np.bincount(flat, minlength=self.sketch_size)
            ends = np.cumsum(counts)
            self._segments = (order // self.nnz_per_column,
                              self.signs.reshape(-1)[order].astype(np.float64),
                              ends - counts, ends)
        return self._segments

    def _as_scipy(self, dtype):
        if self._csr is None or self._csr.dtype != dtype:
            k = self.nnz_per_column
            data = self.signs.reshape(-1).astype(dtype) * dtype.type(self._scale)
            indptr = np.arange(0, self.n * k + 1, k)
            self._csr = scipy.sparse.csc_matrix(
                (data, self.rows.reshape(-1), indptr), shape=self.shape).tocsr()
        return self._csr

    def _apply_sparse(self, A, xp):
        if is_host_sparse(A):
            return np.asarray((self._as_scipy(A.dtype) @ A.tocsc()).toarray())
        import cupyx.scipy.sparse  # optional dependency, present with cupyx sparse input

        S = cupyx.scipy.sparse.csr_matrix(self._as_scipy(host_dtype(A.dtype)))
        return (S @ A).toarray()

    def _adjoint(self, Y, xp):
        if is_numpy_namespace(xp):
            sparse_sign_adjoint = _kernels.load("sketch").sparse_sign_adjoint
            Y = np.ascontiguousarray(Y)
            with threads_for(self.n * Y.shape[1] * self.nnz_per_column):
                X = sparse_sign_adjoint(self.rows, self.signs, Y, max(1, self.n // 4096))
            X *= Y.dtype.type(self._scale)
            return X
        k = self.nnz_per_column
        G = xp.take(Y, from_host(xp, self.rows.reshape(-1), Y), axis=0)
        G = xp.reshape(G, (self.n, k, Y.shape[1]))
        signs = from_host(xp, self.signs, Y, dtype=Y.dtype)
        return xp.sum(G * signs[:, :, None], axis=1) * self._scale


class CountSketch(SparseSignSketch):
    """CountSketch: a sparse sign embedding with one nonzero +-1 per column.

    The cheapest sketch (one pass, O(nnz(A))); an embedding only with m = O(d^2 / eps^2)
    rows and no l_inf guarantee.  Parameters as :class:`SparseSignSketch` without
    ``nnz_per_column``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sketch import CountSketch
    >>> S = CountSketch(10, 50, rng=0)
    >>> int(np.count_nonzero(S.todense()))
    50
    """

    kind = "countsketch"

    def __init__(self, sketch_size, n, *, rng=None, dtype=None):
        super().__init__(sketch_size, n, rng=rng, dtype=dtype, nnz_per_column=1)


_SKETCH_CLASSES = {
    "gaussian": GaussianSketch,
    "rademacher": RademacherSketch,
    "srht": SRHTSketch,
    "sparse_sign": SparseSignSketch,
    "countsketch": CountSketch,
}

#: The ``kind`` names :func:`make_sketch` accepts.
SKETCH_KINDS = tuple(_SKETCH_CLASSES)


def make_sketch(kind, sketch_size, n, *, rng=None, dtype=None, **options) -> SketchOperator:
    """Construct a sketching operator by name.

    Parameters
    ----------
    kind : {"gaussian", "rademacher", "srht", "sparse_sign", "countsketch"}
        The sketch family.
    sketch_size : int
        Rows ``m`` of the sketch.
    n : int
        Columns of the sketch (rows of the data).
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.
    dtype : float32 or float64, optional
        dtype of ``todense()``.
    **options
        Family options (``nnz_per_column`` for sparse sign, ``panel`` for SRHT).

    Returns
    -------
    SketchOperator
        An m x n operator supporting ``S @ A``, ``S.T @ Y`` and ``S.todense()``.

    Raises
    ------
    ValueError
        Unknown ``kind``, or sizes out of range.
    TypeError
        Unknown option for the family.

    Examples
    --------
    >>> from lowrank.sketch import make_sketch
    >>> make_sketch("sparse_sign", 64, 10_000, rng=0, nnz_per_column=4).shape
    (64, 10000)
    """
    check_option(kind, "kind", SKETCH_KINDS)
    return _SKETCH_CLASSES[kind](sketch_size, n, rng=rng, dtype=dtype, **options)


def sketch(A, sketch_size, *, kind="sparse_sign", rng=None):
    """Return ``S @ A`` for a fresh sketch ``S`` of the given kind.

    Parameters
    ----------
    A : (n, d) array_like or sparse matrix
        Data to sketch (NumPy, SciPy sparse, CuPy or array API array).
    sketch_size : int
        Rows of the sketch.
    kind : str, default "sparse_sign"
        A kind accepted by :func:`make_sketch`.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.

    Returns
    -------
    (sketch_size, d) array
        Dense, in the namespace of ``A`` (NumPy for SciPy sparse input).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sketch import sketch
    >>> A = np.random.default_rng(0).standard_normal((2000, 10))
    >>> sketch(A, 40, kind="srht", rng=0).shape
    (40, 10)
    """
    check_option(kind, "kind", SKETCH_KINDS)
    A, _ = check_matrix(A, "A", ndim=(1, 2))
    S = make_sketch(kind, sketch_size, A.shape[0], rng=rng)
    return S @ A


def _distinct_rows(rng, n, k, m):
    """n x k row indices in [0, m), distinct within each row (Floyd's algorithm)."""
    if m >= 2**31:
        raise ValueError(f"`sketch_size` must be < 2**31 for a sparse sign sketch; got {m}.")
    if k == 1:
        return rng.integers(0, m, size=(n, 1), dtype=np.int32)
    return _kernels.load("sketch").distinct_rows(rng.random((n, k)), m)


def _column_block(d):
    # Column blocks are the parallel tasks of the sparse-sign kernel: 128 columns keep a
    # block of Y in L2; narrower data is split in two so both cores work.
    return 128 if d >= 256 else max(8, -(-d // 2))


def _fwht_block_rows(padded_n, width, dtype):
    limit = max(2, (1 << 18) // (max(width, 1) * np.dtype(dtype).itemsize))
    block = 1 << (limit.bit_length() - 1)
    return min(padded_n, block)


def _fwht_xp(xp, X):
    n, d = X.shape
    h = 1
    while h < n:
        Z = xp.reshape(X, (n // (2 * h), 2, h, d))
        top, bot = Z[:, 0, ...], Z[:, 1, ...]
        X = xp.reshape(xp.stack([top + bot, top - bot], axis=1), (n, d))
        h *= 2
    return X


def _set_rows(xp, X, rows_value, n):
    """``X`` with its first ``n`` rows replaced by ``rows_value`` (zero padding kept)."""
    pad = X.shape[0] - n
    if pad == 0:
        return rows_value
    return xp.concat([rows_value, X[n:, :]], axis=0)
