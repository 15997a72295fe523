"""Tests of as_observations, split_observations and load_movielens_small."""

import hashlib
import itertools

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

from lowrank.completion._observations import (
    MOVIELENS_SHA256,
    Observations,
    as_observations,
    load_movielens_small,
    split_observations,
)
from lowrank.completion._observations import _movielens_path as movielens_path

FORMATS = ["csr", "csc", "coo", "lil", "dok", "bsr"]
CTORS = [scipy.sparse.coo_array, scipy.sparse.coo_matrix]


def entries(obs):
    """The observations as a sorted list of (i, j, v), read from both orders."""
    rows, cols, vals = obs.coo()
    by_row = sorted(zip(rows.tolist(), cols.tolist(), vals.tolist(), strict=True))
    col_ids = np.repeat(np.arange(obs.shape[1]), obs.col_counts())
    by_col = sorted(zip(obs.col_rows.tolist(), col_ids.tolist(), obs.col_vals.tolist(),
                        strict=True))
    assert by_row == by_col
    return by_row


def check_layout(obs):
    m, n = obs.shape
    assert obs.row_ptr.dtype == obs.col_ptr.dtype == np.int64
    assert obs.row_ptr.shape == (m + 1,) and obs.col_ptr.shape == (n + 1,)
    assert obs.row_ptr[0] == obs.col_ptr[0] == 0 and obs.row_ptr[-1] == obs.col_ptr[-1] == obs.nnz
    assert obs.row_cols.dtype == obs.col_rows.dtype == np.int32
    assert obs.row_vals.dtype == obs.col_vals.dtype == obs.dtype
    for ptr, idx in ((obs.row_ptr, obs.row_cols), (obs.col_ptr, obs.col_rows)):
        for a, b in itertools.pairwise(ptr):
            assert np.all(np.diff(idx[a:b]) > 0)  # ascending, hence no duplicates
    entries(obs)


def dense_with_nan(rng, shape, p=0.5, dtype=np.float64):
    A = rng.standard_normal(shape).astype(dtype)
    A[rng.random(shape) > p] = np.nan
    return A


def test_dense_round_trip():
    A = dense_with_nan(np.random.default_rng(0), (7, 5))
    A[0, 0] = 0.0  # an observed zero
    obs = as_observations(A)
    check_layout(obs)
    assert obs.nnz == np.count_nonzero(~np.isnan(A)) and obs.dtype == np.float64
    dense = obs.to_csr().toarray()
    dense[np.isnan(A)] = np.nan
    np.testing.assert_array_equal(dense, A)
    assert obs.to_csr().nnz == obs.nnz
    np.testing.assert_array_equal(obs.row_counts(), (~np.isnan(A)).sum(axis=1))
    np.testing.assert_array_equal(obs.col_counts(), (~np.isnan(A)).sum(axis=0))


def test_dense_without_nan_is_fully_observed():
    obs = as_observations(np.arange(12).reshape(3, 4))
    assert obs.nnz == 12 and obs.dtype == np.float64
    np.testing.assert_array_equal(obs.to_csr().toarray(), np.arange(12).reshape(3, 4))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["array", "matrix"])
def test_sparse_formats_keep_explicit_zeros(fmt, kind):
    rng = np.random.default_rng(1)
    ctor = scipy.sparse.csr_array if kind == "array" else scipy.sparse.csr_matrix
    A = ctor(scipy.sparse.random(6, 8, density=0.4, rng=rng, format="csr"))
    A.data[::3] = 0.0  # explicit zeros are observations
    obs = as_observations(A.asformat(fmt))
    check_layout(obs)
    coo = A.tocoo()
    expected = sorted(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    assert entries(obs) == expected and obs.nnz == A.nnz
    assert obs.to_csr().nnz == A.nnz


def test_dia_and_bsr_stored_entries():
    bsr = scipy.sparse.bsr_array(np.array([[1.0, 0.0], [0.0, 0.0]]), blocksize=(2, 2))
    assert as_observations(bsr).nnz == 4  # a stored block is observed in full
    dia = scipy.sparse.dia_array((np.array([[1.0, 0.0, 3.0]]), [0]), shape=(3, 3))
    assert as_observations(dia).nnz == 2  # DIA has no explicit zeros


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8, bool,
                                   np.float16])
