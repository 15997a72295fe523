"""Tests of lowrank.sampling.leverage_scores."""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st
from sampling_reference import reference_leverage, to_numpy

from lowrank.sampling import leverage_scores
from lowrank.testing import low_rank_matrix
from lowrank.testing.strategies import low_rank_matrices


@st.composite
def matrices(draw, max_n=40, max_d=6):
    """Small dense matrices, some rank deficient, some with dominant rows."""
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    if draw(st.booleans()) and d > 1:  # rank deficient: a repeated combination
        A[:, -1] = A[:, 0] - 2 * A[:, 1 % d]
    if draw(st.booleans()):
        A *= np.exp(rng.uniform(-4, 4, (n, 1)))
    return A


@given(A=matrices())
def test_exact_scores_are_in_unit_interval_and_sum_to_rank(A):
    res = leverage_scores(A)
    tau = res.scores
    assert res.rank == np.linalg.matrix_rank(A)
    assert np.all(tau >= 0) and np.all(tau <= 1)
    assert tau.sum() == pytest.approx(res.rank, abs=1e-10 * max(1, res.rank))


@given(A=matrices(), seed=st.integers(0, 2**32 - 1))
def test_exact_scores_match_svd_reference_and_are_invariant(A, seed):
    tau = leverage_scores(A).scores
    np.testing.assert_allclose(tau, reference_leverage(A), atol=1e-10)
    d = A.shape[1]
    T = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))[0] @ np.diag(
        np.linspace(1, 3, d))  # invertible, cond 3
    np.testing.assert_allclose(leverage_scores(A @ T).scores, tau, atol=1e-10)


@given(seed=st.integers(0, 2**32 - 1))
def test_scores_are_invariant_to_row_permutation(seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_t(2, size=(60, 4))
    perm = rng.permutation(60)
    np.testing.assert_allclose(leverage_scores(A[perm]).scores, leverage_scores(A).scores[perm],
                               atol=1e-12)


def test_dominant_row_and_orthogonal_row():
    rng = np.random.default_rng(0)
    A = np.zeros((500, 4))
    A[:-1, :3] = rng.standard_normal((499, 3))
    A[-1, 3] = 1e-6  # the only row touching the last column: leverage exactly 1
    tau = leverage_scores(A).scores
    assert tau[-1] == pytest.approx(1.0, abs=1e-12)
    assert tau.sum() == pytest.approx(4.0)


def test_wide_and_zero_matrices():
    A = np.random.default_rng(0).standard_normal((3, 8))
    res = leverage_scores(A)
    np.testing.assert_allclose(res.scores, 1.0)
    assert res.rank == 3
    zero = leverage_scores(np.zeros((5, 2)))
    assert zero.rank == 0 and np.all(zero.scores == 0)


class TestSketched:
    @pytest.mark.parametrize("kind", ["sparse_sign", "srht", "gaussian"])
    @pytest.mark.parametrize("rows", ["gaussian", "student_t"])
    def test_max_relative_error(self, kind, rows):
        rng = np.random.default_rng(1)
        A = rng.standard_normal((8000, 12)) if rows == "gaussian" else rng.standard_t(
            1.5, size=(8000, 12))
        tau = leverage_scores(A).scores
        res = leverage_scores(A, method="sketched", sketch=kind, rng=0)
        assert res.method == "sketched" and res.sketch_size == 576 and res.jl_size is None
        assert np.max(np.abs(res.scores / tau - 1)) <= 0.35
        assert np.all((res.scores >= 0) & (res.scores <= 1))

    def test_same_rng_same_scores(self):
        A = np.random.default_rng(0).standard_normal((3000, 7))
        a = leverage_scores(A, method="sketched", rng=5).scores
        b = leverage_scores(A, method="sketched", rng=5).scores
        c = leverage_scores(A, method="sketched", rng=6).scores
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)

    def test_johnson_lindenstrauss_projection(self):
        A = np.random.default_rng(2).standard_normal((6000, 64))
        tau = leverage_scores(A).scores
        res = leverage_scores(A, method="sketched", jl_size=24, rng=0)
        assert res.jl_size == 24
        err = np.abs(res.scores / tau - 1)
        # per-row chi-square(24) / 24 error: median about 0.2, 99th percentile about 0.8
        assert np.median(err) < 0.3 and np.quantile(err, 0.99) < 1.0
        assert leverage_scores(A, method="sketched", jl_size=0, rng=0).jl_size is None

    def test_rank_deficient_sketched(self):
        A = low_rank_matrix((3000, 10), 4, rng=0)
        tau = leverage_scores(A).scores
        res = leverage_scores(A, method="sketched", rng=0)
        assert res.rank == 4
        assert np.max(np.abs(res.scores / tau - 1)) < 0.35


