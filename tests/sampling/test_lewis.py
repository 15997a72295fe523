"""Tests of lowrank.sampling.lewis_weights."""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st
from sampling_reference import heavy_rows, lewis_residual, to_numpy

from lowrank.exceptions import ConvergenceWarning
from lowrank.sampling import leverage_scores, lewis_weights

P_VALUES = [0.5, 1.0, 1.5, 3.0, 4.0, 6.0, 10.0]


@given(seed=st.integers(0, 2**32 - 1), p=st.sampled_from(P_VALUES),
       n=st.integers(8, 80), d=st.integers(1, 5), spread=st.sampled_from([0.0, 2.0, 5.0]))
def test_fixed_point_and_sum(seed, p, n, d, spread):
    A = heavy_rows(n, d, seed, spread)
    res = lewis_weights(A, p)
    assert res.converged, res.message
    assert res.rank == min(n, d)
    assert np.all(res.weights > 0)
    assert res.weights.sum() == pytest.approx(res.rank, rel=1e-8)
    assert lewis_residual(A, res.weights, p) <= 1e-8


@given(seed=st.integers(0, 2**32 - 1), p=st.sampled_from(P_VALUES))
def test_invariant_under_right_multiplication_and_row_permutation(seed, p):
    rng = np.random.default_rng(seed)
    A = heavy_rows(50, 4, rng, 2.0)
    w = lewis_weights(A, p).weights
    T = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    np.testing.assert_allclose(lewis_weights(A @ T, p).weights, w, rtol=1e-7)
    perm = rng.permutation(50)
    np.testing.assert_allclose(lewis_weights(A[perm], p).weights, w[perm], rtol=1e-7)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 60), d=st.integers(1, 5))
def test_p2_is_leverage(seed, n, d):
    A = heavy_rows(n, d, seed, 2.0)
    res = lewis_weights(A, 2)
    np.testing.assert_allclose(res.weights, leverage_scores(A).scores, rtol=1e-10, atol=1e-14)
    assert res.n_iter <= 2


def test_weights_are_leverage_of_reweighted_matrix():
    A = np.random.default_rng(0).standard_t(2, size=(400, 5))
    for p in (1.0, 3.0):
        w = lewis_weights(A, p).weights
        np.testing.assert_allclose(leverage_scores(w[:, None] ** (0.5 - 1 / p) * A).scores, w,
                                   rtol=1e-7)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0, 3.9])
def test_error_bound_certifies_the_distance_to_the_fixed_point(p):
    A = heavy_rows(300, 6, 3, 3.0)
    exact = lewis_weights(A, p, tol=1e-13).weights
    loose = lewis_weights(A, p, tol=1e-3)
    assert loose.converged
    distance = np.max(np.abs(np.log(loose.weights / exact)))
    assert distance <= loose.error_bound * (1 + 1e-6) + 1e-11
    assert loose.error_bound <= 1e-3 * abs(p / 2 - 1) / (1 - abs(p / 2 - 1)) * (1 + 1e-12)


def test_no_bound_above_p4():
    assert np.isnan(lewis_weights(heavy_rows(50, 3, 0), 5).error_bound)


@pytest.mark.parametrize("p", [4.0, 20.0, 60.0])
def test_large_p_with_extreme_row_scales_does_not_overflow(p):
    A = heavy_rows(2000, 20, 1, 5.0)
    res = lewis_weights(A, p)
    assert res.converged and res.theta == pytest.approx(4 / (p + 2))
    assert np.all(np.isfinite(res.weights))
    assert res.weights.sum() == pytest.approx(20, rel=1e-8)
    assert lewis_residual(A, res.weights, p) <= 1e-7


def test_damping_defaults_and_over_relaxation():
    A = heavy_rows(2000, 20, 0, 2.0)
    plain = lewis_weights(A, 1)
    assert plain.theta == 1.0
    over = lewis_weights(A, 1, theta=4 / 3)
    assert over.converged and over.n_iter < plain.n_iter
    np.testing.assert_allclose(over.weights, plain.weights, rtol=1e-8)


def test_zero_rows_get_zero_weight():
    A = heavy_rows(60, 3, 0)
    A[[5, 17]] = 0
    res = lewis_weights(A, 1)
    assert res.weights[5] == 0 and res.weights[17] == 0
    keep = np.any(A != 0, axis=1)
    np.testing.assert_allclose(res.weights[keep], lewis_weights(A[keep], 1).weights,
                               rtol=1e-10)
    assert res.weights.sum() == pytest.approx(3)


def test_rank_deficient_sums_to_rank():
    A = heavy_rows(100, 5, 0)
    A[:, 4] = A[:, 0] + A[:, 1]
    res = lewis_weights(A, 3)
    assert res.rank == 4
    assert res.weights.sum() == pytest.approx(4, rel=1e-8)
    assert lewis_residual(A, res.weights, 3) <= 1e-8


