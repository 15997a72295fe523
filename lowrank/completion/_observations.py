"""Observed entries of a partially known matrix, in row (CSR) and column (CSC) order.

:func:`as_observations` turns every accepted form of ``observed`` (SciPy sparse, a
``(rows, cols, values)`` triple, a dense array with NaN for missing entries) into one
:class:`Observations` layout that the alternating-minimization kernels read row by row
and column by column.  :func:`split_observations` draws a random train/test split and
:func:`load_movielens_small` reads the shipped MovieLens ratings.
"""

import dataclasses
import os
from pathlib import Path

import numpy as np
import scipy.sparse

from .._backend import is_host_sparse, is_sparse, to_float
from .._rng import check_rng
from .._validation import _check_dtype_kind, check_option, check_real, check_shape

__all__ = [
    "MovieLensRatings",
    "Observations",
    "as_observations",
    "load_movielens_small",
    "split_observations",
]

DUPLICATES = ("error", "mean", "sum", "last")
_INT32_LIMIT = 2**31 - 1
MOVIELENS_SHA256 = "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646"
_MOVIELENS_PARTS = ("shared", "data", "ml-latest-small", "ratings.csv")


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class Observations:
    """The observed entries ``M[i, j]``, stored once by row and once by column.

    Build it with :func:`as_observations`.  All arrays are read-only.

    Attributes
    ----------
    shape : tuple of int
        ``(m, n)``, the shape of the partially observed matrix.
    row_ptr, row_cols, row_vals : arrays
        CSR order: the observations of row ``i`` are ``row_cols[row_ptr[i]:row_ptr[i+1]]``
        (ascending) with values ``row_vals[...]``.  ``row_ptr`` is int64 (m + 1,).
    col_ptr, col_rows, col_vals : arrays
        CSC order, likewise: rows ascending within each column; ``col_ptr`` is int64 (n + 1,).
    dtype : numpy.dtype
        float32 or float64, the dtype of the values.

    Notes
    -----
    Index arrays are int32 when ``max(m, n) < 2**31 - 1`` and int64 otherwise.
    """

    shape: tuple
    row_ptr: np.ndarray
    row_cols: np.ndarray
    row_vals: np.ndarray
    col_ptr: np.ndarray
    col_rows: np.ndarray
    col_vals: np.ndarray
    dtype: np.dtype

    @property
    def nnz(self) -> int:
        """Number of observed entries."""
        return int(self.row_cols.shape[0])

    def row_counts(self) -> np.ndarray:
        """Observations per row, int64 (m,)."""
        return np.diff(self.row_ptr)

    def col_counts(self) -> np.ndarray:
        """Observations per column, int64 (n,)."""
        return np.diff(self.col_ptr)

    def coo(self):
        """Return new arrays ``(rows, cols, vals)`` of the observations in CSR order."""
        rows = np.repeat(np.arange(self.shape[0], dtype=self.row_cols.dtype), self.row_counts())
        return rows, self.row_cols.copy(), self.row_vals.copy()

    def to_csr(self) -> scipy.sparse.csr_array:
        """The observations as a new canonical ``scipy.sparse.csr_array`` (zeros kept)."""
        return scipy.sparse.csr_array(
            (self.row_vals.copy(), self.row_cols.copy(), self.row_ptr.copy()), shape=self.shape
        )

    def __repr__(self) -> str:
        return f"Observations(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype})"


