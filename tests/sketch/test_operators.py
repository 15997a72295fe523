"""Tests of the sketching operators (SPEC 4.1): :mod:`lowrank.sketch`."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

from lowrank.sketch import (
    CountSketch,
    GaussianSketch,
    RademacherSketch,
    SparseSignSketch,
    SRHTSketch,
    make_sketch,
    sketch,
)
from lowrank.testing import adjoint_test, orthonormal_matrix

KINDS = ["gaussian", "rademacher", "srht", "sparse_sign", "countsketch"]
CLASSES = {
    "gaussian": GaussianSketch,
    "rademacher": RademacherSketch,
    "srht": SRHTSketch,
    "sparse_sign": SparseSignSketch,
    "countsketch": CountSketch,
}


def padded(n):
    """The SRHT's padded size: the next power of two >= n."""
    return 1 << max(0, (n - 1).bit_length())


def reference_tolerance(D, A):
    """Absolute tolerance for comparing ``S @ A`` with ``D @ A`` (different summation order)."""
    D64 = np.asarray(D, dtype=np.float64)
    A64 = np.asarray(A, dtype=np.float64)
    bound = np.abs(D64) @ np.abs(A64)
    return 1e-12 * max(1.0, float(np.max(bound)))


@st.composite
def sketch_operators(draw, kinds=tuple(KINDS), max_n=300, max_m=64):
    """A sketch of a drawn kind with sizes valid for that kind and a drawn seed."""
    kind = draw(st.sampled_from(kinds))
    n = draw(st.integers(1, max_n))
    m_high = min(max_m, padded(n)) if kind == "srht" else max_m
    m = draw(st.integers(1, m_high))
    options = {}
    if kind == "sparse_sign":
        options["nnz_per_column"] = draw(st.integers(1, min(m, 8)))
    seed = draw(st.integers(0, 2**32 - 1))
    return make_sketch(kind, m, n, rng=seed, **options)


data_seeds = st.integers(0, 2**32 - 1)
widths = st.integers(1, 12)


def data_for(S, d, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal((S.shape[1], d)).astype(dtype)


# ---------------------------------------------------------------------------------------
# (a) properties over random sizes
# ---------------------------------------------------------------------------------------


@given(S=sketch_operators(), seed=data_seeds)
def test_adjoint_test_passes(S, seed):
    adjoint_test(S, rng=seed)


@given(S=sketch_operators(), d=widths, seed=data_seeds)
def test_matmul_matches_todense_c_and_fortran_order(S, d, seed):
    A = data_for(S, d, seed)
    D = S.todense()
    ref = D @ A
    tol = reference_tolerance(D, A)
    for X in (np.ascontiguousarray(A), np.asfortranarray(A)):
        Y = S @ X
        assert isinstance(Y, np.ndarray)
        assert Y.shape == (S.shape[0], d)
        np.testing.assert_allclose(Y, ref, rtol=0, atol=tol)


@given(S=sketch_operators(), seed=data_seeds)
def test_matmul_vector(S, seed):
    x = data_for(S, 1, seed)[:, 0]
    y = S @ x
    assert y.shape == (S.shape[0],)
    D = S.todense()
    np.testing.assert_allclose(y, D @ x, rtol=0, atol=reference_tolerance(D, x[:, None]))


@given(S=sketch_operators(), d=widths, seed=data_seeds)
def test_matmul_noncontiguous(S, d, seed):
    B = np.random.default_rng(seed).standard_normal((2 * S.shape[1], 2 * d))
    A = B[::2, ::2]
    D = S.todense()
    np.testing.assert_allclose(S @ A, D @ A, rtol=0, atol=reference_tolerance(D, A))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@given(S=sketch_operators(), d=widths, seed=data_seeds,
       density=st.sampled_from([0.0, 0.05, 0.3, 1.0]))
def test_matmul_sparse(fmt, S, d, seed, density):
    A = scipy.sparse.random(S.shape[1], d, density=density, format=fmt, random_state=seed)
    Y = S @ A
    assert type(Y) is np.ndarray
    assert Y.shape == (S.shape[0], d)
    assert Y.dtype == np.float64
    D = S.todense()
    dense = A.toarray()
    np.testing.assert_allclose(Y, D @ dense, rtol=0, atol=reference_tolerance(D, dense))


@given(S=sketch_operators(), d=widths, seed=data_seeds)
def test_adjoint_matches_todense(S, d, seed):
    Y = np.random.default_rng(seed).standard_normal((S.shape[0], d))
    D = S.todense()
    X = S.T @ Y
    assert X.shape == (S.shape[1], d)
    np.testing.assert_allclose(X, D.T @ Y, rtol=0, atol=reference_tolerance(D.T, Y))
    x = S.T @ Y[:, 0]
    assert x.shape == (S.shape[1],)
    np.testing.assert_allclose(x, X[:, 0], rtol=0, atol=reference_tolerance(D.T, Y))


@given(S=sketch_operators())
def test_shape_dtype_and_transpose(S):
    m, n = S.shape
    assert S.todense().shape == (m, n)
    assert S.todense().dtype == np.float64
    assert S.dtype == np.float64
    assert S.T.shape == (n, m)
    assert S.T.T is S
    np.testing.assert_array_equal(S.T.todense(), S.todense().T)
    assert type(S).__name__ in repr(S)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 5])