@pytest.mark.parametrize("form", ["tuple", "sparse", "dense"])
def test_dtypes(dtype, form):
    rows, cols = np.array([0, 1, 2]), np.array([1, 0, 1])
    vals = np.array([1, 0, 1]).astype(dtype)
    if form == "sparse" and dtype == np.float16:
        pytest.skip("SciPy sparse has no float16")
    if form == "tuple":
        obs = as_observations((rows, cols, vals), shape=(3, 2))
    elif form == "sparse":
        obs = as_observations(scipy.sparse.coo_array((vals, (rows, cols)), shape=(3, 2)))
    else:
        obs = as_observations(np.ones((3, 2), dtype=dtype))
    expected = dtype if dtype in (np.float32, np.float64) else np.float64
    assert obs.dtype == expected and obs.row_vals.dtype == obs.col_vals.dtype == expected


def test_tuple_forms_and_index_dtypes():
    lists = as_observations([[2, 0], [1, 3], [5.0, 6.0]], shape=(3, 4))
    arrays = as_observations((np.array([2, 0], np.uint16), np.array([1, 3], np.int8),
                              np.array([5.0, 6.0])), shape=[3, 4])
    for obs in (lists, arrays):
        assert entries(obs) == [(0, 3, 6.0), (2, 1, 5.0)] and obs.shape == (3, 4)


def test_observations_pass_through_and_repr():
    obs = as_observations(np.eye(3))
    assert as_observations(obs) is obs and as_observations(obs, shape=(3, 3)) is obs
    with pytest.raises(ValueError, match="`shape` must match"):
        as_observations(obs, shape=(3, 4))
    assert repr(obs) == "Observations(shape=(3, 3), nnz=9, dtype=float64)"


def test_arrays_are_read_only_and_outputs_are_copies():
    vals = np.array([1.0, 2.0])
    obs = as_observations((np.array([0, 1]), np.array([0, 1]), vals), shape=(2, 2))
    with pytest.raises(ValueError):
        obs.row_vals[0] = 5.0
    assert vals.flags.writeable and not np.shares_memory(obs.row_vals, vals)
    out = obs.coo()[2]
    out[0] = 9.0
    obs.to_csr().data[0] = 9.0
    assert obs.row_vals[0] == 1.0
    with pytest.raises(AttributeError):
        obs.shape = (3, 3)


# --- duplicates ---------------------------------------------------------------------------

DUP = (np.array([1, 0, 1, 1, 0]), np.array([2, 0, 2, 2, 1]), np.array([1.0, 5.0, 2.0, 6.0, 0.0]))
DUP_EXPECTED = {"mean": 3.0, "sum": 9.0, "last": 6.0}


@pytest.mark.parametrize("duplicates", ["mean", "sum", "last"])
@pytest.mark.parametrize("form", ["tuple", "coo_array", "coo_matrix", "csr", "csc"])
def test_duplicates(duplicates, form):
    rows, cols, vals = DUP
    if form == "tuple":
        observed = (rows, cols, vals)
    elif form.startswith("coo"):
        observed = getattr(scipy.sparse, form)((vals, (rows, cols)), shape=(2, 3))
    elif form == "csr":  # row 0: cols 0, 1; row 1: col 2 three times, in input order
        observed = scipy.sparse.csr_array((np.array([5.0, 0.0, 1.0, 2.0, 6.0]),
                                           np.array([0, 1, 2, 2, 2]), np.array([0, 2, 5])),
                                          shape=(2, 3))
    else:
        observed = scipy.sparse.csc_array((np.array([5.0, 0.0, 1.0, 2.0, 6.0]),
                                           np.array([0, 0, 1, 1, 1]), np.array([0, 1, 2, 5])),
                                          shape=(2, 3))
    obs = as_observations(observed, shape=(2, 3), duplicates=duplicates)
    check_layout(obs)
    assert entries(obs) == [(0, 0, 5.0), (0, 1, 0.0), (1, 2, DUP_EXPECTED[duplicates])]


@pytest.mark.parametrize("form", ["tuple", "coo", "csr_dup_cols", "int_coo"])
def test_duplicates_error(form):
    rows, cols, vals = DUP
    if form == "tuple":
        observed = (rows, cols, vals)
    elif form == "coo":
        observed = scipy.sparse.coo_array((vals, (rows, cols)), shape=(2, 3))
    elif form == "int_coo":  # astype(float64) would sum these: must be read before casting
        observed = scipy.sparse.coo_matrix((vals.astype(int), (rows, cols)), shape=(2, 3))
    else:
        observed = scipy.sparse.csr_array((np.ones(3), np.array([2, 0, 2]), np.array([0, 0, 3])),
                                          shape=(2, 3))
    msg = r"1 duplicated pair\(s\), e\.g\. \(1, 2\) at input positions [02] and 2.*'mean'"
    with pytest.raises(ValueError, match=msg):
        as_observations(observed, shape=(2, 3))