def as_observations(observed, *, shape=None, duplicates="error", check_finite=True):
    """Collect the observed entries of a partially known matrix.

    Parameters
    ----------
    observed : SciPy sparse matrix or array, tuple ``(rows, cols, values)``, ndarray or \
Observations
        - SciPy sparse (any format): every stored entry is an observation, explicit
          zeros included.  DIA stores no explicit zeros (SciPy drops them on conversion);
          BSR stores whole blocks, so every entry of a stored block is observed.
        - ``(rows, cols, values)`` (a tuple or list of three 1-D arrays of equal length):
          integer indices and real values; ``shape`` is required.
        - A dense 2-D ``numpy.ndarray``: NaN marks a missing entry, every other entry is
          observed (no NaN means fully observed).
        - :class:`Observations`: returned unchanged.
    shape : tuple of two ints, optional
        ``(m, n)``.  Required for a triple; for the other forms it must match if given.
    duplicates : {"error", "mean", "sum", "last"}
        What to do with repeated ``(row, col)`` pairs (e.g. from sampling with
        replacement): raise ``ValueError`` (default), average them, add them, or keep the
        last one in input order (the order of the triple, or the stored order of a sparse
        matrix).
    check_finite : bool
        Reject NaN and inf among the observed values (for a dense array: reject inf).

    Returns
    -------
    Observations

    Raises
    ------
    TypeError
        Unsupported ``observed``, non-integer indices, complex or non-numeric values.
    ValueError
        Bad ``shape``, indices out of range, arrays of different lengths or not 1-D,
        non-finite values, no observations, duplicates with ``duplicates="error"``.

    Notes
    -----
    Duplicates are detected on the raw coordinates, before any SciPy conversion (COO to
    CSR, ``astype``) could sum them.  Both orders are built by stable LSD radix sorts on
    16-bit digits: ``O(nnz)`` time per digit and ``O(nnz)`` memory; the result does not
    depend on the input order except through ``duplicates="last"``.  No ``m x n`` array is
    formed unless the input is dense.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.completion._observations import as_observations
    >>> obs = as_observations(([1, 0, 1], [2, 1, 0], [3.0, 1.0, 2.0]), shape=(2, 3))
    >>> obs
    Observations(shape=(2, 3), nnz=3, dtype=float64)
    >>> obs.row_ptr, obs.row_cols, obs.col_rows
    (array([0, 1, 3]), array([1, 0, 2], dtype=int32), array([1, 0, 1], dtype=int32))
    >>> as_observations(np.array([[1.0, np.nan], [np.nan, 4.0]])).coo()[2]
    array([1., 4.])
    >>> as_observations(([0, 0], [1, 1], [1.0, 3.0]), shape=(1, 2), duplicates="mean").row_vals
    array([2.])
    """
    if shape is not None:
        shape = check_shape(shape)
    check_option(duplicates, "duplicates", DUPLICATES)
    if isinstance(observed, Observations):
        if shape is not None and shape != observed.shape:
            raise ValueError(f"`shape` must match the shape of `observed`, {observed.shape}; "
                             f"got {shape}.")
        return observed
    rows, cols, vals, shape = _coordinates(observed, shape, check_finite)
    return _build(rows, cols, vals, shape, duplicates)


def split_observations(obs, fraction, *, rng=None):
    """Split observations at random into a training and a test part.

    Parameters
    ----------
    obs : Observations
        From :func:`as_observations`.
    fraction : float
        Probability, in (0, 1), that an observation goes to the test part.
    rng : None, int, numpy.random.Generator, ...
        Randomness; the same ``rng`` gives the same split.

    Returns
    -------
    train, test : Observations
        Disjoint, of the same shape as ``obs``, together holding every observation.

    Notes
    -----
    Observation ``t`` in CSR order (row by row, columns ascending) goes to the test part
    when ``default_rng(rng).random(obs.nnz)[t] < fraction``.  A split in another order
    (e.g. MovieLens file order) is made on the raw arrays; see :class:`MovieLensRatings`.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.completion._observations import as_observations, split_observations
    >>> obs = as_observations(np.arange(20.0).reshape(4, 5))
    >>> train, test = split_observations(obs, 0.25, rng=0)
    >>> train.nnz + test.nnz, train.shape == test.shape == (4, 5)
    (20, True)
    """
    if not isinstance(obs, Observations):
        raise TypeError("`obs` must be an Observations (see as_observations); got "
                        f"{type(obs).__name__}.")
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_open=True,
                          high_open=True)
    test = check_rng(rng).random(obs.nnz) < fraction
    rows, cols, vals = obs.coo()
    parts = []
    for name, mask in (("training", ~test), ("test", test)):
        if not mask.any():
            raise ValueError(f"the {name} part of the split is empty ({obs.nnz} observations, "
                             f"`fraction` = {fraction}); use more observations or another "
                             "fraction.")
        parts.append(_build(rows[mask], cols[mask], vals[mask], obs.shape, "error"))
    return tuple(parts)


