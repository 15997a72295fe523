"""Tests of lowrank.regression.lp_regression and its dense solver lp_minimize."""

import itertools
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

import lowrank.regression._lp as lp_module
from lowrank._solvers.lp import lp_minimize, lp_objective
from lowrank.exceptions import ConvergenceWarning, LowrankWarning
from lowrank.regression._lp import METHODS, LpRegressionResult, lp_regression
from lowrank.sampling import SAMPLING_METHODS

SMOOTH_P = [1.5, 3.0, 4.0, 20.0]


def problem(n, d, seed, *, noise="t", scale=1.0):
    """Heavy-tailed rows and noise: the regime where l_p regression differs from l_2."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d)) * np.exp(rng.uniform(-1, 1, (n, 1)))
    e = rng.standard_t(2, n) if noise == "t" else rng.standard_normal(n)
    return A, scale * (A @ rng.standard_normal(d) + e)


def psi(r, p):
    """``sign(r) |r|^(p-1)`` of the residuals scaled to max 1 (the gradient direction)."""
    r = r / np.max(np.abs(r))
    return np.sign(r) * np.abs(r) ** (p - 1)


def primal_l1(A, b):
    """Reference l_1 regression: min sum t s.t. -t <= A x - b <= t (HiGHS, primal)."""
    n, d = A.shape
    eye = np.eye(n)
    res = scipy.optimize.linprog(
        np.r_[np.zeros(d), np.ones(n)],
        A_ub=np.block([[A, -eye], [-A, -eye]]), b_ub=np.r_[b, -b],
        bounds=[(None, None)] * d + [(0, None)] * n, method="highs")
    assert res.status == 0
    return res.x[:d], res.fun


def scipy_lp_reference(A, b, p, x0):
    """Reference minimizer by BFGS on ||A x - b||_p (better scaled than its p-th power),
    polished by Nelder-Mead; returns the objective sum |A x - b|^p."""
    def norm(x):
        return np.sum(np.abs(A @ x - b) ** p) ** (1 / p)

    x = scipy.optimize.minimize(norm, x0, method="BFGS", options={"gtol": 1e-12}).x
    x = scipy.optimize.minimize(norm, x, method="Nelder-Mead",
                                options={"xatol": 1e-14, "fatol": 1e-16, "maxiter": 20000}).x
    return norm(x) ** p


# ------------------------------------------------------------------------ p = 1


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 60), d=st.integers(1, 5))
def test_l1_dual_marginals_sign_convention(seed, n, d):
    """HiGHS' equality marginals of the dual LP are minus the primal minimizer."""
    A, b = problem(n, d, seed)
    res = scipy.optimize.linprog(-b, A_eq=A.T, b_eq=np.zeros(d), bounds=(-1, 1),
                                 method="highs")
    x_dual = -res.eqlin.marginals
    x_primal, f_primal = primal_l1(A, b)
    assert -res.fun == pytest.approx(f_primal, rel=1e-9)  # strong duality
    assert np.sum(np.abs(A @ x_dual - b)) == pytest.approx(f_primal, rel=1e-9)
    np.testing.assert_allclose(A @ x_dual, A @ x_primal, atol=1e-7 * np.abs(b).max())


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 80), d=st.integers(1, 6))
def test_l1_dual_primal_and_reference_agree(seed, n, d):
    A, b = problem(n, d, seed)
    dual = lp_minimize(A, b, 1.0)
    primal = lp_minimize(A, b, 1.0, l1_form="primal")
    _, f_ref = primal_l1(A, b)
    assert dual.converged and primal.converged
    assert dual.objective == pytest.approx(f_ref, rel=1e-9)
    assert primal.objective == pytest.approx(f_ref, rel=1e-9)
    assert dual.objective == pytest.approx(lp_objective(A @ dual.x - b, 1.0), rel=1e-12)
    # an optimal vertex interpolates rank(A) rows (exactly, after polishing)
    r = np.abs(A @ dual.x - b)
    assert np.sum(r <= 1e-10 * np.abs(b).max()) >= min(n, d)