def test_float_dtype_is_kept(kind, dtype, d):
    S = make_sketch(kind, 8, 37, rng=d)
    A = data_for(S, d, d, dtype=dtype)
    assert (S @ A).dtype == dtype
    assert (S @ A[:, 0]).dtype == dtype
    assert (S @ scipy.sparse.csr_matrix(A)).dtype == dtype
    assert (S.T @ (S @ A)).dtype == dtype
    assert (S.T @ np.ones(8, dtype=dtype)).dtype == dtype


@pytest.mark.parametrize(
    "kind", KINDS)
def test_float32_data_sees_the_same_operator(kind, global_seed):
    S = make_sketch(kind, 16, 200, rng=global_seed)
    A = np.random.default_rng(global_seed).standard_normal((200, 5))
    A32 = A.astype(np.float32)
    ref = S.todense() @ A32.astype(np.float64)
    np.testing.assert_allclose(S @ A32, ref, rtol=1e-4, atol=1e-4 * np.max(np.abs(ref)))
    Y = np.random.default_rng(global_seed + 1).standard_normal((16, 3))
    ref_adj = S.todense().T @ Y.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(S.T @ Y.astype(np.float32), ref_adj, rtol=1e-4,
                               atol=1e-4 * np.max(np.abs(ref_adj)))


@pytest.mark.parametrize(
    "kind", KINDS)
