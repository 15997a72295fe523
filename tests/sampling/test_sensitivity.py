"""Tests of lowrank.sampling.lp_sensitivities (exact and upper bounds)."""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank.exceptions import ConvergenceWarning
from lowrank.sampling import leverage_scores, lewis_weights
from lowrank.sampling._sensitivity import (
    MAX_ENUMERATION,
    SensitivitiesResult,
    _orthonormal_basis,
    enumerate_sensitivities,
    lp_sensitivities,
)

# Relative slack for the inequalities between exact sensitivities (programs solved to a
# certified relative gap of 1e-12), Lewis weights (tol 1e-10 in log) and leverage scores.
RTOL = 1e-7


def heavy(n, d, seed, df=2.0):
    """Student-t rows: a wide spread of sensitivities (the note's test matrices)."""
    return np.random.default_rng(seed).standard_t(df, size=(n, d))


def lp_reference_l1(A, i):
    """1 / min ||A x||_1 s.t. a_i^T x = 1 by a direct primal LP on A (HiGHS)."""
    n, d = A.shape
    eye = np.eye(n)
    res = scipy.optimize.linprog(
        np.r_[np.zeros(d), np.ones(n)],
        A_ub=np.block([[A, -eye], [-A, -eye]]), b_ub=np.zeros(2 * n),
        A_eq=np.r_[A[i], np.zeros(n)][None, :], b_eq=[1.0],
        bounds=[(None, None)] * d + [(0, None)] * n, method="highs")
    assert res.status == 0
    return 1.0 / res.fun


def ratio_lower_bounds(A, p, X):
    """max over the columns x of X of |a_i^T x|^p / ||A x||_p^p: lower bounds on s_i."""
    V = np.abs(A @ X)
    V /= V.max(axis=0)
    P = V**p
    return np.max(P / P.sum(axis=0), axis=1)


# ----------------------------------------------------------------- exact, p = 1


@pytest.mark.parametrize("seed", range(3))
def test_p1_matches_a_direct_lp_per_row(seed):
    A = heavy(25, 3, seed)
    res = lp_sensitivities(A, 1)
    ref = np.array([lp_reference_l1(A, i) for i in range(25)])
    np.testing.assert_allclose(res.sensitivities, ref, rtol=1e-9)
    assert res.bound == "linear programs" and res.method == "exact"


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 25), d=st.integers(1, 4))
@settings(max_examples=15)
def test_p1_matches_enumeration(seed, n, d):
    A = heavy(n, d, seed)
    U, _ = _orthonormal_basis(A, max(A.shape) * np.finfo(float).eps)
    np.testing.assert_allclose(lp_sensitivities(A, 1).sensitivities,
                               enumerate_sensitivities(U, 1.0), rtol=1e-9, atol=1e-14)


# --------------------------------------------------------- exact, relations (note)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 30), d=st.integers(1, 4),
       p=st.sampled_from([0.5, 1.0, 1.5]))
@settings(max_examples=15)
def test_relations_p_at_most_2(seed, n, d, p):
    """s_i <= 1, s_i <= w_i, s_i <= tau_i^(p/2), w_i <= d^(1-p/2) s_i (Chen-Derezinski),
    and d^(p/2) <= S <= d."""
    A = heavy(n, d, seed)
    s = lp_sensitivities(A, p).sensitivities
    w = lewis_weights(A, p).weights
    tau = leverage_scores(A).scores
    assert np.all(s <= 1 + RTOL)
    assert np.all(s <= w * (1 + RTOL))
    assert np.all(s <= tau ** (p / 2) * (1 + RTOL))
    assert np.all(w <= d ** (1 - p / 2) * s * (1 + RTOL))
    assert d ** (p / 2) * (1 - RTOL) <= s.sum() <= d * (1 + RTOL)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 30), d=st.integers(1, 4),
       p=st.sampled_from([3.0, 4.0, 6.0]))