def test_duplicates_error_counts_pairs_and_names_first_repeat():
    rows = np.array([3, 0, 3, 1, 0, 3])
    cols = np.array([1, 2, 1, 1, 2, 1])
    with pytest.raises(ValueError, match=r"2 duplicated pair\(s\), e\.g\. \(3, 1\) at input "
                                         r"positions 0 and 2"):
        as_observations((rows, cols, np.ones(6)), shape=(4, 3))


def test_duplicates_float32_mean_keeps_dtype():
    obs = as_observations(([0, 0, 0], [1, 1, 1], np.array([1, 2, 4], np.float32)), shape=(1, 2),
                          duplicates="mean")
    assert obs.dtype == np.float32 and obs.row_vals.tolist() == [np.float32(7 / 3)]


# --- errors -------------------------------------------------------------------------------

GOOD = (np.array([0, 1]), np.array([1, 0]), np.array([1.0, 2.0]))


@pytest.mark.parametrize(("observed", "kwargs", "exc", "match"), [
    (GOOD, {}, ValueError, "`shape` is required"),
    (GOOD, {"shape": (2,)}, ValueError, "`shape` must be a pair"),
    (GOOD, {"shape": 4}, ValueError, "`shape` must be a pair"),
    (GOOD, {"shape": (0, 2)}, ValueError, r"`shape\[0\]` must be an integer with shape\[0\] >= 1"),
    (GOOD, {"shape": (2, 2.5)}, TypeError, r"`shape\[1\]` must be an integer"),
    (GOOD, {"shape": (2, 2), "duplicates": "avg"}, ValueError, "`duplicates` must be one of"),
    ((np.array([0.0, 1.0]), GOOD[1], GOOD[2]), {"shape": (2, 2)}, TypeError,
     "rows must be integers; got dtype float64"),
    ((GOOD[0], np.array([True, False]), GOOD[2]), {"shape": (2, 2)}, TypeError,
     "cols must be integers"),
    ((np.array([0, -1]), GOOD[1], GOOD[2]), {"shape": (2, 2)}, ValueError,
     r"row indices must satisfy 0 <= index < 2; got -1 at position 1"),
    ((GOOD[0], np.array([0, 2]), GOOD[2]), {"shape": (2, 2)}, ValueError,
     r"column indices must satisfy 0 <= index < 2; got 2 at position 1"),
    ((GOOD[0], GOOD[1], np.array([1.0, 2.0, 3.0])), {"shape": (2, 2)}, ValueError,
     "equal lengths; got 2, 2 and 3"),
    ((GOOD[0].reshape(2, 1), GOOD[1], GOOD[2]), {"shape": (2, 2)}, ValueError,
     r"rows must be 1-D; got shape \(2, 1\)"),
    ((GOOD[0], GOOD[1], np.array([1.0, np.nan])), {"shape": (2, 2)}, ValueError,
     r"values must be finite; got nan at \(1, 0\)"),
    ((GOOD[0], GOOD[1], np.array([np.inf, 1.0])), {"shape": (2, 2)}, ValueError, "finite"),
    ((GOOD[0], GOOD[1], np.array([1j, 2])), {"shape": (2, 2)}, TypeError, "complex"),
    ((GOOD[0], GOOD[1], np.array(["a", "b"], dtype=object)), {"shape": (2, 2)}, TypeError,
     "real numeric dtype"),
    ((np.array([], int), np.array([], int), np.array([])), {"shape": (2, 2)}, ValueError,
     "at least one observation"),
    ((GOOD[0], GOOD[1]), {"shape": (2, 2)}, TypeError, r"\(rows, cols, values\); got 2 items"),
    (np.full((2, 2), np.nan), {}, ValueError, "at least one observation"),
    (np.array([[1.0, np.inf]]), {}, ValueError, "finite"),
    (np.array([[1.0, 2.0]]), {"shape": (2, 1)}, ValueError, "`shape` must match"),
    (np.ones(3), {}, ValueError, "2-D array"),
    (np.ones((2, 2), complex), {}, TypeError, "complex"),
    (scipy.sparse.csr_array((2, 3)), {}, ValueError, "at least one observation"),
    (scipy.sparse.eye_array(2, format="csr"), {"shape": (3, 2)}, ValueError, "`shape` must match"),
    (scipy.sparse.coo_array(np.ones(3)), {}, ValueError, "2-D sparse"),
    (scipy.sparse.csr_array(np.eye(2, dtype=complex)), {}, TypeError, "complex"),
    (scipy.sparse.csr_array(np.array([[np.nan, 1.0]])), {}, ValueError, "finite"),
    ("matrix", {}, TypeError, "`observed` must be a SciPy sparse matrix"),
    ({"rows": 1}, {}, TypeError, "got dict"),
])
def test_errors(observed, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        as_observations(observed, **kwargs)


def test_check_finite_false_skips_the_check():
    obs = as_observations((GOOD[0], GOOD[1], np.array([np.inf, 1.0])), shape=(2, 2),
                          check_finite=False)
    assert np.isinf(obs.col_vals).any()


def test_validation_before_work():
    # a bad option is reported even when `observed` is also bad (options are checked first)
    with pytest.raises(ValueError, match="`duplicates`"):
        as_observations(GOOD, shape=(2, 2), duplicates="first")


# --- properties ---------------------------------------------------------------------------

@st.composite
def triples(draw):
    m, n = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    cells = draw(st.lists(st.integers(0, m * n - 1), min_size=1, max_size=m * n, unique=True))
    vals = draw(st.lists(st.floats(-1e6, 1e6), min_size=len(cells), max_size=len(cells)))
    cells = np.asarray(cells)
    return cells // n, cells % n, np.asarray(vals), (m, n)


@given(triples())
def test_property_sorted_round_trip(triple):
    rows, cols, vals, shape = triple
    obs = as_observations((rows, cols, vals), shape=shape)
    check_layout(obs)
    order = np.lexsort((cols, rows))
    for got, want in zip(obs.coo(), (rows[order], cols[order], vals[order]), strict=True):
        np.testing.assert_array_equal(got, want)
    dense = np.zeros(shape)
    dense[rows, cols] = vals
    np.testing.assert_array_equal(obs.to_csr().toarray(), dense)
    # determinism: any input order gives the same layout
    perm = np.random.default_rng(len(rows)).permutation(len(rows))
    again = as_observations((rows[perm], cols[perm], vals[perm]), shape=shape)
    for name in ("row_ptr", "row_cols", "row_vals", "col_ptr", "col_rows", "col_vals"):
        np.testing.assert_array_equal(getattr(obs, name), getattr(again, name))


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 300), st.integers(0, 2**32))
def test_property_duplicates_match_scipy_sum(m, n, size, seed):
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, m, size), rng.integers(0, n, size)
    vals = rng.integers(-5, 6, size).astype(float)
    obs = as_observations((rows, cols, vals), shape=(m, n), duplicates="sum")
    check_layout(obs)
    ref = scipy.sparse.coo_array((vals, (rows, cols)), shape=(m, n)).tocsr()  # sums duplicates
    ref.sort_indices()
    np.testing.assert_array_equal(obs.row_ptr, ref.indptr)
    np.testing.assert_array_equal(obs.row_cols, ref.indices)
    np.testing.assert_array_equal(obs.row_vals, ref.data)
    counts = scipy.sparse.coo_array((np.ones(size), (rows, cols)), shape=(m, n)).tocsr()
    counts.sort_indices()
    mean = as_observations((rows, cols, vals), shape=(m, n), duplicates="mean")
    np.testing.assert_allclose(mean.row_vals, ref.data / counts.data, rtol=1e-15)