# --------------------------------------------------------------------- 1 < p < inf


@pytest.mark.parametrize("p", SMOOTH_P)
@pytest.mark.parametrize("seed", range(3))
def test_smooth_p_matches_scipy_minimize(p, seed):
    A, b = problem(30, 3, seed)
    sol = lp_minimize(A, b, p)
    assert sol.converged, sol.message
    f_ref = scipy_lp_reference(A, b, p, sol.x + 0.05)
    # ours is certified to tol = 1e-10; the reference is at best as good
    assert sol.objective <= f_ref * (1 + 1e-10)
    assert sol.objective == pytest.approx(f_ref, rel=1e-8)
    # first-order optimality, A^T psi(r) = 0 (a relative gap g in the objective allows
    # relative gradients of about sqrt(g): 1e-5 at the default tol)
    # (tol = 1e-15 is below what a duality gap can certify in float64: the solver may
    # stall there, and then says converged=False instead of claiming convergence)
    for tol, bound in ((1e-10, 1e-4), (1e-15, 1e-6)):
        tight = lp_minimize(A, b, p, tol=tol, warn=False)
        assert tight.converged or "duality gap" in tight.message
        y = psi(A @ tight.x - b, p)
        assert np.linalg.norm(A.T @ y) <= bound * np.linalg.norm(A, 2) * np.linalg.norm(y)


def test_a_stall_is_not_reported_as_convergence():
    A, b = problem(30, 3, 0)
    sol = lp_minimize(A, b, 20.0, tol=1e-15, warn=False)
    assert not sol.converged and "stalled" in sol.message
    with pytest.warns(ConvergenceWarning, match="stalled"):
        lp_minimize(A, b, 20.0, tol=1e-15)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4, 120), d=st.integers(1, 6),
       p=st.sampled_from([1.01, 1.1, 1.5, 1.9, 2.5, 3.0, 4.0, 7.0, 20.0, 50.0]))
def test_smooth_p_first_order_optimality_and_certificate(seed, n, d, p):
    A, b = problem(n, d, seed)
    sol = lp_minimize(A, b, p)
    assert sol.converged, sol.message
    assert np.all(np.isfinite(sol.x))
    if n > d:
        # the history is decreasing and ends at the returned objective
        h = sol.history["objective"]
        assert np.all(np.diff(h) <= 1e-12 * h[:-1])
        # a tiny perturbation in any coordinate direction does not decrease the objective
        for j in range(d):
            for step in (1e-4, -1e-4):
                x = sol.x.copy()
                x[j] += step * (1 + abs(x[j]))
                assert lp_objective(A @ x - b, p) >= sol.objective * (1 - 1e-9)


def test_p_near_one_does_not_stall_at_a_wrong_vertex():
    """For p close to 1 the optimum is numerically a vertex; the solver must reach the
    right one (these seeds stalled at a wrong vertex with a decrease-based rule)."""
    for seed in (20, 21, 29):
        rng = np.random.default_rng(seed)
        A = rng.standard_normal((60, 4))
        b = A @ rng.standard_normal(4) + rng.standard_t(2, 60)
        sol = lp_minimize(A, b, 1.001)
        x1 = lp_minimize(A, b, 1.0).x
        assert sol.objective <= lp_objective(A @ x1 - b, 1.001) * (1 + 1e-10)


def test_large_p_does_not_overflow():
    A, b = problem(200, 4, 0, scale=1e6)
    sol = lp_minimize(A, b, 50.0)
    assert sol.converged and np.all(np.isfinite(sol.x))
    # at p = 50 the solution is close to the l_inf (Chebyshev) fit: compare max residuals
    r = A @ sol.x - b
    cheb = scipy.optimize.linprog(
        np.r_[np.zeros(4), 1.0],
        A_ub=np.block([[A, -np.ones((200, 1))], [-A, -np.ones((200, 1))]]),
        b_ub=np.r_[b, -b], bounds=[(None, None)] * 4 + [(0, None)], method="highs")
    assert np.max(np.abs(r)) <= cheb.fun * 1.12
    # the objective overflows float64 (~(1e7)^50): reported as inf, not an error
    assert sol.objective == np.inf