@settings(max_examples=15)
def test_relations_p_at_least_2(seed, n, d, p):
    """w_i <= s_i <= d^(p/2-1) w_i and d <= S <= d^(p/2)."""
    A = heavy(n, d, seed)
    s = lp_sensitivities(A, p).sensitivities
    w = lewis_weights(A, p).weights
    assert np.all(s <= 1 + RTOL)
    assert np.all(w <= s * (1 + RTOL))
    assert np.all(s <= d ** (p / 2 - 1) * w * (1 + RTOL))
    assert d * (1 - RTOL) <= s.sum() <= d ** (p / 2) * (1 + RTOL)


@given(seed=st.integers(0, 2**32 - 1), p=st.sampled_from([0.5, 1.0, 1.5, 3.0, 4.0]))
@settings(max_examples=15)
def test_exact_is_the_supremum(seed, p):
    """Every direction x gives |a_i^T x|^p / ||A x||_p^p <= s_i, and the supremum is
    attained: the exact values are no smaller than random/structured lower bounds."""
    rng = np.random.default_rng(seed)
    A = heavy(20, 3, rng)
    s = lp_sensitivities(A, p).sensitivities
    X = np.column_stack([rng.standard_normal((3, 500)), np.linalg.pinv(A)])
    assert np.all(ratio_lower_bounds(A, p, X) <= s * (1 + RTOL))


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_exact_matches_a_constrained_scipy_solve(p):
    A = heavy(15, 3, 4)
    s = lp_sensitivities(A, p).sensitivities
    for i in (0, 7, 14):
        res = scipy.optimize.minimize(
            lambda x: np.sum(np.abs(A @ x) ** p), A[i] / (A[i] @ A[i]), method="SLSQP",
            constraints=[{"type": "eq", "fun": lambda x, i=i: A[i] @ x - 1}],
            options={"ftol": 1e-14, "maxiter": 1000})
        assert s[i] == pytest.approx(1 / res.fun, rel=1e-6)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 60), d=st.integers(1, 5))
@settings(max_examples=15)
def test_p2_is_leverage(seed, n, d):
    A = heavy(n, d, seed)
    res = lp_sensitivities(A, 2)
    np.testing.assert_allclose(res.sensitivities, leverage_scores(A).scores, rtol=1e-10,
                               atol=1e-14)
    assert res.total == pytest.approx(min(n, d), rel=1e-10)
    # continuity in p: p = 2 +- 1e-6 agrees with the leverage scores to about 1e-5
    near = lp_sensitivities(A[:20], 2 + 1e-6).sensitivities
    np.testing.assert_allclose(near, leverage_scores(A[:20]).scores, rtol=1e-4, atol=1e-12)


@given(seed=st.integers(0, 2**32 - 1), p=st.sampled_from([0.5, 1.0, 1.5, 3.0]))
@settings(max_examples=10)
def test_invariant_under_right_multiplication_and_row_permutation(seed, p):
    rng = np.random.default_rng(seed)
    A = heavy(20, 3, rng)
    s = lp_sensitivities(A, p).sensitivities
    T = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(lp_sensitivities(A @ T, p).sensitivities, s, rtol=1e-7,
                               atol=1e-12)
    perm = rng.permutation(20)
    np.testing.assert_allclose(lp_sensitivities(A[perm], p).sensitivities, s[perm],
                               rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 3.0])
def test_zero_rows_rank_deficiency_and_orthogonal_rows(p):
    A = heavy(20, 3, 0)
    B = np.column_stack([A, A[:, 0] - A[:, 1]])  # rank 3 with 4 columns
    B[[4, 11]] = 0.0
    res = lp_sensitivities(B, p)
    assert res.rank == 3
    assert res.sensitivities[4] == 0 and res.sensitivities[11] == 0
    keep = np.ones(20, dtype=bool)
    keep[[4, 11]] = False
    np.testing.assert_allclose(res.sensitivities[keep],
                               lp_sensitivities(A[keep], p).sensitivities, rtol=1e-7)
    # a row orthogonal to all others has sensitivity 1
    C = np.zeros((21, 4))
    C[:20, :3] = A
    C[20, 3] = 5.0
    assert lp_sensitivities(C, p).sensitivities[20] == pytest.approx(1.0, rel=1e-9)
    # rank 1: s_i = |a_i|^p / sum |a_k|^p
    a = A[:, :1]
    np.testing.assert_allclose(lp_sensitivities(a, p).sensitivities,
                               np.abs(a[:, 0]) ** p / np.sum(np.abs(a) ** p), rtol=1e-10)
    assert lp_sensitivities(np.zeros((5, 2)), p).total == 0.0
    # n <= rank: every row can be isolated, s_i = 1
    np.testing.assert_allclose(lp_sensitivities(heavy(3, 5, 1), p).sensitivities, 1.0,
                               rtol=1e-12)