def test_large_keys_use_several_radix_digits():
    rng = np.random.default_rng(3)
    m, n, size = 300_000, 200_000, 5000  # m * n needs 36 bits: three 16-bit digits
    rows, cols = rng.integers(0, m, size), rng.integers(0, n, size)
    obs = as_observations((rows, cols, np.arange(size, dtype=float)), shape=(m, n),
                          duplicates="last")
    order = np.lexsort((cols, rows))
    keep = np.ones(size, bool)
    keep[:-1] = (rows[order][1:] != rows[order][:-1]) | (cols[order][1:] != cols[order][:-1])
    R, C = rows[order][keep], cols[order][keep]
    np.testing.assert_array_equal(obs.coo()[0], R)
    np.testing.assert_array_equal(obs.coo()[1], C)
    np.testing.assert_array_equal(obs.row_vals, np.arange(size)[order][keep])
    np.testing.assert_array_equal(obs.col_rows, R[np.lexsort((R, C))])


# --- split --------------------------------------------------------------------------------

@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_split(fraction):
    obs = as_observations(dense_with_nan(np.random.default_rng(4), (60, 50)))
    train, test = split_observations(obs, fraction, rng=7)
    check_layout(train)
    check_layout(test)
    assert train.shape == test.shape == obs.shape
    keys = {(i, j) for i, j, _ in entries(train)}
    assert keys.isdisjoint((i, j) for i, j, _ in entries(test))
    assert sorted(entries(train) + entries(test)) == entries(obs)
    assert abs(test.nnz / obs.nnz - fraction) < 0.05
    mask = np.random.default_rng(7).random(obs.nnz) < fraction  # documented: CSR order
    np.testing.assert_array_equal(test.coo()[2], obs.row_vals[mask])
    again = split_observations(obs, fraction, rng=7)[1]
    np.testing.assert_array_equal(again.row_vals, test.row_vals)


