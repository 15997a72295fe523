"""Robust low-rank recovery: measurement operators, corruption, the sub-gradient method."""

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank.exceptions import ConvergenceWarning
from lowrank.robust import (
    EntryMeasurements,
    GaussianMeasurements,
    corrupt,
    subgradient_recovery,
)


def psd_problem(d, r, kappa, seed):
    """A rank-``r`` PSD matrix of unit Frobenius norm with condition number ``kappa``."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, r)))[0]
    X = (Q * np.geomspace(1.0, 1.0 / kappa, r)) @ Q.T
    return X / np.linalg.norm(X)


def sensing(d, r, kappa, p, seed, m_factor=20):
    X = psd_problem(d, r, kappa, seed)
    A = GaussianMeasurements(d, m_factor * d * r, rng=seed + 1)
    y0 = A(X)
    return A, corrupt(y0, p, magnitude=10 * np.abs(y0).max(), rng=seed + 2), X


def rel_error(res, X):
    return np.linalg.norm(res.X - X) / np.linalg.norm(X)


def inner(a, b):
    a, b = (x.toarray() if scipy.sparse.issparse(x) else np.asarray(x) for x in (a, b))
    return float(np.sum(a * b))


# -- operators ------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: GaussianMeasurements(5, 40, rng=0),
    lambda: GaussianMeasurements((4, 7), 30, rng=1, storage="blocks"),
    lambda: GaussianMeasurements(6, 25, rng=2, dtype=np.float32),
    lambda: EntryMeasurements([0, 2, 2, 1], [1, 0, 3, 3], (3, 4)),
    lambda: EntryMeasurements([0, 0, 1], [2, 2, 0], (2, 3)),        # a repeated entry
])
def test_adjoint_identity(make):
    A = make()
    rng = np.random.default_rng(0)
    tol = 1e-5 if A.dtype == np.float32 else 1e-12
    for _ in range(3):
        X = rng.standard_normal(A.shape)
        z = rng.standard_normal(A.n_measurements)
        lhs, rhs = float(A(X) @ z), inner(X, A.adjoint(z))
        assert abs(lhs - rhs) <= tol * (np.linalg.norm(A(X)) * np.linalg.norm(z) + 1e-300)
        assert A(X).dtype == A.dtype


@settings(max_examples=15, deadline=None)
@given(d1=st.integers(1, 9), d2=st.integers(1, 9), m=st.integers(1, 60), seed=st.integers(0, 2**16),
       kind=st.sampled_from(["dense", "blocks", "entries"]),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_adjoint_identity_property(d1, d2, m, seed, kind, dtype):
    rng = np.random.default_rng(seed)
    if kind == "entries":
        A = EntryMeasurements(rng.integers(0, d1, m), rng.integers(0, d2, m), (d1, d2),
                              dtype=dtype)
    else:
        A = GaussianMeasurements((d1, d2), m, rng=seed, dtype=dtype, storage=kind)
    X, z = rng.standard_normal((d1, d2)), rng.standard_normal(A.n_measurements)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    scale = np.linalg.norm(A(X)) * np.linalg.norm(z) + np.linalg.norm(X) * np.linalg.norm(
        A.adjoint(z).toarray() if scipy.sparse.issparse(A.adjoint(z)) else A.adjoint(z))
    assert abs(float(A(X) @ z) - inner(X, A.adjoint(z))) <= tol * max(scale, 1e-300)


@settings(max_examples=15, deadline=None)
@given(m=st.integers(1, 200), fraction=st.floats(0.0, 1.0), seed=st.integers(0, 2**16),
       distribution=st.sampled_from(["uniform", "gaussian"]))
def test_corrupt_property(m, fraction, seed, distribution):
    y = np.random.default_rng(seed).standard_normal(m)
    out, mask = corrupt(y, fraction, distribution=distribution, rng=seed, return_mask=True)
    assert mask.sum() == round(fraction * m) and out.dtype == y.dtype
    np.testing.assert_array_equal(out[~mask], y[~mask])
    np.testing.assert_array_equal(out, corrupt(y, fraction, distribution=distribution,
                                               rng=seed))


def test_gaussian_storage_does_not_change_the_operator(monkeypatch):
    from lowrank.robust import _measurements
    monkeypatch.setattr(_measurements, "_BLOCK_BYTES", 7 * 36 * 8)   # 7 rows per block
    dense = GaussianMeasurements(6, 50, rng=3, storage="dense")
    blocks = GaussianMeasurements(6, 50, rng=3, storage="blocks")
    assert blocks._block_rows == 7 and blocks._matrix is None
    X = np.random.default_rng(0).standard_normal((6, 6))
    np.testing.assert_allclose(dense(X), blocks(X), rtol=1e-13)
    z = np.sign(dense(X))
    np.testing.assert_allclose(dense.adjoint(z), blocks.adjoint(z), rtol=1e-12, atol=1e-12)
    U = np.random.default_rng(1).standard_normal((6, 2))
    for op in (dense, blocks):
        loss, Q = op._loss_and_sign_adjoint(U, U, dense(X))
        r = dense(U @ U.T) - dense(X)
        np.testing.assert_allclose(Q, dense.adjoint(np.sign(r)), atol=1e-11)
        assert np.isclose(loss, np.abs(r).sum())


def test_entry_residual_kernel_matches_numpy():
    rng = np.random.default_rng(4)
    rows, cols = rng.integers(0, 30, 5000), rng.integers(0, 20, 5000)
    A = EntryMeasurements(rows, cols, (30, 20))
    U, V, y = rng.standard_normal((30, 3)), rng.standard_normal((20, 3)), rng.standard_normal(5000)
    r, loss = A._residual(U, V, y)
    np.testing.assert_allclose(r, (U @ V.T)[rows, cols] - y, atol=1e-13)
    assert np.isclose(loss, np.abs(r).sum())


def test_corrupt_models():
    y = np.linspace(-1.0, 1.0, 1000)
    out, mask = corrupt(y, 0.2, rng=0, return_mask=True)
    assert mask.sum() == 200 and np.array_equal(out[~mask], y[~mask])
    assert np.all(np.abs(out[mask] - y[mask]) <= 10.0)                # 10 max|y| default
    dense = corrupt(y, 1.0, magnitude=0.5, distribution="gaussian", rng=1)
    assert 0.45 < np.std(dense - y) < 0.55
    np.testing.assert_array_equal(corrupt(y, 0.3, rng=5), corrupt(y, 0.3, rng=5))
    with pytest.raises(ValueError, match="`fraction`"):
        corrupt(y, 1.5)
    with pytest.raises(ValueError, match="`distribution`"):
        corrupt(y, 0.1, distribution="cauchy")
    with pytest.raises(ValueError, match="finite"):
        corrupt(np.array([1.0, np.nan]), 0.5)


# -- recovery -------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), r=st.integers(1, 3), kappa=st.sampled_from([1.0, 3.0]),
       p=st.sampled_from([0.0, 0.1, 0.2]), over=st.sampled_from([1, 2, 5, "d"]))
def test_default_schedule_recovers_with_outliers_and_over_parameterization(seed, r, kappa,
                                                                            p, over):
    # The paper's setting (Gaussian sensing, PSD ground truth, m = 20 d r), well inside the
    # region where a tuned fixed schedule reaches 1e-6: the defaults must too.
    d = 16
    A, y, X = sensing(d, r, kappa, p, seed)
    rank = d if over == "d" else min(d, over * r)
    res = subgradient_recovery(A, y, rank)
    assert res.converged and res.escaped
    assert rel_error(res, X) <= 1e-6
    assert res.U.shape == (d, rank) and res.V is None
    np.testing.assert_allclose(res.X, res.U @ res.U.T)


# Fixed seed list with a written failure allowance: the defaults' recovery is a
# probabilistic statement (over the measurements), so a rare failure on an unlucky draw is
# allowed -- at most ALLOWED of the runs below may miss 1e-6 (none did when this was
# written).
RECOVERY_SEEDS = range(6)
ALLOWED = 1


def test_recovery_rate_on_a_fixed_seed_list():
    failures = []
    for seed in RECOVERY_SEEDS:
        for kappa, p, over in [(3.0, 0.3, 2), (1.0, 0.2, 5), (3.0, 0.1, "d")]:
            A, y, X = sensing(14, 2, kappa, p, seed=100 + seed)
            rank = 14 if over == "d" else over * 2
            error = rel_error(subgradient_recovery(A, y, rank), X)
            if error > 1e-6:
                failures.append((seed, kappa, p, over, error))
    assert len(failures) <= ALLOWED, failures


def test_default_recovers_where_fixed_schedules_fail():
    # Paper note's reference problems (d = 30, m = 20 d r, r' = d): (0.1, 0.995) is stuck on
    # kappa = 10 and (0.1, 0.998) over-budget on kappa = 1 with 30 % outliers; the default
    # schedule serves both.  Fixed seed list, no failure allowed.
    for kappa, p, fixed in [(1.0, 0.3, 0.998), (10.0, 0.1, 0.995)]:
        A, y, X = sensing(30, 3, kappa, p, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            tuned = subgradient_recovery(A, y, 30, step_size=0.1, decay=fixed)
        ours = subgradient_recovery(A, y, 30)
        assert rel_error(ours, X) <= 1e-6
        assert rel_error(tuned, X) > 1e-4
        assert ours.n_iter < 5000


def test_asymmetric_and_entry_measurements():
    rng = np.random.default_rng(1)
    L, R = rng.standard_normal((20, 2)), rng.standard_normal((15, 2))
    X = L @ R.T
    A = GaussianMeasurements((20, 15), 20 * 20 * 2, rng=2)
    res = subgradient_recovery(A, corrupt(A(X), 0.1, rng=3), 4, symmetric=False)
    assert res.V.shape == (15, 4) and rel_error(res, X) <= 1e-6
    # robust PCA: every entry observed, 10 % outliers
    n = 60
    L, R = rng.standard_normal((n, 3)), rng.standard_normal((n, 3))
    X = L @ R.T
    rows, cols = np.divmod(np.arange(n * n), n)
    E = EntryMeasurements(rows, cols, (n, n))
    res = subgradient_recovery(E, corrupt(E(X), 0.1, rng=4), 6, symmetric=False)
    assert rel_error(res, X) <= 1e-8


def test_dense_noise_reaches_a_floor_not_zero():
    # Dense Gaussian noise (Definition 9): a near-minimax floor ~ nu sqrt(d r / m), not
    # convergence to X*.
    d, r, nu = 16, 2, 0.05
    X = psd_problem(d, r, 1.0, 5)
    A = GaussianMeasurements(d, 20 * d * r, rng=6)
    y = corrupt(A(X), 1.0, magnitude=nu, distribution="gaussian", rng=7)
    err = rel_error(subgradient_recovery(A, y, d), X)
    rate = nu * np.sqrt(d * r / A.n_measurements)
    assert 0.3 * rate < err < 10 * rate


def test_error_contracts_geometrically_after_escape():
    # What the paper guarantees (Thm 27 / Cor 28) is linear convergence of the error
    # ||U_t U_t^T - X*||_F after the escape phase, at the schedule's rate, not a monotone
    # loss: each window of 300 iterations after the escape ends with its worst error
    # below the previous window's.
    A, y, X = sensing(16, 2, 1.0, 0.1, seed=3)
    res = subgradient_recovery(A, y, 16, step_size=0.1, decay=0.995, X_true=X,
                               maxiter=3000)
    err = np.asarray(res.history["error"])
    start = int(np.argmax(np.asarray(res.history["escaped"]) > 0)) + 300
    worst = [err[a:a + 300].max() for a in range(start, err.size - 300, 300)]
    assert len(worst) >= 3 and all(b < a for a, b in itertools.pairwise(worst))
    assert err[-1] <= 1e-6


def test_under_budget_schedule_warns():
    A, y, _ = sensing(16, 2, 1.0, 0.1, seed=1)
    with pytest.warns(ConvergenceWarning) as record:
        res = subgradient_recovery(A, y, 16, step_size=0.01, decay=0.99)
    messages = [str(w.message) for w in record]
    assert any("half the step budget" in text for text in messages)   # during the run
    assert any("did not escape" in text for text in messages)          # and at its end
    assert not res.escaped and not res.converged


def test_history_result_fields_and_reproducibility():
    A, y, X = sensing(12, 2, 1.0, 0.1, seed=2)
    a = subgradient_recovery(A, y, 4, init="random", rng=7, X_true=X)
    b = subgradient_recovery(A, y, 4, init="random", rng=7, X_true=X)
    np.testing.assert_array_equal(a.U, b.U)
    h = a.history
    for column in ("loss", "step", "budget", "norm_U", "escaped", "error", "time"):
        assert len(h[column]) == a.n_iter
    assert np.all(np.diff(h["budget"]) >= 0) and h["error"][-1] <= 1e-6
    assert a.budget == pytest.approx(h["budget"][-1]) and a.escape_estimate > 0
    assert np.isnan(a.decay) and a.step_size == 0.1
    stopped = subgradient_recovery(A, y, 4, callback=lambda t, loss: t >= 9)
    assert stopped.n_iter == 10 and stopped.message == "stopped by callback"


def test_float32():
    X = psd_problem(12, 2, 1.0, 0)
    A = GaussianMeasurements(12, 480, rng=1, dtype=np.float32)
    res = subgradient_recovery(A, corrupt(A(X), 0.1, rng=2), 12)
    assert res.U.dtype == np.float32 and res.X.dtype == np.float32
    assert rel_error(res, X) <= 1e-4


def test_bad_input():
    A = GaussianMeasurements(5, 40, rng=0)
    y = np.zeros(40)
    with pytest.raises(TypeError, match="`measurements`"):
        subgradient_recovery(np.eye(5), y, 2)
    with pytest.raises(ValueError, match="`y` must have shape"):
        subgradient_recovery(A, np.zeros(39), 2)
    with pytest.raises(ValueError, match="finite"):
        subgradient_recovery(A, np.full(40, np.nan), 2)
    with pytest.raises(ValueError, match="`rank`"):
        subgradient_recovery(A, y, 6)
    with pytest.raises(ValueError, match="`rank`"):
        subgradient_recovery(A, y, 0)
    with pytest.raises(ValueError, match="square"):
        subgradient_recovery(GaussianMeasurements((4, 5), 30, rng=0), np.zeros(30), 2)
    with pytest.raises(ValueError, match="`init`"):
        subgradient_recovery(A, y, 2, init="svd")
    with pytest.raises(ValueError, match="`step_rule`"):
        subgradient_recovery(A, y, 2, step_rule="polyak")
    with pytest.raises(ValueError, match="`decay`"):
        subgradient_recovery(A, y, 2, decay=1.5)
    with pytest.raises(ValueError, match="`step_size`"):
        subgradient_recovery(A, y, 2, step_size=-1.0)
    with pytest.raises(ValueError, match="`init_scale`"):
        subgradient_recovery(A, y, 2, init_scale=0.0)
    with pytest.raises(ValueError, match="`X_true`"):
        subgradient_recovery(A, y, 2, X_true=np.eye(4))
    with pytest.raises(ValueError, match="`X` must have shape"):
        A(np.eye(4))
    with pytest.raises(ValueError, match="`z` must have shape"):
        A.adjoint(np.zeros(3))
    with pytest.raises(ValueError, match="`storage`"):
        GaussianMeasurements(5, 40, storage="disk")
    with pytest.raises(ValueError, match="`n_measurements`"):
        GaussianMeasurements(5, 0)
    with pytest.raises(ValueError, match="`rows`"):
        EntryMeasurements([0, 5], [0, 1], (5, 2))
    with pytest.raises(ValueError, match="equal lengths"):
        EntryMeasurements([0, 1], [0], (5, 2))
    with pytest.raises(TypeError, match="integers"):
        EntryMeasurements([0.5], [0], (5, 2))
    with pytest.raises(ValueError, match="at least one"):
        EntryMeasurements([], [], (5, 2))


def test_fully_observed_entries_use_the_dense_path_with_the_same_answer():
    rng = np.random.default_rng(5)
    n1, n2 = 7, 5
    rows, cols = np.divmod(rng.permutation(n1 * n2), n2)          # every entry, shuffled
    A = EntryMeasurements(rows, cols, (n1, n2))
    assert A._full
    U, V, y = rng.standard_normal((n1, 2)), rng.standard_normal((n2, 2)), rng.standard_normal(35)
    loss, Q = A._loss_and_sign_adjoint(U, V, y)
    r_ref, loss_ref = A._residual(U, V, y)
    np.testing.assert_allclose(r_ref, (U @ V.T)[rows, cols] - y, atol=1e-13)
    assert np.isclose(loss, loss_ref)
    np.testing.assert_array_equal(Q, A.adjoint(np.sign(r_ref)).toarray())
    np.testing.assert_array_equal(A._sign_adjoint(y), A.adjoint(np.sign(y)).toarray())
    in_order = EntryMeasurements(*np.divmod(np.arange(n1 * n2), n2), (n1, n2))
    assert in_order._full and in_order._flat is None        # y is laid out without a copy
    y_sorted = np.empty_like(y)
    y_sorted[rows * n2 + cols] = y
    assert np.isclose(in_order._loss_and_sign_adjoint(U, V, y_sorted)[0], loss_ref)


def test_top_direction_lanczos_matches_dense():
    from lowrank.robust._subgradient import _top_direction
    rng = np.random.default_rng(0)
    B = rng.standard_normal((260, 260))
    for symmetric in (True, False):
        u, v = _top_direction(B, symmetric, rng)
        if symmetric:
            _, vectors = np.linalg.eigh(-(B + B.T) / 2)
            ref_u = ref_v = vectors[:, -1]
        else:
            P, _, Wt = np.linalg.svd(B)
            ref_u, ref_v = P[:, 0], Wt[0]
        assert abs(u @ ref_u) > 1 - 1e-6 and abs(v @ ref_v) > 1 - 1e-6


def test_power_estimate_rides_along_the_step_products():
    from lowrank.robust._subgradient import _PowerEstimate, _State
    rng = np.random.default_rng(2)
    Q = rng.standard_normal((150, 90)) + 3.0 * np.outer(rng.standard_normal(150),
                                                        rng.standard_normal(90)) / 10
    U, V = rng.standard_normal((150, 3)), rng.standard_normal((90, 3))
    power = _PowerEstimate(rng, np.float64)
    exact = np.linalg.norm(Q, 2)
    state = _State(U, V, False, first_escape=1.0)
    for _ in range(5):
        move_U, move_V, norm = power.descent(Q, state)
        np.testing.assert_allclose(move_U, Q @ V, atol=1e-12)
        np.testing.assert_allclose(move_V, Q.T @ U, atol=1e-12)
        assert norm <= exact * (1 + 1e-12)           # a lower bound ...
    assert norm > exact * (1 - 1e-8)                 # ... that converges
    S = rng.standard_normal((120, 120))
    sym = _State(rng.standard_normal((120, 2)), None, True, first_escape=1.0)
    move_U, move_V, _ = _PowerEstimate(rng, np.float64).descent(S, sym)
    assert move_V is None
    np.testing.assert_allclose(move_U, S @ sym.U + S.T @ sym.U, atol=1e-12)