@pytest.mark.parametrize("p", [0.05, 0.1, 0.2, 0.5])
def test_small_p_keeps_an_orthogonal_row(p):
    """A row orthogonal to all others has Lewis weight 1 for every p; for small p the
    row scaling spans hundreds of orders of magnitude (review: weights of 0.01 were
    returned with converged=True before the Householder route for wide scalings)."""
    rng = np.random.default_rng(0)
    A = np.zeros((2000, 3))
    A[:-1, :2] = rng.standard_normal((1999, 2))
    A[-1, 2] = 1.0
    res = lewis_weights(A, p)
    assert res.converged
    assert res.weights[-1] == pytest.approx(1.0, rel=1e-7)
    assert res.weights.sum() == pytest.approx(3.0, rel=1e-8)


def test_a_row_of_tiny_scale_does_not_underflow():
    A = heavy_rows(200, 3, 0, 0.0)
    A[0] *= 1e-170
    res = lewis_weights(A, 1)
    assert res.converged
    assert 0 < res.weights[0] < 1e-160
    assert res.weights.sum() == pytest.approx(3.0, rel=1e-8)
    np.testing.assert_allclose(res.weights[1:], lewis_weights(A[1:], 1).weights, rtol=1e-8)


def test_zero_matrix():
    res = lewis_weights(np.zeros((4, 2)), 1)
    assert res.rank == 0 and np.all(res.weights == 0) and res.converged


def test_history_and_convergence_warning():
    A = heavy_rows(500, 6, 0, 3.0)
    res = lewis_weights(A, 1)
    h = res.history
    assert len(h["residual"]) == res.n_iter
    assert h["residual"][-1] <= 1e-10 and np.all(np.diff(h["time"]) >= 0)
    with pytest.warns(ConvergenceWarning, match="maxiter=3"):
        short = lewis_weights(A, 1, maxiter=3)
    assert not short.converged and short.n_iter == 3


def test_callback_can_stop():
    seen = []

    def callback(k, w, residual):
        seen.append((k, residual, w.sum()))
        assert w.shape == (300,) and w[7] == 0  # all rows, zero rows included
        return k == 2

    A = heavy_rows(300, 4, 0, 3.0)
    A[7] = 0
    res = lewis_weights(A, 1, callback=callback)
    assert res.n_iter == 2 and not res.converged and res.message == "stopped by callback"
    assert [k for k, *_ in seen] == [1, 2]


def test_sparse_matches_dense():
    A = scipy.sparse.random(2000, 8, density=0.2, random_state=1, format="csr")
    dense = lewis_weights(A.toarray(), 1.5).weights
    np.testing.assert_allclose(lewis_weights(A, 1.5).weights, dense, rtol=1e-9, atol=1e-15)


def test_float32_preserved():
    A = heavy_rows(500, 5, 0, 2.0)
    res = lewis_weights(A.astype(np.float32), 3)
    assert res.weights.dtype == np.float32 and res.converged
    np.testing.assert_allclose(res.weights, lewis_weights(A, 3).weights, rtol=1e-4)


def test_array_namespaces(xp):
    A = heavy_rows(800, 4, 0, 2.0)
    A[[5, 600]] = 0  # zero rows take the namespace's scatter-free path
    res = lewis_weights(xp.asarray(A), 1)
    assert type(res.weights).__module__.split(".")[0] == xp.__name__.split(".")[0]
    np.testing.assert_allclose(to_numpy(res.weights), lewis_weights(A, 1).weights, rtol=1e-8)


class TestBadInput:
    A = heavy_rows(20, 3, 0)

    @pytest.mark.parametrize("p", [0, -1, np.inf, np.nan])
    def test_p(self, p):
        with pytest.raises(ValueError, match="`p`"):
            lewis_weights(self.A, p)

    def test_p_type(self):
        with pytest.raises(TypeError, match="`p`"):
            lewis_weights(self.A, "1")

    def test_options(self):
        with pytest.raises(ValueError, match="`tol`"):
            lewis_weights(self.A, 1, tol=0)
        with pytest.raises(ValueError, match="`maxiter`"):
            lewis_weights(self.A, 1, maxiter=0)
        with pytest.raises(ValueError, match="`theta`"):
            lewis_weights(self.A, 1, theta=2.5)
        with pytest.raises(TypeError, match="`callback`"):
            lewis_weights(self.A, 1, callback=1)

    def test_non_finite(self):
        A = self.A.copy()
        A[0, 0] = np.nan
        with pytest.raises(ValueError, match="finite"):
            lewis_weights(A, 1)

    def test_validation_happens_before_work(self):
        with pytest.raises(ValueError, match="`p`"):
            lewis_weights(np.ones((10**6, 4)), -1, check_finite=False)
