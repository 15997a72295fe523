"""Tests of the public generators and checks in :mod:`lowrank.testing`."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lowrank.testing import (
    LstsqProblem,
    adjoint_test,
    assert_orthonormal,
    coherence,
    low_rank_matrix,
    lstsq_problem,
    observation_mask,
    orthonormal_matrix,
    sparse_corruption,
)

seeds = st.integers(0, 2**32 - 1)


@st.composite
def spectra(draw, max_dim=60):
    """A shape, a rank and a spectrum of positive singular values for that rank."""
    m = draw(st.integers(1, max_dim))
    n = draw(st.integers(1, max_dim))
    k = draw(st.integers(1, min(m, n)))
    s = draw(st.lists(st.floats(1e-3, 1e3), min_size=k, max_size=k))
    return (m, n), k, np.array(s)


def top_singular_basis(M, k):
    U, s, Vt = np.linalg.svd(M)
    return U[:, :k], s, Vt[:k].T


# ---------------------------------------------------------------------------------------
# orthonormal_matrix, coherence
# ---------------------------------------------------------------------------------------


@given(n=st.integers(1, 80), data=st.data())
def test_orthonormal_matrix(n, data):
    k = data.draw(st.integers(1, n), label="k")
    seed = data.draw(seeds, label="seed")
    Q = orthonormal_matrix(n, k, rng=seed)
    assert Q.shape == (n, k)
    assert Q.dtype == np.float64
    assert_orthonormal(Q)
    np.testing.assert_array_equal(Q, orthonormal_matrix(n, k, rng=seed))


def test_orthonormal_matrix_float32():
    Q = orthonormal_matrix(50, 5, rng=0, dtype=np.float32)
    assert Q.dtype == np.float32
    assert_orthonormal(Q)


def test_coherence_extremes():
    n, k = 64, 4
    assert coherence(np.eye(n)[:, :k]) == pytest.approx(n / k)
    assert coherence(np.ones((n, 1))) == pytest.approx(1.0)
    # A basis of the same span gives the same coherence.
    U = orthonormal_matrix(n, k, rng=0)
    G = np.random.default_rng(1).standard_normal((k, k))
    assert coherence(U @ G) == pytest.approx(coherence(U))
    assert 1.0 <= coherence(U) <= n / k


# ---------------------------------------------------------------------------------------
# low_rank_matrix
# ---------------------------------------------------------------------------------------


@given(problem=spectra(), seed=seeds)
def test_low_rank_matrix_has_the_given_spectrum(problem, seed):
    shape, k, s = problem
    M = low_rank_matrix(shape, k, singular_values=s, rng=seed)
    assert M.shape == shape
    assert M.dtype == np.float64
    sv = np.linalg.svd(M, compute_uv=False)
    np.testing.assert_allclose(sv[:k], np.sort(s)[::-1], rtol=1e-10)
    assert np.all(sv[k:] <= 1e-10 * s.max())


@pytest.mark.parametrize("shape, rank", [((30, 20), 3), ((50, 50), 7), ((10, 80), 1)])
@pytest.mark.parametrize("cond", [1.0, 10.0, 1e6])
def test_low_rank_matrix_rank_and_cond(shape, rank, cond, global_seed):
    M = low_rank_matrix(shape, rank, cond=cond, rng=global_seed)
    sv = np.linalg.svd(M, compute_uv=False)
    assert sv[0] == pytest.approx(1.0, rel=1e-10)
    if rank > 1:  # one singular value: nothing to condition
        assert sv[0] / sv[rank - 1] == pytest.approx(cond, rel=1e-6)
    assert np.all(sv[rank:] <= 1e-12)
    if cond < 1e6:
        assert np.linalg.matrix_rank(M) == rank
    # Geometric spacing by default.
    ratios = sv[1:rank] / sv[: rank - 1]
    np.testing.assert_allclose(ratios, cond ** (-1 / max(rank - 1, 1)), rtol=1e-6)


@pytest.mark.parametrize("shape, rank, target", [
    ((200, 100), 5, 5.0),
    ((200, 100), 5, 10.0),
    ((200, 100), 5, 18.0),
    ((300, 300), 3, 50.0),
    ((400, 150), 2, 30.0),
])
def test_low_rank_matrix_coherence_close_to_target(shape, rank, target, global_seed):
    M = low_rank_matrix(shape, rank, cond=10.0, coherence=target, rng=global_seed)
    U, _, V = top_singular_basis(M, rank)
    for basis in (U, V):
        assert coherence(basis) == pytest.approx(target, rel=0.2)


def test_low_rank_matrix_default_is_incoherent():
    M = low_rank_matrix((400, 300), 4, rng=0)
    U, _, V = top_singular_basis(M, 4)
    # Haar subspaces: coherence O(log n), far from the maximum n / k = 100.
    assert coherence(U) < 10
    assert coherence(V) < 10


def test_low_rank_matrix_coherence_targets():
    # below a Haar basis's coherence: the Haar basis is returned (documented)
    M = low_rank_matrix((256, 128), 4, coherence=1.2, rng=0)
    U, _, _ = top_singular_basis(M, 4)
    assert 1.0 <= coherence(U) < 10
    with pytest.raises(ValueError, match="`coherence`"):
        low_rank_matrix((256, 128), 4, coherence=0.5, rng=0)
    with pytest.raises(ValueError, match="`coherence`"):
        low_rank_matrix((256, 128), 4, coherence=1000.0, rng=0)
    with pytest.raises(TypeError, match="`coherence`"):
        low_rank_matrix((256, 128), 4, coherence="x", rng=0)
    with pytest.raises(ValueError, match="`shape`"):
        low_rank_matrix((2, 3, 4), 1, rng=0)
    with pytest.raises(ValueError, match="at most one"):
        low_rank_matrix((20, 10), 2, singular_values=[1.0, 0.5], cond=3.0, rng=0)


def test_low_rank_matrix_reproducible_and_dtype():
    A = low_rank_matrix((20, 10), 3, cond=5.0, rng=7)
    np.testing.assert_array_equal(A, low_rank_matrix((20, 10), 3, cond=5.0, rng=7))
    assert not np.array_equal(A, low_rank_matrix((20, 10), 3, cond=5.0, rng=8))
    assert low_rank_matrix((20, 10), 3, rng=0, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("kwargs, error, name", [
    ({"shape": (10, 8), "rank": 0}, ValueError, "rank"),
    ({"shape": (10, 8), "rank": 9}, ValueError, "rank"),
    ({"shape": (10, 8), "rank": 2.0}, TypeError, "rank"),
    ({"shape": (0, 8), "rank": 1}, ValueError, "shape"),
    ({"shape": (10, 8), "rank": 2, "cond": 0.5}, ValueError, "cond"),
    ({"shape": (10, 8), "rank": 2, "cond": np.inf}, ValueError, "cond"),
    ({"shape": (10, 8), "rank": 2, "singular_values": [1.0, 2.0, 3.0]}, ValueError,
     "singular_values"),
    ({"shape": (10, 8), "rank": 2, "singular_values": [1.0, -2.0]}, ValueError,
     "singular_values"),
    ({"shape": (10, 8), "rank": 2, "singular_values": [1.0, np.nan]}, ValueError,
     "singular_values"),
    ({"shape": (10, 8), "rank": 2, "dtype": np.int32}, TypeError, "dtype"),
    ({"shape": (10, 8), "rank": 2, "rng": "seed"}, TypeError, "rng"),
])
def test_low_rank_matrix_bad_input(kwargs, error, name):
    with pytest.raises(error, match=f"`{name}`"):
        low_rank_matrix(**kwargs)


# ---------------------------------------------------------------------------------------
# lstsq_problem
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, d", [(200, 5), (100, 30), (31, 30)])
@pytest.mark.parametrize("cond", [1.0, 1e4])
@pytest.mark.parametrize("spectrum", ["geometric", "linear"])
def test_lstsq_problem_solution_and_residual(n, d, cond, spectrum, global_seed):
    P = lstsq_problem(n, d, cond=cond, residual_norm=0.1, spectrum=spectrum, rng=global_seed)
    assert isinstance(P, LstsqProblem)
    assert P.A.shape == (n, d) and P.b.shape == (n,) and P.x.shape == (d,)
    assert P.residual.shape == (n,)
    assert P.cond == cond
    sv = np.linalg.svd(P.A, compute_uv=False)
    assert sv[0] / sv[-1] == pytest.approx(cond, rel=1e-6)
    if spectrum == "linear":
        np.testing.assert_allclose(sv, np.linspace(1.0, 1.0 / cond, d), rtol=1e-8)
    # x is the least-squares solution and the residual is b - A x, orthogonal to range(A).
    x_ref = np.linalg.lstsq(P.A, P.b, rcond=None)[0]
    np.testing.assert_allclose(P.x, x_ref, rtol=0, atol=1e-10 * cond)
    np.testing.assert_allclose(P.b - P.A @ P.x, P.residual, rtol=0, atol=1e-14)
    r_norm = np.linalg.norm(P.residual)
    assert np.linalg.norm(P.A.T @ P.residual) <= 1e-12 * sv[0] * r_norm
    assert r_norm == pytest.approx(0.1 * np.linalg.norm(P.A @ P.x), rel=1e-10)


def test_lstsq_problem_consistent_system():
    P = lstsq_problem(100, 10, residual_norm=0.0, cond=100.0, rng=0)
    np.testing.assert_array_equal(P.residual, 0.0)
    np.testing.assert_allclose(P.A @ P.x, P.b, rtol=0, atol=1e-14)


@pytest.mark.parametrize("cond", [1.0, 1e4])
def test_lstsq_problem_square(cond):
    P = lstsq_problem(10, 10, cond=cond, rng=0)
    np.testing.assert_allclose(np.linalg.solve(P.A, P.b), P.x, rtol=0, atol=1e-10 * cond)


def test_lstsq_problem_coherence_and_dtype():
    P = lstsq_problem(400, 4, cond=10.0, coherence=20.0, rng=1)
    assert coherence(P.A) == pytest.approx(20.0, rel=0.2)
    P32 = lstsq_problem(100, 5, cond=10.0, rng=1, dtype=np.float32)
    for array in (P32.A, P32.b, P32.x, P32.residual):
        assert array.dtype == np.float32
    np.testing.assert_array_equal(lstsq_problem(50, 3, rng=4).A, lstsq_problem(50, 3, rng=4).A)
    assert "LstsqProblem(" in repr(P)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"n": 5, "d": 10}, ValueError, "d"),
    ({"n": 0, "d": 1}, ValueError, "n"),
    ({"n": 10, "d": 2.5}, TypeError, "d"),
    ({"n": 10, "d": 5, "cond": 0.1}, ValueError, "cond"),
    ({"n": 10, "d": 5, "residual_norm": -1.0}, ValueError, "residual_norm"),
    ({"n": 10, "d": 5, "spectrum": "log"}, ValueError, "spectrum"),
    ({"n": 10, "d": 5, "dtype": np.complex128}, TypeError, "dtype"),
])
def test_lstsq_problem_bad_input(kwargs, error, name):
    with pytest.raises(error, match=f"`{name}`"):
        lstsq_problem(**kwargs)


# ---------------------------------------------------------------------------------------
# sparse_corruption, observation_mask
# ---------------------------------------------------------------------------------------


@given(m=st.integers(1, 40), n=st.integers(1, 40), fraction=st.floats(0.0, 1.0),
       magnitude=st.floats(1e-3, 1e3), seed=seeds)
def test_sparse_corruption(m, n, fraction, magnitude, seed):
    E = sparse_corruption((m, n), fraction, magnitude=magnitude, rng=seed)
    assert E.shape == (m, n)
    assert E.dtype == np.float64
    assert np.count_nonzero(E) == round(fraction * m * n)
    assert np.all(np.abs(E) <= magnitude)
    np.testing.assert_array_equal(
        E, sparse_corruption((m, n), fraction, magnitude=magnitude, rng=seed))


def test_sparse_corruption_dtype_and_spread():
    E = sparse_corruption((100, 100), 0.2, magnitude=3.0, rng=0, dtype=np.float32)
    assert E.dtype == np.float32
    values = E[E != 0]
    assert values.size == 2000
    # Uniform on [-3, 3]: both signs, mean near 0.
    assert abs(values.mean()) < 0.2
    assert values.min() < -2.5 and values.max() > 2.5


@given(m=st.integers(1, 40), n=st.integers(1, 40), data=st.data())
def test_observation_mask(m, n, data):
    count = data.draw(st.integers(0, m * n), label="n_observed")
    seed = data.draw(seeds, label="seed")
    mask = observation_mask((m, n), count, rng=seed)
    assert mask.shape == (m, n)
    assert mask.dtype == np.bool_
    assert int(mask.sum()) == count
    np.testing.assert_array_equal(mask, observation_mask((m, n), count, rng=seed))


@pytest.mark.parametrize("call, error, name", [
    (lambda: sparse_corruption((5, 5), 1.5), ValueError, "fraction"),
    (lambda: sparse_corruption((5, 5), -0.1), ValueError, "fraction"),
    (lambda: sparse_corruption((5, 5), 0.2, magnitude=-1.0), ValueError, "magnitude"),
    (lambda: sparse_corruption((5, 0), 0.2), ValueError, "shape"),
    (lambda: sparse_corruption((5, 5), "0.2"), TypeError, "fraction"),
    (lambda: observation_mask((5, 5), 26), ValueError, "n_observed"),
    (lambda: observation_mask((5, 5), -1), ValueError, "n_observed"),
    (lambda: observation_mask((5, 5), 3.0), TypeError, "n_observed"),
    (lambda: observation_mask((0, 5), 0), ValueError, "shape"),
    (lambda: orthonormal_matrix(5, 6), ValueError, "k"),
    (lambda: orthonormal_matrix(0, 1), ValueError, "n"),
])
def test_generators_bad_input(call, error, name):
    with pytest.raises(error, match=f"`{name}`"):
        call()


# ---------------------------------------------------------------------------------------
# assert_orthonormal
# ---------------------------------------------------------------------------------------


def test_assert_orthonormal_accepts_orthonormal():
    assert_orthonormal(np.eye(5))
    assert_orthonormal(np.eye(6)[:, :3])
    assert_orthonormal(orthonormal_matrix(100, 10, rng=0))


@pytest.mark.parametrize("Q", [
    np.ones((4, 2)),
    2 * np.eye(3),
    np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]),
    np.eye(4)[:, :2] * (1 + 1e-6),
    np.full((3, 3), np.nan),
])
def test_assert_orthonormal_rejects(Q):
    with pytest.raises(AssertionError, match="orthonormal"):
        assert_orthonormal(Q)


def test_assert_orthonormal_atol():
    Q = np.eye(4)[:, :2] * (1 + 1e-6)
    assert_orthonormal(Q, atol=1e-5)
    with pytest.raises(AssertionError):
        assert_orthonormal(np.eye(3), atol=-1.0)


def test_assert_orthonormal_bad_input():
    with pytest.raises(ValueError, match="`Q`"):
        assert_orthonormal(np.ones(3))
    with pytest.raises(ValueError, match="`Q`"):
        assert_orthonormal(np.ones((2, 2, 2)))


# ---------------------------------------------------------------------------------------
# adjoint_test
# ---------------------------------------------------------------------------------------


class _DenseOperator:
    """A tiny operator wrapping a matrix, with a configurable (possibly wrong) adjoint."""

    def __init__(self, M, adjoint=None):
        self.M = M
        self._adjoint = M.T if adjoint is None else adjoint

    @property
    def shape(self):
        return self.M.shape

    @property
    def T(self):
        return _DenseOperator(self._adjoint, self.M)

    def __matmul__(self, x):
        return self.M @ x


def test_adjoint_test_accepts_correct_operator():
    M = np.random.default_rng(0).standard_normal((7, 11))
    worst = adjoint_test(_DenseOperator(M), rng=1)
    assert isinstance(worst, float)
    assert 0.0 <= worst < 1e-13
    assert adjoint_test(_DenseOperator(M), rng=1) == worst  # same rng, same trials


@pytest.mark.parametrize("wrong", [
    "scaled", "transposed_wrongly", "perturbed",
])
def test_adjoint_test_rejects_wrong_adjoint(wrong):
    rng = np.random.default_rng(2)
    M = rng.standard_normal((6, 6))
    if wrong == "scaled":
        adjoint = 2.0 * M.T
    elif wrong == "transposed_wrongly":
        adjoint = M  # forgot the transpose
    else:
        adjoint = M.T + 1e-6 * rng.standard_normal((6, 6))
    with pytest.raises(AssertionError, match="adjoint test failed"):
        adjoint_test(_DenseOperator(M, adjoint), rng=3)


def test_adjoint_test_rtol_and_float32():
    M = np.random.default_rng(0).standard_normal((5, 8))
    op = _DenseOperator(M, M.T + 1e-9)
    with pytest.raises(AssertionError):
        adjoint_test(op, rng=0)
    assert adjoint_test(op, rng=0, rtol=1e-6) <= 1e-6
    M32 = M.astype(np.float32)
    assert adjoint_test(_DenseOperator(M32), rng=0, dtype=np.float32) < 1e-4


def test_adjoint_test_bad_input():
    with pytest.raises(ValueError, match="`n_trials`"):
        adjoint_test(_DenseOperator(np.eye(3)), n_trials=0)
    with pytest.raises(TypeError, match="`rng`"):
        adjoint_test(_DenseOperator(np.eye(3)), rng="seed")


# ------------------------------------------------------------------ strategies

from hypothesis import settings  # noqa: E402

from lowrank.testing import graded_spd_matrix  # noqa: E402
from lowrank.testing import strategies as lst  # noqa: E402


@given(case=lst.low_rank_matrices(max_size=30, max_rank=4, max_cond=1e4, max_coherence=3.0))
def test_low_rank_strategy_plants_the_rank_and_condition(case):
    s = np.linalg.svd(case.matrix, compute_uv=False)
    k = case.rank
    assert 1 <= k <= min(case.matrix.shape)
    assert s[k - 1] > 1e-8 * s[0]
    assert s[k:].sum() <= 1e-10 * s[0] * max(1, s.size - k)
    if k > 1:  # a rank-1 spectrum is a single value
        assert s[0] / s[k - 1] == pytest.approx(case.cond, rel=1e-6)
    rebuilt = low_rank_matrix(case.matrix.shape, k, cond=case.cond, coherence=case.coherence,
                              rng=case.seed)
    np.testing.assert_array_equal(case.matrix, rebuilt)


@given(P=lst.lstsq_problems(max_rows=120, max_cols=6, max_cond=1e6))
def test_lstsq_strategy_gives_a_known_solution(P):
    n, d = P.A.shape
    assert n >= d
    np.testing.assert_allclose(P.A.T @ (P.A @ P.x - P.b), 0.0,
                               atol=1e-8 * np.linalg.norm(P.A, 2) * np.linalg.norm(P.b))


@given(case=lst.observation_sets(empty_rows=True, duplicates=True))
def test_observation_strategy_values_match_the_planted_matrix(case):
    m, n = case.shape
    assert np.all((0 <= case.rows) & (case.rows < m) & (0 <= case.cols) & (case.cols < n))
    np.testing.assert_array_equal(case.values, case.matrix[case.rows, case.cols])


@settings(max_examples=10)
@given(case=lst.observation_sets(duplicates=True, max_size=20, max_rank=2))
def test_observation_strategy_draws_duplicates_when_asked(case):
    pairs = case.rows.astype(np.int64) * case.shape[1] + case.cols
    assert np.unique(pairs).size <= pairs.size


@given(A=lst.graded_spd_matrices(max_size=20))
def test_graded_strategy_is_symmetric_positive_definite(A):
    assert np.array_equal(A, A.T)
    d = np.sqrt(np.diag(A))
    # the scaled matrix D^-1 A D^-1 is well conditioned although A may not be
    assert np.linalg.cond(A / d[:, None] / d[None, :]) <= 1e3 * 1.01
    np.linalg.cholesky(A)


@given(E=lst.sparse_corruptions((12, 9), max_fraction=0.3))
def test_corruption_strategy_is_sparse(E):
    assert E.shape == (12, 9)
    assert np.count_nonzero(E) <= round(0.3 * E.size)


def test_graded_spd_matrix_bad_input():
    with pytest.raises(ValueError, match="`grading`"):
        graded_spd_matrix(4, grading=0.0)
    with pytest.raises(ValueError, match="`cond`"):
        graded_spd_matrix(4, cond=0.5)
    with pytest.raises(ValueError, match="`n`"):
        graded_spd_matrix(0)


def test_graded_spd_matrix_reference():
    A = graded_spd_matrix(8, grading=1e-6, cond=5.0, rng=1)
    d = np.geomspace(1.0, 1e-6, 8)
    B = A / d[:, None] / d[None, :]
    w = np.linalg.eigvalsh(B)
    assert w.max() / w.min() == pytest.approx(5.0, rel=1e-6)
    assert graded_spd_matrix(8, grading=1e-6, rng=1, dtype=np.float32).dtype == np.float32