def test_p_below_one_size_limit():
    with pytest.raises(ValueError, match="too large"):
        lp_sensitivities(np.ones((400, 5)), 0.5)
    n = 30
    assert n * np.prod([n - k for k in range(3)]) / 6 <= MAX_ENUMERATION
    assert lp_sensitivities(heavy(n, 4, 0), 0.5).converged


# ---------------------------------------------------------------------- upper bound


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 30), d=st.integers(1, 4),
       p=st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 4.0]))
@settings(max_examples=15)
def test_upper_bound_dominates_exact(seed, n, d, p):
    A = heavy(n, d, seed)
    exact = lp_sensitivities(A, p)
    bound = lp_sensitivities(A, p, method="upper_bound")
    assert bound.method == "upper_bound" and bound.rank == exact.rank == min(n, d)
    assert np.all(bound.sensitivities >= exact.sensitivities * (1 - RTOL))
    assert np.all(bound.sensitivities <= 1)
    assert bound.total >= exact.total * (1 - RTOL)
    expected = {True: "min(lewis, leverage^(p/2))", False: "rank^(p/2-1) * lewis"}
    assert bound.bound == ("leverage" if p == 2 else expected[p < 2])


def test_upper_bound_formulas():
    A = heavy(200, 4, 1)
    tau = leverage_scores(A).scores
    for p in (1.0, 1.5):
        w = lewis_weights(A, p).weights
        np.testing.assert_allclose(lp_sensitivities(A, p, method="upper_bound").sensitivities,
                                   np.minimum(w, tau ** (p / 2)), rtol=1e-12)
    w = lewis_weights(A, 3.0).weights
    np.testing.assert_allclose(lp_sensitivities(A, 3.0, method="upper_bound").sensitivities,
                               np.minimum(2.0 * w, 1.0), rtol=1e-12)


# ------------------------------------------------------------ conventions, errors


@pytest.mark.parametrize("method", ["exact", "upper_bound"])
def test_result_dtype_sparse_and_array(method):
    A = heavy(25, 3, 2)
    A[np.abs(A) < 0.3] = 0.0
    res = lp_sensitivities(A, 1.5, method=method)
    assert isinstance(res, SensitivitiesResult)
    np.testing.assert_array_equal(np.asarray(res), res.sensitivities)
    assert res.total == pytest.approx(res.sensitivities.sum())
    assert "SensitivitiesResult(" in repr(res)
    res32 = lp_sensitivities(A.astype(np.float32), 1.5, method=method)
    assert res32.sensitivities.dtype == np.float32
    np.testing.assert_allclose(res32.sensitivities, res.sensitivities, rtol=1e-4, atol=1e-6)
    sparse = lp_sensitivities(scipy.sparse.csr_matrix(A), 1.5, method=method)
    np.testing.assert_allclose(sparse.sensitivities, res.sensitivities, rtol=1e-8)
    ints = lp_sensitivities(np.round(5 * A).astype(np.int64), 1.0, method=method)
    assert ints.sensitivities.dtype == np.float64


@pytest.mark.parametrize("p, exc", [(0.0, ValueError), (-1.0, ValueError),
                                    (np.inf, ValueError), (np.nan, ValueError),
                                    ("2", TypeError), (None, TypeError)])
@pytest.mark.parametrize("method", ["exact", "upper_bound"])
def test_bad_p(p, exc, method):
    with pytest.raises(exc, match="`p`"):
        lp_sensitivities(heavy(10, 2, 0), p, method=method)