def test_p2_is_least_squares():
    A, b = problem(100, 5, 1)
    sol = lp_minimize(A, b, 2.0)
    np.testing.assert_allclose(sol.x, scipy.linalg.lstsq(A, b)[0], rtol=1e-10)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0, 20.0])
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3))
@settings(max_examples=10)
def test_invariances(p, seed, scale):
    """x scales with b, row permutations do not change x, column scaling rescales x."""
    A, b = problem(50, 3, seed)
    x = lp_minimize(A, b, p).x
    f = lp_minimize(A, b, p).objective
    np.testing.assert_allclose(lp_minimize(A, scale * b, p).x, scale * x, rtol=1e-6,
                               atol=1e-9 * scale * np.abs(x).max())
    perm = np.random.default_rng(seed).permutation(50)
    assert lp_minimize(A[perm], b[perm], p).objective == pytest.approx(f, rel=1e-9)
    D = np.array([1e-2, 1.0, 1e2])
    assert lp_minimize(A / D, b, p).objective == pytest.approx(f, rel=1e-9)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_rank_deficient_A(p):
    """A repeated column: the objective equals that of the reduced problem and x lies in
    the row space of A."""
    A, b = problem(80, 3, 2)
    B = np.column_stack([A, A[:, 0] + 2 * A[:, 1]])
    full = lp_minimize(B, b, p)
    reduced = lp_minimize(A, b, p)
    assert full.rank == 3
    assert full.objective == pytest.approx(reduced.objective, rel=1e-9)
    null = np.array([1.0, 2.0, 0.0, -1.0]) / np.sqrt(6)
    assert abs(null @ full.x) <= 1e-8 * np.linalg.norm(full.x)


def test_trivial_problems():
    A, b = problem(20, 3, 0)
    assert lp_minimize(A, np.zeros(20), 1.5).objective == 0.0
    sol = lp_minimize(np.zeros((20, 3)), b, 3.0)
    np.testing.assert_array_equal(sol.x, 0.0)
    assert sol.objective == pytest.approx(np.sum(np.abs(b) ** 3))
    x = np.array([1.0, -2.0, 3.0])
    for p in (0.5, 1.0, 1.5, 3.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LowrankWarning)
            np.testing.assert_allclose(lp_minimize(A, A @ x, p).x, x, rtol=1e-10)


def test_maxiter_warns_convergence_warning():
    A, b = problem(200, 5, 0)
    with pytest.warns(ConvergenceWarning, match="maxiter=1"):
        sol = lp_minimize(A, b, 20.0, maxiter=1)
    assert not sol.converged and sol.n_iter == 1


@pytest.mark.parametrize("seed", range(4))
def test_p_below_one_is_a_local_minimizer_no_worse_than_the_starts(seed):
    A, b = problem(12, 2, seed)
    p = 0.5
    with pytest.warns(LowrankWarning, match="nonconvex"):
        sol = lp_minimize(A, b, p)
    x_l1 = lp_minimize(A, b, 1.0).x
    x_l2 = lp_minimize(A, b, 2.0).x
    assert sol.objective <= lp_objective(A @ x_l1 - b, p) * (1 + 1e-12)
    assert sol.objective <= lp_objective(A @ x_l2 - b, p) * (1 + 1e-12)
    # the global minimum is at a vertex: never below it (rounding allowance)
    best = min(lp_objective(A @ np.linalg.solve(A[list(S)], b[list(S)]) - b, p)
               for S in itertools.combinations(range(12), 2)
               if abs(np.linalg.det(A[list(S)])) > 1e-12)
    assert sol.objective >= best * (1 - 1e-6)