def _value_dtype(dtype, name):
    """The working dtype of values: float32/float64 kept, other reals -> float64."""
    _check_dtype_kind(np, np.empty(0, dtype), name)
    return np.dtype(dtype) if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _coordinates(observed, shape, check_finite):
    """Validated raw ``(rows, cols, vals, shape)`` in input order (duplicates kept)."""
    if is_host_sparse(observed):
        if observed.ndim != 2:
            raise ValueError(f"`observed` must be a 2-D sparse matrix; got shape "
                             f"{observed.shape}.")
        dtype = _value_dtype(observed.dtype, "observed")
        given, shape = shape, tuple(int(s) for s in observed.shape)
        # tocoo(copy=False) keeps the stored entries as they are; COO->CSR and astype
        # would sum duplicates, so the values are cast only after the coordinates are read.
        coo = observed.tocoo(copy=False)
        rows, cols, vals = coo.row, coo.col, coo.data
    elif is_sparse(observed):
        raise TypeError("`observed` must be a SciPy sparse matrix, not a CuPy one; got "
                        f"{type(observed).__name__}.")
    elif isinstance(observed, np.ndarray):
        _check_dtype_kind(np, observed, "observed")
        A = to_float(np, observed)
        if A.ndim != 2:
            raise ValueError(f"`observed` must be a 2-D array; got shape {A.shape}.")
        given, shape, dtype = shape, A.shape, A.dtype
        mask = ~np.isnan(A)
        rows, cols = np.nonzero(mask)
        vals = A[mask]
    elif isinstance(observed, (tuple, list)):
        if len(observed) != 3:
            raise TypeError("`observed` given as a tuple must be (rows, cols, values); got "
                            f"{len(observed)} items.")
        if shape is None:
            raise ValueError("`shape` is required when `observed` is (rows, cols, values); "
                             "got None.")
        rows, cols, vals = (np.asarray(a) for a in observed)
        for a, part in ((rows, "rows"), (cols, "cols"), (vals, "values")):
            if a.ndim != 1:
                raise ValueError(f"`observed` {part} must be 1-D; got shape {a.shape}.")
        if not rows.size == cols.size == vals.size:
            raise ValueError("`observed` rows, cols and values must have equal lengths; got "
                             f"{rows.size}, {cols.size} and {vals.size}.")
        for a, part in ((rows, "rows"), (cols, "cols")):
            if a.dtype.kind not in "iu":
                raise TypeError(f"`observed` {part} must be integers; got dtype {a.dtype}.")
        given, dtype = None, _value_dtype(vals.dtype, "observed values")
    else:
        raise TypeError("`observed` must be a SciPy sparse matrix, a tuple (rows, cols, values)"
                        f" or a 2-D NumPy array with NaN for missing entries; got "
                        f"{type(observed).__name__}.")
    if given is not None and given != shape:
        raise ValueError(f"`shape` must match the shape of `observed`, {shape}; got {given}.")
    if vals.size == 0:
        raise ValueError(f"`observed` must contain at least one observation; got none "
                         f"(shape {shape}).")
    for a, part, size in ((rows, "row", shape[0]), (cols, "column", shape[1])):
        lo, hi = a.min(), a.max()
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise ValueError(f"`observed` {part} indices must satisfy 0 <= index < {size}; got "
                             f"{int(bad)} at position {int(np.flatnonzero(a == bad)[0])}.")
    vals = vals.astype(dtype, copy=False)
    if check_finite and not np.isfinite(vals).all():
        pos = int(np.flatnonzero(~np.isfinite(vals))[0])
        raise ValueError(f"`observed` values must be finite; got {vals[pos]} at "
                         f"({int(rows[pos])}, {int(cols[pos])}).")
    return rows.astype(np.int64, copy=False), cols.astype(np.int64, copy=False), vals, shape