class TestSparse:
    def _matrix(self):
        A = scipy.sparse.random(3000, 15, density=0.1, random_state=0, format="csr")
        A = A + scipy.sparse.eye(3000, 15, format="csr")  # no zero rows in the first 15
        return A.tocsr()

    def test_exact_matches_dense(self):
        A = self._matrix()
        res = leverage_scores(A)
        np.testing.assert_allclose(res.scores, reference_leverage(A), atol=1e-12)
        assert res.rank == 15

    @pytest.mark.parametrize("fmt", ["csc", "coo"])
    def test_formats(self, fmt):
        A = self._matrix()
        np.testing.assert_allclose(leverage_scores(A.asformat(fmt)).scores,
                                   leverage_scores(A).scores, atol=1e-12)

    def test_sketched(self):
        A = self._matrix()
        tau = reference_leverage(A)
        res = leverage_scores(A, method="sketched", rng=0)
        keep = tau > 1e-12
        assert np.max(np.abs(res.scores[keep] / tau[keep] - 1)) < 0.35

    def test_rank_deficient_sparse(self):
        A = self._matrix().tolil()
        A[:, 3] = 0
        res = leverage_scores(A.tocsr())
        assert res.rank == 14
        np.testing.assert_allclose(res.scores, reference_leverage(A.tocsr()), atol=1e-12)


@pytest.mark.parametrize("method", ["exact", "sketched"])
def test_float32_preserved_and_accurate(method):
    A = np.random.default_rng(0).standard_normal((2000, 6))
    res32 = leverage_scores(A.astype(np.float32), method=method, rng=0)
    assert res32.scores.dtype == np.float32
    res64 = leverage_scores(A, method=method, rng=0)
    np.testing.assert_allclose(res32.scores, res64.scores, rtol=1e-3)


def test_integers_promote_and_result_converts():
    A = np.arange(30).reshape(10, 3) % 7
    res = leverage_scores(A)
    assert res.scores.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(res), res.scores)
    assert "LeverageScoresResult" in repr(res)


@pytest.mark.parametrize("method", ["exact", "sketched"])
def test_array_namespaces(xp, method):
    A = np.random.default_rng(0).standard_t(3, size=(1500, 5))
    res = leverage_scores(xp.asarray(A), method=method, rng=0)
    assert type(res.scores).__module__.split(".")[0] == xp.__name__.split(".")[0]
    ref = leverage_scores(A, method=method, rng=0).scores
    np.testing.assert_allclose(to_numpy(res.scores), ref, rtol=1e-6, atol=1e-12)


class TestBadInput:
    A = np.random.default_rng(0).standard_normal((20, 3))

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite(self, bad):
        A = self.A.copy()
        A[2, 1] = bad
        with pytest.raises(ValueError, match="finite"):
            leverage_scores(A)
        with pytest.raises(ValueError, match="finite"):
            leverage_scores(scipy.sparse.csr_matrix(A))

    def test_shapes_and_types(self):
        with pytest.raises(ValueError, match="2-D"):
            leverage_scores(np.ones(5))
        with pytest.raises(ValueError, match="non-empty"):
            leverage_scores(np.ones((0, 3)))
        with pytest.raises(TypeError, match="complex"):
            leverage_scores(self.A + 1j)
        with pytest.raises(TypeError, match="`rng`"):
            leverage_scores(self.A, method="sketched", rng="x")

    def test_options(self):
        with pytest.raises(ValueError, match="`method`"):
            leverage_scores(self.A, method="qr")
        with pytest.raises(ValueError, match="`sketch`"):
            leverage_scores(self.A, method="sketched", sketch="fourier")
        with pytest.raises(ValueError, match="`sketch_size`"):
            leverage_scores(self.A, method="sketched", sketch_size=0)
        with pytest.raises(ValueError, match="`sketch_size`"):
            leverage_scores(self.A, method="sketched", sketch_size=21)
        with pytest.raises(ValueError, match="`sketch_size`"):  # fewer rows than columns
            leverage_scores(self.A, method="sketched", sketch_size=2)
        with pytest.raises(ValueError, match="`jl_size`"):
            leverage_scores(self.A, method="sketched", jl_size=-1)
        with pytest.raises(ValueError, match="`rcond`"):
            leverage_scores(self.A, rcond=-1.0)

    def test_validation_happens_before_work(self, monkeypatch):
        import lowrank.sampling._leverage as module

        def fail(*args, **kwargs):
            raise AssertionError("work started before validation")

        monkeypatch.setattr(module, "range_basis", fail)
        monkeypatch.setattr(module, "sketch_preconditioner", fail)
        for kwargs in ({"method": "nope"}, {"method": "sketched", "sketch_size": 1},
                       {"rcond": 2.0}, {"jl_size": -1}, {"rng": "x"}):
            with pytest.raises((ValueError, TypeError)):
                leverage_scores(self.A, **kwargs)


def test_sketch_as_tall_as_the_matrix_is_exact():
    A = np.random.default_rng(0).standard_normal((30, 20))
    res = leverage_scores(A, method="sketched", rng=0)  # default sketch size >= n
    assert res.method == "exact"
    np.testing.assert_allclose(res.scores, reference_leverage(A), atol=1e-12)


@given(case=low_rank_matrices(max_size=40, max_rank=5, max_cond=1e6, max_coherence=4.0))
def test_planted_low_rank_scores_sum_to_the_planted_rank(case):
    # lowrank.testing.strategies: a rank-k matrix, wide or tall, any conditioning
    res = leverage_scores(case.matrix)
    assert res.rank == case.rank
    assert res.scores.sum() == pytest.approx(case.rank, rel=1e-8)
    np.testing.assert_allclose(res.scores, reference_leverage(case.matrix), atol=1e-8)