# ------------------------------------------------------------------ lp_regression


def test_methods_are_exact_and_the_sampling_schemes():
    assert METHODS == ("exact", *SAMPLING_METHODS)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_exact_method_is_lp_minimize(p):
    A, b = problem(300, 4, 3)
    res = lp_regression(A, b, p, method="exact")
    sol = lp_minimize(A, b, p)
    assert isinstance(res, LpRegressionResult)
    np.testing.assert_allclose(res.x, sol.x, rtol=1e-12)
    assert res.objective == pytest.approx(sol.objective, rel=1e-12)
    assert res.sample is None and res.n_samples is None and res.method == "exact"
    assert res.converged
    assert set(res.history) == {"objective", "time"}
    assert "LpRegressionResult(" in repr(res)


# Sampled regression: (1 + eps)-approximation of the optimal objective.  n = 2000, d = 5,
# 300 expected rows (about 50 per column of [A b]); measured worst ratios over 10 seeds
# were 1.018 (Lewis, p = 1), 1.007 (p = 1.5), 1.002 (p = 3).  Allowance: at most 1 of the
# 10 fixed seeds may exceed 1 + eps.
APPROX_SEEDS = range(10)


@pytest.mark.parametrize("p, method, eps", [
    (1.0, "lewis", 0.05), (1.5, "lewis", 0.05), (3.0, "lewis", 0.05),
    (1.0, "sensitivity", 0.05), (1.5, "combined", 0.05), (3.0, "combined", 0.1),
    (1.5, "leverage", 0.1), (1.5, "root_leverage", 0.1), (1.0, "uniform", 0.2),
])
def test_sampled_regression_is_1_plus_eps_approximate(p, method, eps):
    A, b = problem(2000, 5, 123)
    optimum = lp_regression(A, b, p, method="exact").objective
    ratios = []
    for seed in APPROX_SEEDS:
        res = lp_regression(A, b, p, method=method, n_samples=300, rng=seed)
        assert res.converged and res.sample is not None
        assert res.objective == pytest.approx(lp_objective(A @ res.x - b, p), rel=1e-10)
        ratios.append(res.objective / optimum)
    assert min(ratios) >= 1 - 1e-9  # never below the optimum
    assert sum(r > 1 + eps for r in ratios) <= 1, ratios


def test_default_sample_size_and_embedding_of_the_response():
    A, b = problem(2000, 5, 7)
    res = lp_regression(A, b, 1.0, rng=0)
    assert res.n_samples == 20 * 6
    assert res.sample.matrix.shape == (res.sample.size, 6)  # [A b] was sampled
    np.testing.assert_allclose(res.sample.matrix[:, -1], res.sample.apply(b))
    small = lp_regression(A[:50], b[:50], 1.0, n_samples=10**6, rng=0)
    assert small.n_samples == 50 and small.sample.size == 50  # capped at n: every row


def test_same_rng_same_result():
    A, b = problem(1500, 4, 5)
    for method in ("lewis", "uniform", "sensitivity"):
        r1 = lp_regression(A, b, 1.5, method=method, n_samples=100, rng=42)
        r2 = lp_regression(A, b, 1.5, method=method, n_samples=100,
                           rng=np.random.default_rng(42))
        np.testing.assert_array_equal(r1.x, r2.x)
        np.testing.assert_array_equal(r1.sample.indices, r2.sample.indices)
    r3 = lp_regression(A, b, 1.5, n_samples=100, rng=43)
    assert not np.array_equal(r3.sample.indices, r1.sample.indices)


def test_rank_deficient_sample_falls_back_to_the_full_problem():
    A, b = problem(500, 5, 1)
    with pytest.warns(LowrankWarning, match="rank"):
        res = lp_regression(A, b, 1.0, method="uniform", n_samples=2, rng=0)
    assert res.objective == pytest.approx(lp_regression(A, b, 1.0, method="exact").objective,
                                          rel=1e-9)
    assert "full data" in res.message