def _stable_order(key, n_keys):
    """Stable sorting permutation of integer ``key`` in ``[0, n_keys)``; ``None`` if sorted.

    LSD radix sort on 16-bit digits: NumPy's stable sort of uint16 is a counting sort.
    """
    if key.size < 2 or bool(np.all(key[1:] >= key[:-1])):
        return None
    order = None
    for shift in range(0, (n_keys - 1).bit_length(), 16):
        digit = ((key if order is None else key[order]) >> shift).astype(np.uint16)
        step = np.argsort(digit, kind="stable")
        order = step if order is None else order[step]
    return order


def _take(a, order):
    return a.copy() if order is None else a[order]


def _build(rows, cols, vals, shape, duplicates):
    """Sort by (row, col), resolve duplicates and build both orders."""
    m, n = shape
    if m * n < 2**63:
        order = _stable_order(rows * n + cols, m * n)
    else:  # the combined key would overflow int64
        order = np.lexsort((cols, rows))
    rows, cols, vals = _take(rows, order), _take(cols, order), _take(vals, order)
    same = (rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1])
    if same.any():
        rows, cols, vals = _merge(rows, cols, vals, same, order, duplicates)
    index_dtype = np.int32 if max(m, n) < _INT32_LIMIT else np.int64
    col_order = _stable_order(cols, n)
    arrays = dict(
        row_ptr=_pointers(rows, m), row_cols=cols.astype(index_dtype), row_vals=vals,
        col_ptr=_pointers(cols, n), col_rows=_take(rows, col_order).astype(index_dtype),
        col_vals=_take(vals, col_order),
    )
    for a in arrays.values():
        a.flags.writeable = False
    return Observations(shape=(m, n), dtype=vals.dtype, **arrays)


def _merge(rows, cols, vals, same, order, duplicates):
    """Combine runs of equal (row, col) in sorted arrays; stable order keeps input order."""
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    if duplicates == "error":
        repeats = np.flatnonzero(same) + 1
        positions = repeats if order is None else order[repeats]
        first = int(np.argmin(positions))
        start = starts[np.searchsorted(starts, repeats[first], side="right") - 1]
        earlier = int(start if order is None else order[start])
        n_pairs = int(np.count_nonzero(np.diff(np.concatenate((starts, [rows.size]))) > 1))
        raise ValueError(
            f"`observed` must not repeat a (row, col) pair with duplicates='error'; got "
            f"{n_pairs} duplicated pair(s), e.g. ({int(rows[start])}, {int(cols[start])}) at "
            f"input positions {earlier} and {int(positions[first])}. Pass duplicates='mean', "
            "'sum' or 'last' to combine them."
        )
    if duplicates == "last":
        merged = vals[np.concatenate((starts[1:], [vals.size])) - 1]
    else:
        merged = np.add.reduceat(vals.astype(np.float64), starts)
        if duplicates == "mean":
            merged /= np.diff(np.concatenate((starts, [vals.size])))
        merged = merged.astype(vals.dtype)
    return rows[starts], cols[starts], merged