def test_bad_input():
    A = heavy(10, 2, 0)
    with pytest.raises(ValueError, match="`method`"):
        lp_sensitivities(A, 1, method="bogus")
    B = A.copy()
    B[2, 1] = np.nan
    with pytest.raises(ValueError, match="`A`"):
        lp_sensitivities(B, 1)
    B[2, 1] = np.inf
    with pytest.raises(ValueError, match="`A`"):
        lp_sensitivities(B, 1, method="upper_bound")
    with pytest.raises(ValueError, match="`rcond`"):
        lp_sensitivities(A, 1, rcond=-1.0)
    with pytest.raises(TypeError, match="`A`"):
        lp_sensitivities(A + 1j, 1)


def test_no_convergence_warning_on_hard_rows():
    """Rows spanning many orders of magnitude and p near 1 and large p: every program
    still converges (no ConvergenceWarning, which the suite turns into an error)."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((40, 3)) * np.exp(rng.uniform(-6, 6, (40, 1)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for p in (1.01, 1.5, 10.0):
            assert lp_sensitivities(A, p).converged


@pytest.mark.parametrize("p", [1.0, 3.0])
def test_upper_bound_on_array_api_namespaces(xp, p):
    A = heavy(40, 3, 0)
    res = lp_sensitivities(xp.asarray(A), p, method="upper_bound")
    values = res.sensitivities.get() if hasattr(res.sensitivities, "get") else \
        np.asarray(res.sensitivities)
    np.testing.assert_allclose(values, lp_sensitivities(A, p, method="upper_bound")
                               .sensitivities, rtol=1e-8)
    if xp.__name__ != "numpy":
        with pytest.raises(TypeError, match="`A`"):
            lp_sensitivities(xp.asarray(A), p)


# ----------------------------------------------------------------------- sketched


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
@pytest.mark.parametrize("df", [2.0, 30.0])
def test_sketched_is_close_to_exact(p, df):
    """Programs against a Lewis sample of 80 r rows: every value within 0.75-1.3 of the
    exact sensitivity (measured 0.8-1.2), the total within 10 %."""
    A = heavy(250, 3, 1, df)
    exact = lp_sensitivities(A, p)
    sketched = lp_sensitivities(A, p, method="sketched", rng=0)
    assert sketched.method == "sketched" and sketched.rank == 3
    assert "Lewis sample" in sketched.bound
    ratio = sketched.sensitivities / exact.sensitivities
    assert 0.75 <= ratio.min() and ratio.max() <= 1.3
    assert sketched.total == pytest.approx(exact.total, rel=0.1)


def test_sketched_reproducible_and_full_sample_is_exact():
    A = heavy(300, 3, 4)
    a = lp_sensitivities(A, 1.5, method="sketched", n_samples=100, rng=7)
    b = lp_sensitivities(A, 1.5, method="sketched", n_samples=100, rng=7)
    np.testing.assert_array_equal(a.sensitivities, b.sensitivities)
    full = lp_sensitivities(A, 1.5, method="sketched", n_samples=300, rng=0)
    np.testing.assert_allclose(full.sensitivities, lp_sensitivities(A, 1.5).sensitivities,
                               rtol=1e-6)


def test_enumeration_guard_bounds_every_possible_rank():
    """C(n, j) is not monotone in j: a square 40 x 40 matrix may have rank 21, whose
    enumeration has C(40, 20) lines; the guard must refuse it before any work."""
    with pytest.raises(ValueError, match="too large"):
        lp_sensitivities(np.ones((40, 40)), 0.5)


def test_sketched_bad_input():
    A = heavy(50, 2, 0)
    with pytest.raises(ValueError, match="`p` >= 1"):
        lp_sensitivities(A, 0.5, method="sketched")
    with pytest.raises(ValueError, match="`n_samples`"):
        lp_sensitivities(A, 1, method="sketched", n_samples=0)
    with pytest.raises(TypeError, match="`rng`"):
        lp_sensitivities(A, 1, method="sketched", rng="seed")