@pytest.mark.parametrize(("obs", "fraction", "exc", "match"), [
    (None, 0.0, ValueError, "`fraction` must be a finite number with 0.0 < fraction < 1.0"),
    (None, 1.0, ValueError, "fraction < 1.0; got 1.0"),
    (None, "0.5", TypeError, "`fraction` must be a real number"),
    (np.eye(3), 0.5, TypeError, "`obs` must be an Observations"),
])
def test_split_errors(obs, fraction, exc, match):
    obs = as_observations(np.eye(3)) if obs is None else obs
    with pytest.raises(exc, match=match):
        split_observations(obs, fraction)


def test_split_empty_part():
    obs = as_observations(([0], [0], [1.0]), shape=(1, 1))
    with pytest.raises(ValueError, match="part of the split is empty"):
        split_observations(obs, 0.5, rng=0)


# --- MovieLens ----------------------------------------------------------------------------

def _movielens_or_skip():
    try:
        return movielens_path(None)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def test_movielens_file_and_loader():
    path = _movielens_or_skip()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MOVIELENS_SHA256
    data = load_movielens_small()
    assert data.shape == (610, 9724) and data.ratings.size == 100_836
    assert data.rows.max() == 609 and data.cols.max() == 9723
    assert data.user_ids[0] == 1 and data.movie_ids[0] == 1 and data.ratings[0] == 4.0
    assert data.timestamps[0] == 964982703 and data.movie_ids.max() == 193_609
    assert set(np.unique(data.ratings)) == set(np.arange(1, 11) / 2)
    np.testing.assert_array_equal(np.unique(data.movie_ids)[data.cols], data.movie_ids)
    assert repr(data) == "MovieLensRatings(shape=(610, 9724), nnz=100836)"
    # the reference split of the paper note, in file order
    test = np.random.default_rng(0).random(data.ratings.size) < 0.2
    assert test.sum() == 20_302
    rmse = np.sqrt(np.mean((data.ratings[test] - data.ratings[~test].mean()) ** 2))
    assert round(rmse, 4) == 1.0386
    train = data.to_observations(~test)
    assert train.nnz == 100_836 - 20_302 and train.shape == (610, 9724)
    assert np.count_nonzero(train.col_counts() == 0) == 793


def test_movielens_paths(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no file at"):
        load_movielens_small(tmp_path / "missing.csv")
    monkeypatch.setenv("LOWRANK_MOVIELENS", str(tmp_path / "missing.csv"))
    with pytest.raises(FileNotFoundError, match="LOWRANK_MOVIELENS"):
        load_movielens_small()
    small = tmp_path / "ratings.csv"
    small.write_bytes(b"userId,movieId,rating,timestamp\r\n5,30,4.5,100\r\n2,30,1.0,7\r\n")
    monkeypatch.setenv("LOWRANK_MOVIELENS", str(small))
    data = load_movielens_small()
    assert data.shape == (2, 1) and data.rows.tolist() == [1, 0] and data.cols.tolist() == [0, 0]
    assert data.ratings.tolist() == [4.5, 1.0] and data.timestamps.tolist() == [100, 7]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="header"):
        load_movielens_small(bad)


def test_observations_type_is_frozen_dataclass():
    import dataclasses

    assert dataclasses.is_dataclass(Observations)
    assert Observations.__dataclass_params__.frozen