def test_rank_deficient_A_with_sampling():
    A, b = problem(1000, 3, 2)
    B = np.column_stack([A, A[:, 0] - A[:, 2]])
    res = lp_regression(B, b, 1.5, n_samples=200, rng=0)
    exact = lp_regression(B, b, 1.5, method="exact").objective
    assert res.objective <= 1.1 * exact


def test_p_below_one_warns():
    A, b = problem(300, 2, 0)
    with pytest.warns(LowrankWarning, match="nonconvex"):
        res = lp_regression(A, b, 0.5, n_samples=60, rng=0)
    assert np.isfinite(res.objective)


@pytest.mark.parametrize("method", ["exact", "lewis"])
def test_float32_preserved_and_integers_promoted(method):
    A, b = problem(500, 3, 0)
    res32 = lp_regression(A.astype(np.float32), b.astype(np.float32), 1.5, method=method,
                          rng=0)
    assert res32.x.dtype == np.float32
    res64 = lp_regression(A, b, 1.5, method=method, rng=0)
    assert res64.x.dtype == np.float64
    assert res32.objective == pytest.approx(res64.objective, rel=1e-3)
    Ai = np.round(10 * A).astype(np.int64)
    bi = np.round(10 * b).astype(np.int32)
    assert lp_regression(Ai, bi, 1.0, method=method, rng=0).x.dtype == np.float64


def test_sparse_A():
    A, b = problem(400, 4, 0)
    A[np.abs(A) < 0.5] = 0.0
    S = scipy.sparse.csr_matrix(A)
    dense = lp_regression(A, b, 1.0, method="exact")
    sparse = lp_regression(S, b, 1.0, method="exact")
    np.testing.assert_allclose(sparse.x, dense.x, rtol=1e-9)
    res = lp_regression(S, b, 1.0, n_samples=150, rng=0)
    assert res.objective <= 1.3 * dense.objective


def test_maxiter_warns():
    A, b = problem(500, 4, 0)
    with pytest.warns(ConvergenceWarning):
        res = lp_regression(A, b, 20.0, method="exact", maxiter=1)
    assert not res.converged


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"p": 0.0}, ValueError, "`p`"),
    ({"p": -1.0}, ValueError, "`p`"),
    ({"p": np.inf}, ValueError, "`p`"),
    ({"p": np.nan}, ValueError, "`p`"),
    ({"p": "1"}, TypeError, "`p`"),
    ({"n_samples": 0}, ValueError, "`n_samples`"),
    ({"n_samples": 2.5}, TypeError, "`n_samples`"),
    ({"method": "bogus"}, ValueError, "`method`"),
    ({"tol": 0.0}, ValueError, "`tol`"),
    ({"maxiter": 0}, ValueError, "`maxiter`"),
    ({"A_nan": True}, ValueError, "`A`"),
    ({"b_nan": True}, ValueError, "`b`"),
    ({"b_short": True}, ValueError, "`b`"),
    ({"rng": "seed"}, TypeError, "`rng`"),
])
def test_bad_input_raises_before_any_work(monkeypatch, kwargs, exc, match):
    def no_work(*args, **kw):
        raise AssertionError("work started before validation")

    monkeypatch.setattr(lp_module, "lp_minimize", no_work)
    monkeypatch.setattr(lp_module, "_sample", no_work)
    A, b = problem(50, 3, 0)
    kwargs = dict(kwargs)
    if kwargs.pop("A_nan", False):
        A[3, 1] = np.nan
    if kwargs.pop("b_nan", False):
        b[7] = np.inf
    if kwargs.pop("b_short", False):
        b = b[:-1]
    p = kwargs.pop("p", 1.5)
    with pytest.raises(exc, match=match):
        lp_regression(A, b, p, **kwargs)