def test_dtype_argument_sets_todense_dtype_only(kind, global_seed):
    S64 = make_sketch(kind, 8, 50, rng=global_seed)
    S32 = make_sketch(kind, 8, 50, rng=global_seed, dtype=np.float32)
    assert S32.dtype == np.float32
    assert S32.todense().dtype == np.float32
    np.testing.assert_allclose(S32.todense(), S64.todense(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("int_dtype", [np.int8, np.int32, np.int64, np.uint16, np.bool_])
def test_integer_data_promotes_to_float64(kind, int_dtype):
    S = make_sketch(kind, 8, 40, rng=0)
    A = np.random.default_rng(1).integers(0, 2, size=(40, 3)).astype(int_dtype)
    expected = S @ A.astype(np.float64)
    for X in (A, scipy.sparse.csr_matrix(A)):
        Y = S @ X
        assert Y.dtype == np.float64
        np.testing.assert_allclose(Y, expected, rtol=1e-14, atol=1e-14)
    X = S.T @ np.ones((8, 2), dtype=int_dtype)
    assert X.dtype == np.float64


@given(S=sketch_operators(), d=widths, seed=data_seeds)
def test_list_input_is_accepted(S, d, seed):
    A = data_for(S, d, seed)
    np.testing.assert_array_equal(S @ A.tolist(), S @ A)


@given(kind=st.sampled_from(KINDS), n=st.integers(1, 300), seed=data_seeds)
def test_same_rng_gives_same_sketch(kind, n, seed):
    m = min(8, padded(n))
    S1 = make_sketch(kind, m, n, rng=seed, **_k(kind, m))
    S2 = make_sketch(kind, m, n, rng=seed, **_k(kind, m))
    S3 = make_sketch(kind, m, n, rng=np.random.default_rng(seed), **_k(kind, m))
    S4 = make_sketch(kind, m, n, rng=np.random.SeedSequence(seed), **_k(kind, m))
    D = S1.todense()
    for other in (S2, S3, S4):
        np.testing.assert_array_equal(other.todense(), D)
    A = np.random.default_rng(seed).standard_normal((n, 3))
    np.testing.assert_array_equal(S1 @ A, S2 @ A)


@given(kind=st.sampled_from(KINDS), n=st.integers(64, 300), seed=st.integers(0, 2**31))
def test_different_rng_gives_different_sketch(kind, n, seed):
    # n >= 64 and m = 16: two independent draws coincide with probability < 2^-60.
    S1 = make_sketch(kind, 16, n, rng=seed)
    S2 = make_sketch(kind, 16, n, rng=seed + 1)
    assert not np.array_equal(S1.todense(), S2.todense())


def _k(kind, m):
    return {"nnz_per_column": min(4, m)} if kind == "sparse_sign" else {}


@given(n=st.integers(1, 300), m=st.integers(1, 40), data=st.data())
def test_sparse_sign_structure(n, m, data):
    k = data.draw(st.integers(1, min(m, 8)), label="nnz_per_column")
    seed = data.draw(data_seeds, label="seed")
    S = SparseSignSketch(m, n, nnz_per_column=k, rng=seed)
    D = S.todense()
    # Exactly k nonzeros in every column, so the k rows are distinct (a repeated row
    # would either cancel or show a value of 2/sqrt(k)).
    np.testing.assert_array_equal(np.count_nonzero(D, axis=0), np.full(n, k))
    np.testing.assert_allclose(np.abs(D[D != 0]), 1 / np.sqrt(k), rtol=1e-15)


@given(n=st.integers(1, 300), m=st.integers(1, 40), seed=data_seeds)
def test_countsketch_structure(n, m, seed):
    D = CountSketch(m, n, rng=seed).todense()
    np.testing.assert_array_equal(np.count_nonzero(D, axis=0), np.ones(n))
    np.testing.assert_array_equal(np.abs(D[D != 0]), 1.0)
    np.testing.assert_array_equal(D, SparseSignSketch(m, n, nnz_per_column=1,
                                                      rng=seed).todense())


@given(n=st.integers(1, 100), data=st.data())
def test_srht_matches_hadamard_definition(n, data):
    N = padded(n)
    m = data.draw(st.integers(1, N), label="sketch_size")
    seed = data.draw(data_seeds, label="seed")
    S = SRHTSketch(m, n, rng=seed)
    assert S.padded_n == N
    H = scipy.linalg.hadamard(N).astype(np.float64)
    # D: the n x n Rademacher diagonal, zero-padded to N x n (the padding of A's rows).
    D = np.zeros((N, n))
    D[np.arange(n), np.arange(n)] = S.signs
    assert set(np.unique(S.signs)) <= {-1, 1}
    R = np.eye(N)[S.sampled_rows]
    assert len(set(S.sampled_rows.tolist())) == m
    expected = np.sqrt(N / m) * R @ H @ D / np.sqrt(N)
    np.testing.assert_allclose(S.todense(), expected, rtol=0, atol=1e-13)


@given(n=st.integers(1, 300), panel=st.integers(1, 40), d=st.integers(1, 80),
       seed=data_seeds)
def test_srht_panel_width_does_not_change_the_operator(n, panel, d, seed):
    m = min(16, padded(n))
    S = SRHTSketch(m, n, rng=seed)
    Sp = SRHTSketch(m, n, rng=seed, panel=panel)
    np.testing.assert_array_equal(Sp.todense(), S.todense())
    A = np.random.default_rng(seed).standard_normal((n, d))
    np.testing.assert_allclose(Sp @ A, S @ A, rtol=0, atol=reference_tolerance(S.todense(), A))


def test_gaussian_entries_have_variance_one_over_m(global_seed):
    m, n = 64, 5000  # three column blocks of the blocked generator
    D = GaussianSketch(m, n, rng=global_seed).todense()
    x = D.ravel() * np.sqrt(m)  # standard normal if the scale is right
    # Sample of 320000: mean sd 0.0018, variance sd 0.0025, kurtosis sd 0.009.
    assert abs(x.mean()) < 0.01
    assert abs(x.var() - 1) < 0.015
    assert abs(np.mean(x**4) / x.var() ** 2 - 3) < 0.06
    # Column blocks come from different streams, not repeated.
    assert not np.allclose(D[:, :100], D[:, 2048:2148])


def test_rademacher_entries_are_plus_minus_one_over_sqrt_m(global_seed):
    m, n = 64, 5000
    D = RademacherSketch(m, n, rng=global_seed).todense()
    np.testing.assert_allclose(np.abs(D), 1 / np.sqrt(m), rtol=1e-15)
    # Fraction of +1 over 320000 entries: sd 0.0009.
    assert abs(np.mean(D > 0) - 0.5) < 0.005
    assert not np.array_equal(D[:, :100], D[:, 2048:2148])


@pytest.mark.parametrize("kind", KINDS)
def test_isometry_in_expectation(kind):
    # E[S^T S] = I: average ||S x||^2 over 200 independent sketches of a fixed unit x.
    n = 64
    x = np.random.default_rng(0).standard_normal(n)
    x /= np.linalg.norm(x)
    m = 16
    norms = [np.linalg.norm(make_sketch(kind, m, n, rng=s, **_k(kind, m)) @ x) ** 2
             for s in range(200)]
    # ||S x||^2 has variance about 2/m for the dense sketches: mean sd ~ 0.025.
    assert abs(np.mean(norms) - 1) < 0.15


# ---------------------------------------------------------------------------------------
# (b) subspace embedding over a fixed seed list
# ---------------------------------------------------------------------------------------

EMBED_N, EMBED_D = 2048, 10
EMBED_SEEDS = list(range(20))
EMBED_EPS = 0.5
# A fixed seed list with a stated failure allowance: at most 1 of the 20 seeds may give
# a distortion above EMBED_EPS.  Observed worst distortions are about 0.26 (0.18 for
# CountSketch), so failures mean a broken operator, not bad luck.
EMBED_ALLOWED_FAILURES = 1
EMBED_SIZES = {
    "gaussian": (20 * EMBED_D, {}),
    "rademacher": (20 * EMBED_D, {}),
    "srht": (20 * EMBED_D, {}),
    "sparse_sign": (20 * EMBED_D, {"nnz_per_column": 8}),
    "countsketch": (4 * EMBED_D**2, {}),
}


def _distortion(S, U):
    s = np.linalg.svd(S @ U, compute_uv=False)
    return max(s.max() - 1, 1 - s.min())


@pytest.mark.parametrize("kind", KINDS)
def test_subspace_embedding_incoherent(kind):
    m, options = EMBED_SIZES[kind]
    # One fixed subspace; the guarantee is over the draw of S.
    U = orthonormal_matrix(EMBED_N, EMBED_D, rng=2024)
    failures = []
    for seed in EMBED_SEEDS:
        S = make_sketch(kind, m, EMBED_N, rng=seed, **options)
        dist = _distortion(S, U)
        if dist > EMBED_EPS:
            failures.append((seed, dist))
    assert len(failures) <= EMBED_ALLOWED_FAILURES, failures


# CountSketch is left out: on coordinate vectors it fails whenever two of the d columns
# hash to the same row (probability about d^2 / (2m) = 1/8 per seed).
@pytest.mark.parametrize("kind", ["gaussian", "rademacher", "srht", "sparse_sign"])
def test_subspace_embedding_coherent(kind):
    m, options = EMBED_SIZES[kind]
    U = np.zeros((EMBED_N, EMBED_D))
    U[np.arange(EMBED_D), np.arange(EMBED_D)] = 1.0
    failures = []
    for seed in EMBED_SEEDS:
        dist = _distortion(make_sketch(kind, m, EMBED_N, rng=seed, **options), U)
        if dist > EMBED_EPS:
            failures.append((seed, dist))
    assert len(failures) <= EMBED_ALLOWED_FAILURES, failures


# ---------------------------------------------------------------------------------------
# (c) results independent of the number of Numba threads
# ---------------------------------------------------------------------------------------

_THREADS_SCRIPT = textwrap.dedent("""
    import hashlib, json, sys
    import numpy as np
    from lowrank.sketch import make_sketch

    def digest(Y):
        Y = np.asarray(Y)
        head = f"{Y.dtype.str}{Y.shape}".encode()
        return hashlib.sha256(head + np.ascontiguousarray(Y).tobytes()).hexdigest()

    rng = np.random.default_rng(12345)
    # d = 300: three 128-column blocks for the sparse-sign kernel, ten 32-column panels
    # and eight tiles per panel for the SRHT's FWHT; n = 9000 gives two row blocks for
    # the sparse-sign adjoint.
    A = rng.standard_normal((5000, 300))
    A9 = rng.standard_normal((9000, 300))
    out = {}
    for kind in ("srht", "sparse_sign"):
        S = make_sketch(kind, 600, 5000, rng=7)
        Y = S @ A
        out[f"{kind}-C"] = digest(Y)
        out[f"{kind}-F"] = digest(S @ np.asfortranarray(A))
        out[f"{kind}-adjoint"] = digest(S.T @ Y)
        S9 = make_sketch(kind, 600, 9000, rng=7)
        Y9 = S9 @ A9
        out[f"{kind}-9000"] = digest(Y9)
        out[f"{kind}-9000-adjoint"] = digest(S9.T @ Y9)
    json.dump(out, sys.stdout)
""")


def test_results_independent_of_numba_threads():
    procs = {}
    for threads in (1, 2):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
        procs[threads] = subprocess.Popen(
            [sys.executable, "-c", _THREADS_SCRIPT], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    results = {}
    for threads, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        results[threads] = json.loads(stdout)
    assert results[1] == results[2]


# ---------------------------------------------------------------------------------------
# (d) array API namespaces (array_api_strict always; CuPy when present)
# ---------------------------------------------------------------------------------------


def to_numpy(x):
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return x.get()
    return np.asarray(x)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [1, 37, 64, 300])
def test_array_namespace_in_namespace_out(xp, kind, n):
    m = min(16, padded(n))
    S = make_sketch(kind, m, n, rng=3, **_k(kind, m))
    rng = np.random.default_rng(4)
    A = rng.standard_normal((n, 5))
    Y = rng.standard_normal((m, 4))
    ref_apply = S @ A
    ref_adjoint = S.T @ Y
    array_type = type(xp.asarray(A))

    out = S @ xp.asarray(A)
    assert type(out) is array_type
    assert out.dtype == xp.float64
    assert tuple(out.shape) == (m, 5)
    np.testing.assert_allclose(to_numpy(out), ref_apply, rtol=1e-12,
                               atol=reference_tolerance(S.todense(), A))

    out = S @ xp.asarray(A[:, 0])
    assert type(out) is array_type
    assert tuple(out.shape) == (m,)
    np.testing.assert_allclose(to_numpy(out), ref_apply[:, 0], rtol=1e-12,
                               atol=reference_tolerance(S.todense(), A))

    out = S.T @ xp.asarray(Y)
    assert type(out) is array_type
    assert tuple(out.shape) == (n, 4)
    np.testing.assert_allclose(to_numpy(out), ref_adjoint, rtol=1e-12,
                               atol=reference_tolerance(S.todense().T, Y))

    out = S.T @ xp.asarray(Y[:, 0])
    assert type(out) is array_type
    np.testing.assert_allclose(to_numpy(out), ref_adjoint[:, 0], rtol=1e-12,
                               atol=reference_tolerance(S.todense().T, Y))


@pytest.mark.parametrize(
    "kind", KINDS)
def test_array_namespace_float32(xp, kind):
    S = make_sketch(kind, 16, 100, rng=5, **_k(kind, 16))
    A = np.random.default_rng(6).standard_normal((100, 3)).astype(np.float32)
    out = S @ xp.asarray(A)
    assert out.dtype == xp.float32
    ref = S.todense() @ A.astype(np.float64)
    np.testing.assert_allclose(to_numpy(out), ref, rtol=1e-4, atol=1e-4 * np.max(np.abs(ref)))
    back = S.T @ out
    assert back.dtype == xp.float32


@pytest.mark.parametrize("kind", KINDS)
def test_array_namespace_dtypes(xp, kind):
    S = make_sketch(kind, 16, 100, rng=5, **_k(kind, 16))
    A = np.random.default_rng(6).integers(-3, 4, size=(100, 3))
    assert (S @ xp.asarray(A.astype(np.float32))).dtype == xp.float32
    out = S @ xp.asarray(A.astype(np.int32))
    assert out.dtype == xp.float64
    np.testing.assert_allclose(to_numpy(out), S @ A.astype(np.float64), rtol=1e-12,
                               atol=1e-12)
    with pytest.raises(TypeError, match="real"):
        S @ xp.asarray(A.astype(np.complex128))


@pytest.mark.gpu
@pytest.mark.parametrize("xp", ["cupy"], indirect=True)
class TestCuPy:
    """CuPy in -> CuPy out, on the device, for every kind (skipped without CuPy/GPU)."""

    @pytest.mark.parametrize("kind", KINDS)
    def test_dense(self, xp, kind):
        S = make_sketch(kind, 32, 1000, rng=0, **_k(kind, 32))
        A = np.random.default_rng(1).standard_normal((1000, 7))
        for dtype in (np.float64, np.float32):
            out = S @ xp.asarray(A.astype(dtype))
            assert isinstance(out, xp.ndarray)
            assert out.dtype == dtype
            if dtype == np.float64:
                np.testing.assert_allclose(out.get(), S @ A, rtol=1e-10, atol=1e-10)
        Y = np.random.default_rng(2).standard_normal((32, 3))
        back = S.T @ xp.asarray(Y)
        assert isinstance(back, xp.ndarray)
        np.testing.assert_allclose(back.get(), S.T @ Y, rtol=1e-10, atol=1e-10)

    @pytest.mark.parametrize("kind", KINDS)
    def test_sparse(self, xp, kind):
        cupy_sparse = pytest.importorskip("cupyx.scipy.sparse")
        S = make_sketch(kind, 32, 1000, rng=0, **_k(kind, 32))
        A = scipy.sparse.random(1000, 6, density=0.05, format="csr", random_state=3)
        out = S @ cupy_sparse.csr_matrix(A)
        assert isinstance(out, xp.ndarray)
        np.testing.assert_allclose(out.get(), S @ A, rtol=1e-10, atol=1e-10)

    def test_sketch_function(self, xp):
        A = np.random.default_rng(1).standard_normal((500, 4))
        for kind in KINDS:
            out = sketch(xp.asarray(A), 32, kind=kind, rng=0)
            assert isinstance(out, xp.ndarray)
            np.testing.assert_allclose(out.get(), sketch(A, 32, kind=kind, rng=0),
                                       rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------------------
# (e) bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Gaussian", "sparse-sign", "", "hadamard", None, 3])
def test_unknown_kind(kind):
    with pytest.raises(ValueError, match="`kind`"):
        make_sketch(kind, 4, 10)
    with pytest.raises(ValueError, match="`kind`"):
        sketch(np.ones((10, 2)), 4, kind=kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size, error", [
    (0, ValueError), (-3, ValueError), (2.5, TypeError), (4.0, TypeError),
    ("4", TypeError), (None, TypeError),
])
def test_bad_sketch_size(kind, size, error):
    with pytest.raises(error, match="`sketch_size`"):
        make_sketch(kind, size, 10)
    with pytest.raises(error, match="`sketch_size`"):
        CLASSES[kind](size, 10)


def test_bool_sketch_size_rejected():
    with pytest.raises(TypeError, match="`sketch_size`"):
        make_sketch("gaussian", True, 10)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n, error", [(0, ValueError), (2.0, TypeError)])
def test_bad_n(kind, n, error):
    with pytest.raises(error, match="`n`"):
        make_sketch(kind, 1, n)


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_number_of_rows(kind):
    S = make_sketch(kind, 4, 10, **_k(kind, 4))
    for A in (np.ones((11, 2)), np.ones((9, 2)), np.ones(11), scipy.sparse.csr_matrix((9, 2)),
              np.ones((2, 10))):
        with pytest.raises(ValueError, match=r"`A`.*10 rows"):
            S @ A
    with pytest.raises(ValueError, match=r"`Y`.*4 rows"):
        S.T @ np.ones((10, 2))


@pytest.mark.parametrize("kind", KINDS)
def test_bad_dimensions_and_empty(kind):
    S = make_sketch(kind, 4, 10, **_k(kind, 4))
    with pytest.raises(ValueError, match="`A`"):
        S @ np.ones((10, 2, 2))
    with pytest.raises(ValueError, match="`A`"):
        S @ np.float64(1.0)
    with pytest.raises(ValueError, match="`A`"):
        S @ np.ones((10, 0))


@pytest.mark.parametrize("kind", KINDS)
def test_complex_and_object_data(kind):
    S = make_sketch(kind, 4, 10, **_k(kind, 4))
    with pytest.raises(TypeError, match="`A`"):
        S @ np.ones((10, 2), dtype=np.complex128)
    with pytest.raises(TypeError, match="`A`"):
        S @ np.ones((10, 2), dtype=np.complex64)
    with pytest.raises(TypeError, match="`A`"):
        S @ scipy.sparse.csr_matrix(np.ones((10, 2), dtype=np.complex128))
    with pytest.raises(TypeError, match="`A`"):
        S @ np.ones((10, 2), dtype=object)
    with pytest.raises(TypeError, match="`A`"):
        S @ np.full((10, 2), "x")
    with pytest.raises(TypeError, match="`Y`"):
        S.T @ np.ones((4, 2), dtype=np.complex128)
    with pytest.raises(TypeError, match="`A`"):
        sketch(np.ones((10, 2), dtype=np.complex128), 4, kind=kind)


@pytest.mark.parametrize("k", [5, 100])
def test_nnz_per_column_above_sketch_size(k):
    with pytest.raises(ValueError, match="`nnz_per_column`"):
        SparseSignSketch(4, 10, nnz_per_column=k)
    with pytest.raises(ValueError, match="`nnz_per_column`"):
        make_sketch("sparse_sign", 4, 10, nnz_per_column=k)


@pytest.mark.parametrize("k, error", [(0, ValueError), (1.5, TypeError)])
def test_bad_nnz_per_column(k, error):
    with pytest.raises(error, match="`nnz_per_column`"):
        SparseSignSketch(4, 10, nnz_per_column=k)


@pytest.mark.parametrize("n", [1, 10, 16, 17, 1000])
def test_srht_sketch_size_above_padded_n(n):
    N = padded(n)
    assert SRHTSketch(N, n).shape == (N, n)
    with pytest.raises(ValueError, match="`sketch_size`"):
        SRHTSketch(N + 1, n)
    with pytest.raises(ValueError, match="`sketch_size`"):
        make_sketch("srht", N + 1, n)


def test_bad_options():
    with pytest.raises(TypeError):
        make_sketch("gaussian", 4, 10, nnz_per_column=2)
    with pytest.raises(TypeError):
        make_sketch("countsketch", 4, 10, nnz_per_column=2)
    with pytest.raises(TypeError):
        make_sketch("sparse_sign", 4, 10, panel=2)
    with pytest.raises(ValueError, match="`panel`"):
        make_sketch("srht", 4, 10, panel=0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.int32, np.complex128, "float16", object])
def test_bad_dtype_argument(kind, dtype):
    with pytest.raises(TypeError, match="`dtype`"):
        make_sketch(kind, 4, 10, dtype=dtype)


@pytest.mark.parametrize("rng", [np.random.RandomState(0), "seed", 1.5])
def test_bad_rng(rng):
    with pytest.raises(TypeError, match="`rng`"):
        make_sketch("gaussian", 4, 10, rng=rng)


# ---------------------------------------------------------------------------------------
# (f) the ``sketch`` convenience function
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_sketch_function_matches_operator(kind, global_seed):
    A = np.random.default_rng(global_seed).standard_normal((300, 6))
    Y = sketch(A, 24, kind=kind, rng=global_seed)
    S = make_sketch(kind, 24, 300, rng=global_seed)
    np.testing.assert_array_equal(Y, S @ A)
    np.testing.assert_array_equal(sketch(A[:, 0], 24, kind=kind, rng=global_seed), S @ A[:, 0])
    Ys = sketch(scipy.sparse.csr_matrix(A), 24, kind=kind, rng=global_seed)
    assert type(Ys) is np.ndarray
    np.testing.assert_allclose(Ys, Y, rtol=1e-12, atol=1e-12)
    assert sketch(A.astype(np.float32), 24, kind=kind, rng=global_seed).dtype == np.float32


def test_sketch_function_default_kind_is_sparse_sign():
    A = np.random.default_rng(0).standard_normal((300, 6))
    np.testing.assert_array_equal(sketch(A, 24, rng=1),
                                  SparseSignSketch(24, 300, rng=1) @ A)


def test_sketch_function_validates():
    with pytest.raises(ValueError, match="`sketch_size`"):
        sketch(np.ones((10, 2)), 0)
    with pytest.raises(ValueError, match="`A`"):
        sketch(np.ones((10, 2, 2)), 4, kind="gaussian")
    with pytest.raises(ValueError, match="`A`"):
        sketch(np.full((10, 2), np.nan), 4, kind="gaussian")


def test_sketch_function_small_sketch_size_default_kind():
    A = np.random.default_rng(0).standard_normal((100, 2))
    assert sketch(A, 4, rng=0).shape == (4, 2)

