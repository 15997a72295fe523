"""The subspace power method: recovery, rank estimation, invariances, noise, moments,
refinement, backends and bad input."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings

from lowrank.exceptions import ConvergenceWarning, LowrankWarning
from lowrank.tensor import (
    MomentTensor,
    _power,
    _spm,
    rank_bounds,
    subspace_power_method,
    symmetric_tensor,
)
from lowrank.testing import factor_match_score, symmetric_cp_problem, symmetric_noise
from lowrank.testing.strategies import symmetric_cp_problems


def relative_error(result, T):
    return np.linalg.norm(result.to_tensor() - T) / np.linalg.norm(T)


def change_basis(T, Q):
    """``T`` with every mode multiplied by ``Q``."""
    for axis in range(T.ndim):
        T = np.moveaxis(np.tensordot(Q, T, axes=([1], [axis])), 0, axis)
    return T


@settings(max_examples=20)
@given(problem=symmetric_cp_problems())
def test_recovers_planted_decompositions(problem):
    res = subspace_power_method(problem.tensor, rng=0)
    assert res.converged, res.message
    assert res.rank == problem.weights.size          # the rank is estimated
    assert relative_error(res, problem.tensor) < 1e-8
    assert factor_match_score(problem.factors, res.factors) > 1 - 1e-6
    expected = problem.weights[np.argsort(-np.abs(problem.weights))]
    if problem.tensor.ndim % 2:                       # odd order: the sign moves to the factor
        expected = np.abs(expected)
    np.testing.assert_allclose(res.weights, expected, rtol=1e-6)


# (order, d, rank), below the practical limit; the odd cases are the note's load-bearing ones
FIXED_CASES = [(3, 12, 12), (3, 15, 15), (4, 10, 30), (4, 12, 40), (5, 6, 21), (5, 6, 12),
               (6, 5, 20), (6, 4, 12)]


@pytest.mark.parametrize("order, d, rank", FIXED_CASES)
def test_exact_recovery_on_fixed_seeds(order, d, rank):
    for seed in range(3):
        problem = symmetric_cp_problem(d, rank, order, weights="signed", rng=seed)
        res = subspace_power_method(problem.tensor, rng=seed)
        assert res.converged and res.rank == rank
        assert relative_error(res, problem.tensor) < 1e-10
        assert factor_match_score(problem.factors, res.factors) > 1 - 1e-9
        assert np.all(np.abs(np.linalg.norm(res.factors, axis=0) - 1) < 1e-12)


@pytest.mark.parametrize("scale", [1e-9, 1.0, 1e9])
@pytest.mark.parametrize("order, d, rank", [(3, 8, 7), (4, 8, 20), (5, 5, 10)])
def test_rank_estimate_is_scale_invariant(order, d, rank, scale):
    problem = symmetric_cp_problem(d, rank, order, weights="signed", rng=7)
    res = subspace_power_method(problem.tensor * scale, rng=1)
    assert res.rank_estimated and res.rank == rank
    expected = problem.weights[np.argsort(-np.abs(problem.weights))]
    if order % 2:
        expected = np.abs(expected)
    np.testing.assert_allclose(res.weights / scale, expected, rtol=1e-8)


@pytest.mark.parametrize("order, d, rank", [(3, 6, 5), (4, 6, 10)])
def test_orthogonal_change_of_basis(order, d, rank):
    problem = symmetric_cp_problem(d, rank, order, weights="signed", rng=3)
    Q = np.linalg.qr(np.random.default_rng(4).standard_normal((d, d)))[0]
    res = subspace_power_method(problem.tensor, rng=5)
    moved = subspace_power_method(change_basis(problem.tensor, Q), rng=5)
    np.testing.assert_allclose(moved.weights, res.weights, rtol=1e-9)
    assert factor_match_score(Q @ res.factors, moved.factors) > 1 - 1e-9


def test_same_rng_same_factors_and_history():
    problem = symmetric_cp_problem(7, 12, 4, rng=0)
    a = subspace_power_method(problem.tensor, rng=11)
    b = subspace_power_method(problem.tensor, rng=11)
    np.testing.assert_array_equal(a.factors, b.factors)
    np.testing.assert_array_equal(a.history["iterations"], b.history["iterations"])
    c = subspace_power_method(problem.tensor, rng=12)
    assert not np.array_equal(a.history["iterations"], c.history["iterations"])
    np.testing.assert_allclose(c.weights, a.weights, rtol=1e-9)  # the same decomposition


@pytest.mark.parametrize("order, d, rank", [(3, 20, 18), (4, 12, 25)])
def test_noise_stability(order, d, rank):
    # error / noise level stays bounded (a stated allowance of 5x over the fixed seeds)
    for seed in range(3):
        problem = symmetric_cp_problem(d, rank, order, rng=seed)
        for sigma in (1e-8, 1e-5):
            T = problem.tensor + sigma * symmetric_noise(d, order, rng=seed + 100)
            res = subspace_power_method(T, rank, rng=seed)
            error = np.linalg.norm(res.to_tensor() - problem.tensor)
            assert error < 5 * sigma, (seed, sigma, error)


def test_refinement_improves_a_noisy_fit():
    problem = symmetric_cp_problem(15, 30, 4, correlated=True, rng=0)
    T = problem.tensor + 0.1 * symmetric_noise(15, 4, rng=1)
    plain = subspace_power_method(T, 30, rng=0)
    polished = subspace_power_method(T, 30, rng=0, refine=True)
    clean_plain = np.linalg.norm(plain.to_tensor() - problem.tensor)
    clean_polished = np.linalg.norm(polished.to_tensor() - problem.tensor)
    assert clean_polished < 0.9 * clean_plain
    fit = polished.refinement["objective"]
    assert np.all(np.diff(fit) < 0)                     # the objective never increases
    assert np.isclose(fit[-1], np.linalg.norm(polished.to_tensor() - T) / np.linalg.norm(T),
                      rtol=1e-6)
    assert polished.timings["refine"] > 0 and plain.refinement is None


def test_refinement_keeps_an_exact_answer():
    problem = symmetric_cp_problem(6, 5, 3, weights="signed", rng=2)
    res = subspace_power_method(problem.tensor, rng=0, refine=True)
    assert res.converged and relative_error(res, problem.tensor) < 1e-10


@pytest.mark.parametrize("order", [3, 4, 6])
def test_implicit_moments_match_the_formed_moment_tensor(order):
    rng = np.random.default_rng(order)
    d = 5
    n_samples = max(2, rank_bounds(d, order)[0] // 2)
    X = rng.standard_normal((n_samples, d))
    implicit = subspace_power_method(MomentTensor(X, order), rng=3)
    formed = subspace_power_method(MomentTensor(X, order).to_dense(), rng=3)
    assert implicit.rank == formed.rank == n_samples
    np.testing.assert_allclose(implicit.weights, formed.weights, rtol=1e-9)
    np.testing.assert_allclose(implicit.factors, formed.factors, atol=1e-9)
    # the samples are the components: weights ||x||^m / n, factors x / ||x||
    norms = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(np.sort(np.abs(implicit.weights)),
                               np.sort(norms**order / n_samples), rtol=1e-8)


def test_refinement_on_moments():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 5))
    res = subspace_power_method(MomentTensor(X, 4), 6, rng=0, refine=True)
    assert res.converged
    assert relative_error(res, MomentTensor(X, 4).to_dense()) < 1e-10


def test_float32_is_kept():
    problem = symmetric_cp_problem(8, 10, 4, weights="signed", rng=0)
    res = subspace_power_method(problem.tensor.astype(np.float32), rng=0)
    assert res.factors.dtype == res.weights.dtype == np.float32
    assert res.converged and res.rank == 10
    assert relative_error(res, problem.tensor) < 1e-4


def test_result_fields_and_history():
    problem = symmetric_cp_problem(6, 9, 4, weights="signed", rng=1)
    res = subspace_power_method(problem.tensor, rng=0)
    assert set(res.timings) == {"extract", "power", "deflate", "refine"}
    assert res.order == 4 and res.symmetry == (0, 0, 0, 0)
    assert len(res.history["component"]) == 9
    assert sorted(res.history["component"]) == list(range(9))
    # history rows follow the components: the weight column, reordered, is the output
    np.testing.assert_allclose(res.history["weight"][np.argsort(res.history["component"])],
                               res.weights)
    assert np.all(res.history["accepted"] == 1)
    assert res.n_iter >= res.history["iterations"].sum() / 3
    assert abs(res.spectrum[0]) >= abs(res.spectrum[-1])
    assert "CPResult(" in repr(res)
    A = res.factors
    assert np.all(A[np.argmax(np.abs(A), axis=0), np.arange(9)] > 0)
    assert np.all(np.diff(np.abs(res.weights)) <= 0)


def test_odd_order_weights_are_positive():
    problem = symmetric_cp_problem(6, 5, 3, weights="signed", rng=0)
    res = subspace_power_method(problem.tensor, rng=0)
    assert np.all(res.weights > 0)


def test_callback_stops_early():
    problem = symmetric_cp_problem(6, 8, 4, rng=0)
    seen = []

    def stop_after_three(position, weight, factor):
        seen.append((position, weight, factor.shape))
        return len(seen) == 3

    res = subspace_power_method(problem.tensor, rng=0, callback=stop_after_three)
    assert res.rank == 3 and len(seen) == 3 and not res.converged
    assert res.message.startswith("stopped by callback")


def test_unaccepted_components_warn():
    problem = symmetric_cp_problem(8, 20, 4, rng=0)
    with pytest.warns(ConvergenceWarning, match="not accepted"):
        res = subspace_power_method(problem.tensor, rng=0, maxiter=2)
    assert not res.converged and res.n_restarts > 0


def test_rank_above_the_practical_limit_warns():
    problem = symmetric_cp_problem(6, 13, 4, rng=0)       # practical 12, limit 15
    with pytest.warns(LowrankWarning, match="above 12"):
        subspace_power_method(problem.tensor, 13, rng=0)


def test_deflation_removes_an_exact_component():
    # after one deflation the inverse core is the inverse of the deflated flattening's core
    problem = symmetric_cp_problem(5, 6, 4, weights="signed", rng=0)
    operand = _spm._as_operand(problem.tensor, True)
    V, _U, K, _, _rank, _ = _spm._extract(operand, np, None, 1e-4)
    tables = _power.PowerTables(np, 5, 2, V)
    a, w = problem.factors[:, 0], problem.weights[0]
    alpha = V.T @ tables.monomials(a[:, None])[:, 0]
    np.testing.assert_allclose(_spm._weight(np, K, alpha, None), w, rtol=1e-10)
    V1, _, K1 = _spm._deflate(np, V, None, K, alpha, None)
    rest = problem.tensor - symmetric_tensor(np.array([w]), a[:, None], 4)
    M_rest = _spm._as_operand(rest, True).flattening(2)
    np.testing.assert_allclose(np.linalg.inv(K1), V1.T @ M_rest @ V1, atol=1e-10)
    assert np.linalg.norm(M_rest - V1 @ np.linalg.inv(K1) @ V1.T) < 1e-10


def test_kernel_matches_the_array_iteration():
    problem = symmetric_cp_problem(7, 10, 4, rng=0)
    operand = _spm._as_operand(problem.tensor, True)
    V = _spm._extract(operand, np, None, 1e-4)[0]
    tables = _power.PowerTables(np, 7, 2, V)
    X0 = _power.random_starts(tables, V, np.random.default_rng(0), 3)
    options = dict(maxiter=300, tol=1e-14, shift=math.sqrt(0.5), adaptive=True,
                   accept_tol=1e-2)
    kernel = _power.power_batch(tables, V, X0, **options)
    array = _power.power_batch_array(tables, V, X0, **options)
    np.testing.assert_array_equal(kernel.iterations, array.iterations)
    np.testing.assert_allclose(kernel.X, array.X, atol=1e-12)


def test_random_starts_lie_in_the_subspace_span():
    problem = symmetric_cp_problem(6, 1, 4, rng=0)
    operand = _spm._as_operand(problem.tensor, True)
    V = _spm._extract(operand, np, None, 1e-4)[0]
    tables = _power.PowerTables(np, 6, 2, V)
    X = _power.random_starts(tables, V, np.random.default_rng(1), 4)
    # rank one: every contraction of a^{(x)2} with a vector is parallel to a
    np.testing.assert_allclose(np.abs(problem.factors[:, 0] @ X), 1.0, rtol=1e-12)


def test_fixed_shift_also_recovers():
    problem = symmetric_cp_problem(8, 15, 4, rng=0)
    res = subspace_power_method(problem.tensor, rng=0, shift="fixed")
    assert res.converged and relative_error(res, problem.tensor) < 1e-10


def test_array_api_namespaces(xp):
    if xp.__name__ == "numpy":
        pytest.skip("the NumPy path is the reference")
    problem = symmetric_cp_problem(6, 5, 3, weights="signed", rng=0)
    res = subspace_power_method(xp.asarray(problem.tensor), rng=0)
    assert type(res.factors).__module__.split(".")[0] == xp.__name__.split(".")[0]
    host = subspace_power_method(problem.tensor, rng=0)
    np.testing.assert_allclose(np.asarray(res.factors), host.factors, atol=1e-10)
    np.testing.assert_allclose(np.asarray(res.weights), host.weights, rtol=1e-10)
    moments = subspace_power_method(MomentTensor(xp.asarray(problem.factors.T), 4), rng=0)
    assert moments.rank == 5


def test_bad_input():
    good = symmetric_cp_problem(4, 3, 4, rng=0).tensor
    T = good.copy()
    T[0, 1, 2, 3] += 1.0
    with pytest.raises(ValueError, match=r"`T` must be symmetric.*symmetrize"):
        subspace_power_method(T)
    with pytest.raises(ValueError, match="order >= 3"):
        subspace_power_method(np.eye(3))
    with pytest.raises(ValueError, match="equal sides"):
        subspace_power_method(np.ones((2, 2, 3)))
    with pytest.raises(ValueError, match="side d >= 2"):
        subspace_power_method(np.ones((1, 1, 1)))
    T = good.copy()
    T[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        subspace_power_method(T)
    with pytest.raises(ValueError, match=r"`rank` must be at most 6.*rank=7"):
        subspace_power_method(good, 7)
    with pytest.raises(ValueError, match="`rank`"):
        subspace_power_method(good, 0)
    with pytest.raises(ValueError, match="zero"):
        subspace_power_method(np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="`shift`"):
        subspace_power_method(good, shift="v1.1")
    with pytest.raises(ValueError, match="`ntries`"):
        subspace_power_method(good, ntries=0)
    with pytest.raises(ValueError, match="`accept_tol`"):
        subspace_power_method(good, accept_tol=0)
    with pytest.raises(TypeError, match="`callback`"):
        subspace_power_method(good, callback=3)
    with pytest.raises(TypeError, match="complex"):
        subspace_power_method(good.astype(complex))
    noisy = good + 1e-3 * symmetric_noise(4, 4, rng=0)
    with pytest.raises(ValueError, match="pass `rank`"):
        subspace_power_method(noisy)
    with pytest.raises(MemoryError, match="flattening"):
        subspace_power_method(MomentTensor(np.ones((2, 400)), 6))


def test_rank_bounds():
    assert rank_bounds(20, 4) == (152, 190)
    assert rank_bounds(10, 4)[1] == 45
    assert rank_bounds(12, 3) == (12, 12)
    assert rank_bounds(6, 5) == (21, 21)


def test_tolerance_floor_for_float32():
    problem = symmetric_cp_problem(5, 4, 3, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = subspace_power_method(problem.tensor.astype(np.float32), rng=0, tol=1e-14)
    assert res.converged
