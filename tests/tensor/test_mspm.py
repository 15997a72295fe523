"""The multi-subspace power method: recovery for every symmetry, flattening choice,
agreement with SPM, noise, backends and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings

from lowrank.exceptions import ConvergenceWarning
from lowrank.tensor import cp_tensor, multi_subspace_power_method, subspace_power_method
from lowrank.tensor._layout import Groups, choose_flattenings
from lowrank.testing import cp_problem, factor_match_score, symmetric_cp_problem
from lowrank.testing.strategies import cp_problems


def relative_error(result, T):
    return np.linalg.norm(result.to_tensor() - T) / np.linalg.norm(T)


@settings(max_examples=15)
@given(problem=cp_problems())
def test_recovers_planted_decompositions(problem):
    res = multi_subspace_power_method(problem.tensor, symmetry=problem.symmetry, rng=0)
    assert res.converged, res.message
    assert res.rank == problem.weights.size
    assert relative_error(res, problem.tensor) < 1e-8
    assert factor_match_score(problem.factors, res.factors) > 1 - 1e-6


@pytest.mark.parametrize("shape, symmetry, rank", [
    ((20, 18, 16), None, 15),
    ((12, 12, 7), (0, 0, 1), 7),
    ((7, 12, 12), ("u", "v", "v"), 7),
    ((9, 6, 9), (0, 1, 0), 6),               # a group of modes that are not adjacent
    ((6, 6, 6, 6, 5), (0, 0, 0, 0, 1), 20),
    ((8, 8, 8, 8), (0, 1, 2, 3), 30),       # four groups: three flattenings
])
def test_exact_recovery(shape, symmetry, rank):
    for seed in range(2):
        problem = cp_problem(shape, rank, symmetry=symmetry, rng=seed)
        res = multi_subspace_power_method(problem.tensor, rank, symmetry=symmetry, rng=seed)
        assert res.converged
        assert relative_error(res, problem.tensor) < 1e-10
        assert factor_match_score(problem.factors, res.factors) > 1 - 1e-9
        np.testing.assert_allclose(np.sort(np.abs(res.weights)), np.sort(problem.weights),
                                   rtol=1e-8)
        assert res.symmetry == problem.symmetry
        for mode, A in enumerate(res.factors):
            assert A.shape == (shape[mode], rank)
        groups = {}
        for mode, g in enumerate(res.symmetry):   # modes of one group share their factor
            groups.setdefault(g, res.factors[mode])
            np.testing.assert_array_equal(res.factors[mode], groups[g])


def test_fully_symmetric_agrees_with_spm():
    problem = symmetric_cp_problem(8, 8, 3, weights="signed", rng=0)
    multi = multi_subspace_power_method(problem.tensor, symmetry=(0, 0, 0), rng=0)
    spm = subspace_power_method(problem.tensor, rng=0)
    np.testing.assert_allclose(multi.weights, spm.weights, rtol=1e-9)
    assert factor_match_score(multi.factors[0], spm.factors) > 1 - 1e-9


def test_noise_stability():
    for seed in range(2):
        problem = cp_problem((15, 14, 13), 10, rng=seed)
        noise = np.random.default_rng(seed + 50).standard_normal(problem.tensor.shape)
        sigma = 1e-6 * np.linalg.norm(problem.tensor)
        T = problem.tensor + sigma * noise / np.linalg.norm(noise)
        res = multi_subspace_power_method(T, 10, rng=seed)
        assert np.linalg.norm(res.to_tensor() - problem.tensor) < 5 * sigma


def test_flattening_choice():
    # (2, 1): both groups on the rows; (1, 1, 1): a second flattening for the third mode
    first, *rest = choose_flattenings(Groups((0, 0, 1), (100, 100, 50)))
    assert first[0].rows == (1, 1) and first[0].admissible == 100 and not rest
    flats = choose_flattenings(Groups((0, 1, 2), (100, 100, 100)))
    assert [f.admissible for f, _ in flats] == [100, 100]
    assert sorted(g for _, new in flats for g in new) == [0, 1, 2]
    first, *rest = choose_flattenings(Groups((0, 0, 0, 0, 1), (25,) * 4 + (10,)))
    assert first[0].rows == (2, 1) and first[0].admissible == 325


def test_history_and_callback():
    problem = cp_problem((8, 7, 6), 4, rng=0)
    res = multi_subspace_power_method(problem.tensor, rng=0)
    assert sorted(res.history["component"]) == [0, 1, 2, 3]
    assert np.all(res.history["accepted"] == 1)
    assert isinstance(res.factors, list) and res.refinement is None
    stop = multi_subspace_power_method(problem.tensor, rng=0, callback=lambda *a: True)
    assert stop.rank == 1 and not stop.converged


def test_unaccepted_components_warn():
    problem = cp_problem((8, 7, 6), 5, rng=0)
    with pytest.warns(ConvergenceWarning, match="not accepted"):
        multi_subspace_power_method(problem.tensor, rng=0, maxiter=1, ntries=1)


def test_float32_is_kept():
    problem = cp_problem((8, 7, 6), 4, rng=0, dtype=np.float32)
    res = multi_subspace_power_method(problem.tensor, rng=0)
    assert res.weights.dtype == np.float32 and res.factors[0].dtype == np.float32
    assert relative_error(res, problem.tensor) < 1e-4


def test_array_api_namespaces(xp):
    if xp.__name__ == "numpy":
        pytest.skip("the NumPy path is the reference")
    problem = cp_problem((6, 6, 5), 4, symmetry=(0, 0, 1), rng=0)
    res = multi_subspace_power_method(xp.asarray(problem.tensor), symmetry=(0, 0, 1), rng=0)
    assert type(res.weights).__module__.split(".")[0] == xp.__name__.split(".")[0]
    host = multi_subspace_power_method(problem.tensor, symmetry=(0, 0, 1), rng=0)
    np.testing.assert_allclose(np.asarray(res.weights), host.weights, rtol=1e-9)


def test_bad_input():
    problem = cp_problem((5, 5, 4), 3, symmetry=(0, 0, 1), rng=0)
    T = problem.tensor
    with pytest.raises(ValueError, match="one label per mode"):
        multi_subspace_power_method(T, symmetry=(0, 0))
    with pytest.raises(ValueError, match="sides differ"):
        multi_subspace_power_method(T, symmetry=(0, 1, 1))
    bad = T.copy()
    bad[0, 1, 0] += 1.0
    with pytest.raises(ValueError, match=r"symmetric in modes \(0, 1\)"):
        multi_subspace_power_method(bad, symmetry=(0, 0, 1))
    with pytest.raises(ValueError, match=r"`rank` must be at most 5"):
        multi_subspace_power_method(T, 6, symmetry=(0, 0, 1))
    with pytest.raises(ValueError, match="order >= 3"):
        multi_subspace_power_method(np.ones((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        multi_subspace_power_method(np.full((2, 2, 2), np.inf))
    with pytest.raises(TypeError, match="`symmetry`"):
        multi_subspace_power_method(T, symmetry="aab")
    with pytest.raises(ValueError, match="zero"):
        multi_subspace_power_method(np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="`ntries`"):
        multi_subspace_power_method(T, ntries=0)


def test_cp_tensor_roundtrip_of_the_result():
    problem = cp_problem((5, 4, 3), 2, rng=1)
    res = multi_subspace_power_method(problem.tensor, rng=0)
    np.testing.assert_allclose(cp_tensor(res.weights, res.factors), res.to_tensor())


def test_same_rng_same_factors():
    problem = cp_problem((9, 8, 7), 5, rng=2)
    a = multi_subspace_power_method(problem.tensor, rng=4)
    b = multi_subspace_power_method(problem.tensor, rng=4)
    for A, B in zip(a.factors, b.factors, strict=True):
        np.testing.assert_array_equal(A, B)
    np.testing.assert_array_equal(a.history["iterations"], b.history["iterations"])