def _pointers(index, size):
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(index, minlength=size), out=ptr[1:])
    return ptr


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class MovieLensRatings:
    """The MovieLens ml-latest-small ratings, in file order.

    Attributes
    ----------
    user_ids, movie_ids : int64 arrays (nnz,)
        Original ``userId`` and ``movieId`` of each rating.
    rows, cols : int64 arrays (nnz,)
        Re-indexed users ``0..n_users-1`` and movies ``0..n_movies-1``, in increasing id.
    ratings : float64 array (nnz,)
        Half stars, 0.5 to 5.0.
    timestamps : int64 array (nnz,)
        Seconds since the epoch.
    shape : tuple of int
        ``(n_users, n_movies)``.

    Methods
    -------
    to_observations(mask=None)
        The ratings selected by a boolean ``mask`` (all by default) as :class:`Observations`.
    """

    user_ids: np.ndarray
    movie_ids: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray
    shape: tuple

    def to_observations(self, mask=None) -> Observations:
        """The ratings where ``mask`` (boolean, file order) is true, as Observations."""
        keep = slice(None) if mask is None else np.asarray(mask, dtype=bool)
        return as_observations((self.rows[keep], self.cols[keep], self.ratings[keep]),
                               shape=self.shape)

    def __repr__(self) -> str:
        return f"MovieLensRatings(shape={self.shape}, nnz={self.ratings.size})"


def load_movielens_small(path=None) -> MovieLensRatings:
    """Read the MovieLens ml-latest-small ``ratings.csv``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The ``ratings.csv`` file.  By default the environment variable
        ``LOWRANK_MOVIELENS``, else ``shared/data/ml-latest-small/ratings.csv`` in the
        nearest directory above this package that has one.

    Returns
    -------
    MovieLensRatings

    Raises
    ------
    FileNotFoundError
        The file is not found.
    ValueError
        The file does not start with the header ``userId,movieId,rating,timestamp``.

    Notes
    -----
    The data (F. M. Harper and J. A. Konstan, ACM TiiS 5(4):19, 2015) is for research use
    only, under the terms of its README.  The pinned version has sha256
    ``MOVIELENS_SHA256``: 100,836 ratings of 9,724 movies by 610 users.  The reference
    split takes ``numpy.random.default_rng(0).random(nnz) < 0.2`` in file order as the
    test set.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.completion._observations import load_movielens_small
    >>> data = load_movielens_small()  # doctest: +SKIP
    >>> test = np.random.default_rng(0).random(data.ratings.size) < 0.2  # doctest: +SKIP
    >>> train = data.to_observations(~test)  # doctest: +SKIP
    """
    path = _movielens_path(path)
    with open(path, encoding="utf-8", newline="") as f:
        header = f.readline().strip()
    if header != "userId,movieId,rating,timestamp":
        raise ValueError(f"`path` must be a MovieLens ratings.csv with the header "
                         f"userId,movieId,rating,timestamp; got {header!r} in {path}.")
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2,
                       dtype=[("u", np.int64), ("m", np.int64), ("r", np.float64),
                              ("t", np.int64)])
    table = table.reshape(-1)
    users, rows = np.unique(table["u"], return_inverse=True)
    movies, cols = np.unique(table["m"], return_inverse=True)
    return MovieLensRatings(
        user_ids=table["u"].copy(), movie_ids=table["m"].copy(), rows=rows.astype(np.int64),
        cols=cols.astype(np.int64), ratings=table["r"].copy(), timestamps=table["t"].copy(),
        shape=(users.size, movies.size),
    )


def _movielens_path(path):
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"`path` must be the MovieLens ratings.csv; no file at {path}.")
        return path
    env = os.environ.get("LOWRANK_MOVIELENS")
    if env:
        if not Path(env).is_file():
            raise FileNotFoundError(f"LOWRANK_MOVIELENS names {env}, which is not a file.")
        return Path(env)
    here = Path(__file__).resolve().parent
    for folder in here.parents:
        candidate = folder.joinpath(*_MOVIELENS_PARTS)
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "MovieLens ml-latest-small ratings.csv not found: pass `path`, set LOWRANK_MOVIELENS, "
        f"or place it at {'/'.join(_MOVIELENS_PARTS)} in a directory above {here}."
    )
