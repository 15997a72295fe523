"""Tests of lowrank.completion.altmin."""

import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank.completion import CompletionResult, altmin
from lowrank.exceptions import ConvergenceWarning
from lowrank.testing import low_rank_matrix, observation_mask
from lowrank.testing.strategies import observation_sets


def planted(m, n, k, per_row, *, cond=1.0, seed=0, dtype=np.float64):
    """A rank-k m x n matrix (Haar factors, geometric spectrum) and about ``per_row``
    k ln(n) uniformly sampled entries per row, without duplicates."""
    M = low_rank_matrix((m, n), k, cond=cond, rng=seed).astype(dtype)
    count = min(m * n, int(per_row * k * math.log(max(m, n)) * m))
    mask = observation_mask((m, n), count, rng=seed + 1)
    rows, cols = np.nonzero(mask)
    return M, (rows, cols, M[rows, cols])


def rel_error(res, M):
    return np.linalg.norm(res.to_dense() - M) / np.linalg.norm(M)


# ------------------------------------------------------------------ recovery


@pytest.mark.parametrize("method", ["exact", "robust"])
@pytest.mark.parametrize("cond", [3.0, 100.0])
def test_noiseless_recovery_on_a_seed_list(method, cond):
    """Relative Frobenius error <= 1e-6 at 4 k ln n observations per row, on 5 fixed
    seeds; failure allowance: one seed at cond = 100 (the sample complexity grows like
    cond^2)."""
    # At k = 5 the default hybrid solves every robust row exactly (it is the exact
    # method); cg_rows="all" makes the robust runs the paper's CG algorithm.
    options = {"cg_rows": "all"} if method == "robust" else {}
    failures = 0
    for seed in range(5):
        M, obs = planted(300, 200, 5, 4.0, cond=cond, seed=seed)
        res = altmin(obs, 5, shape=M.shape, method=method, rng=seed, maxiter=300, **options)
        failures += not (res.converged and rel_error(res, M) <= 1e-6)
        if method == "robust":
            assert res.history["mean_inner_steps"].max() > 0  # CG ran
            assert res.history["cg_fraction"].max() > 0.5
    assert failures <= (1 if cond > 10 else 0)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), k=st.integers(1, 4), m=st.integers(60, 120),
       n=st.integers(60, 120))
def test_recovery_property(seed, k, m, n):
    """Random incoherent rank-k matrices with 6 k ln n observations per row: both methods
    (the robust one with both preconditioners) converge and recover M, and agree with
    each other."""
    M, obs = planted(m, n, k, 6.0, cond=2.0, seed=seed % 10_000)
    exact = altmin(obs, k, shape=M.shape, method="exact", rng=0, maxiter=500)
    for preconditioner in ("qr", "sketch"):
        robust = altmin(obs, k, shape=M.shape, method="robust", rng=0, maxiter=500,
                        preconditioner=preconditioner, cg_rows="all")
        # the rows took the CG path, not exact solves (a warm start that is already
        # optimal, as with fully observed small matrices, finishes in 0 steps)
        assert robust.history["cg_fraction"].max() > 0.3  # sweep 1: V (cold) exact
        assert exact.converged and robust.converged
        assert rel_error(exact, M) <= 1e-6 and rel_error(robust, M) <= 1e-6
        np.testing.assert_allclose(robust.to_dense(), exact.to_dense(), atol=1e-7 *
                                   np.abs(M).max())


def test_robust_tracks_exact_sweep_for_sweep():
    """With solver_tol = 1e-3 the robust iterates match exact AltMin's convergence.  At
    k = 48 with 2000 observations per row the rows of M are solved by CG (cheaper than
    their Gram matrices), the columns (about 180 observations) exactly."""
    M, obs = planted(200, 2200, 48, 5.4, cond=10.0, seed=3)
    exact = altmin(obs, 48, shape=M.shape, method="exact", rng=0)
    robust = altmin(obs, 48, shape=M.shape, method="robust", rng=0)
    n = min(exact.n_iter, robust.n_iter)
    ratio = robust.history["residual"][:n] / exact.history["residual"][:n]
    assert np.all(ratio < 3.0)
    assert abs(robust.n_iter - exact.n_iter) <= 2
    assert exact.converged and robust.converged
    assert np.all(robust.history["mean_inner_steps"][1:] > 0)


def test_robust_row_solves_meet_their_tolerance():
    """After a robust half-sweep each row's normal-equation residual is at most
    solver_tol times the warm start's (checked against the exact row solves)."""
    from lowrank._kernels import completion as kernels
    from lowrank.completion import as_observations

    M, obs = planted(300, 200, 5, 4.0, cond=10.0, seed=1)
    o = as_observations(obs, shape=M.shape)
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((200, 5)))[0]
    X0 = rng.standard_normal((300, 5))
    X = X0.copy()
    steps = np.zeros(300, dtype=np.int64)
    eye = np.eye(5)
    kernels.solve_rows_cg(o.row_ptr, o.row_cols, o.row_vals, Q, 0.0, False, eye, eye, X,
                          1e-3, 50, steps, False)  # CG on every row, whatever its cost
    for i in range(0, 300, 17):
        cols = o.row_cols[o.row_ptr[i]:o.row_ptr[i + 1]]
        vals = o.row_vals[o.row_ptr[i]:o.row_ptr[i + 1]]
        G, b = Q[cols].T @ Q[cols], Q[cols].T @ vals
        r0, r = np.linalg.norm(b - G @ X0[i]), np.linalg.norm(b - G @ X[i])
        assert steps[i] >= 0
        assert r <= 1e-3 * r0 * (1 + 1e-8) + 1e-12


def _sketch_pcg(o, F, X, rtol, lam=0.0, weighted=False, sketch_rows=None, max_steps=200,
                seed=5):
    from lowrank._kernels.completion_sketch import solve_rows_sketch_pcg

    k = F.shape[1]
    steps = np.zeros(X.shape[0], dtype=np.int64)
    solve_rows_sketch_pcg(o.row_ptr, o.row_cols, o.row_vals, F, lam, weighted, X, rtol,
                          max_steps, 4 * k if sketch_rows is None else sketch_rows, 4, seed,
                          steps)
    return steps


def test_sketch_preconditioned_rows_meet_their_tolerance():
    """Per-row sketch preconditioner: with a sketch of 4k rows, ``R^T R`` is within a
    small factor of the row's Gram matrix, so stopping at ``rtol`` times the warm start's
    preconditioned residual bounds the energy-norm error ``||F_O (x - x*)||`` by a small
    multiple of ``rtol`` times the warm start's; the fixed factor is ill conditioned
    (cond 1e3), which the preconditioner absorbs."""
    from lowrank.completion import as_observations

    M, obs = planted(60, 800, 6, 40.0, seed=31)
    o = as_observations(obs, shape=M.shape)
    rng = np.random.default_rng(0)
    F = np.linalg.qr(rng.standard_normal((800, 6)))[0] * np.geomspace(1.0, 1e-3, 6)
    X0 = rng.standard_normal((60, 6))
    X = X0.copy()
    steps = _sketch_pcg(o, F, X, 1e-3)
    assert np.all(steps > 0) and steps.max() <= 40
    for i in range(60):
        cols = o.row_cols[o.row_ptr[i]:o.row_ptr[i + 1]]
        A, b = F[cols], o.row_vals[o.row_ptr[i]:o.row_ptr[i + 1]]
        best = np.linalg.lstsq(A, b, rcond=None)[0]
        assert (np.linalg.norm(A @ (X[i] - best))
                <= 4e-3 * np.linalg.norm(A @ (X0[i] - best)) + 1e-12)


@pytest.mark.parametrize("weighting", [False, True])
def test_sketch_preconditioned_rows_match_exact_rows(weighting):
    """At a tight tolerance the sketch-preconditioned CG gives the exact ridge solution;
    without compression (sketch as tall as the row) the preconditioner is exact and CG
    needs one step."""
    from lowrank._kernels import completion as kernels
    from lowrank.completion import as_observations

    M, obs = planted(100, 400, 8, 10.0, seed=16)
    o = as_observations(obs, shape=M.shape)
    rng = np.random.default_rng(1)
    F = rng.standard_normal((400, 8))
    exact = np.empty((100, 8))
    flags = np.empty(100, dtype=np.int64)
    kernels.solve_rows_exact(o.row_ptr, o.row_cols, o.row_vals, F, 0.3, weighting, exact,
                             flags)
    X = rng.standard_normal((100, 8))
    steps = _sketch_pcg(o, F, X, 1e-13, lam=0.3, weighted=weighting)
    assert np.all(steps > 0)
    np.testing.assert_allclose(X, exact, rtol=1e-8, atol=1e-10)
    X = rng.standard_normal((100, 8))
    steps = _sketch_pcg(o, F, X, 1e-10, lam=0.3, weighted=weighting, sketch_rows=10**6)
    assert np.all(steps <= 2)
    np.testing.assert_allclose(X, exact, rtol=1e-7, atol=1e-9)


def test_exact_fallback_codes_of_the_cg_kernels():
    """Rows whose CG reaches the step cap are finished exactly and coded -3; with a
    sketch, rows whose predicted steps exceed the cap are solved exactly at once (-1).
    Either way the answer is the exact solution."""
    from lowrank._kernels import completion as kernels
    from lowrank.completion import as_observations

    M, obs = planted(40, 800, 6, 40.0, seed=32)
    o = as_observations(obs, shape=M.shape)
    rng = np.random.default_rng(0)
    F = rng.standard_normal((800, 6))
    exact = np.empty((40, 6))
    flags = np.empty(40, dtype=np.int64)
    kernels.solve_rows_exact(o.row_ptr, o.row_cols, o.row_vals, F, 0.0, False, exact, flags)
    X = rng.standard_normal((40, 6))
    steps = np.zeros(40, dtype=np.int64)
    eye = np.eye(6)
    kernels.solve_rows_cg(o.row_ptr, o.row_cols, o.row_vals, F, 0.0, False, eye, eye, X,
                          1e-12, 1, steps, False)
    assert np.all(steps == -3)
    np.testing.assert_allclose(X, exact, rtol=1e-9, atol=1e-12)
    X = rng.standard_normal((40, 6))
    steps = _sketch_pcg(o, F, X, 1e-12, max_steps=2)  # sqrt(6/24)^2 = 1/4 >> 1e-12
    assert np.all(steps == -1)
    np.testing.assert_allclose(X, exact, rtol=1e-9, atol=1e-12)
    X = rng.standard_normal((40, 6))
    steps = _sketch_pcg(o, F, X, 0.5, max_steps=1)  # predicted 1 step: every row tried
    assert np.all((steps == -3) | (steps == 1))
    np.testing.assert_allclose(X[steps == -3], exact[steps == -3], rtol=1e-9, atol=1e-12)


def test_sketch_preconditioner_tracks_qr_sweep_for_sweep():
    """preconditioner="sketch" (the paper's per-row sketches, every row by CG) reaches
    the same accuracy in about as many sweeps as the global QR, and its history counts
    the sketching work.  (The columns, with fewer observations than the 4k sketch rows,
    are not compressed: their preconditioner is exact and CG takes one step.)"""
    M, obs = planted(200, 2200, 48, 5.4, cond=10.0, seed=3)
    qr = altmin(obs, 48, shape=M.shape, rng=0)
    sketch = altmin(obs, 48, shape=M.shape, rng=0, preconditioner="sketch")
    assert qr.converged and sketch.converged
    assert abs(sketch.n_iter - qr.n_iter) <= 2
    assert rel_error(sketch, M) <= 1e-6
    h = sketch.history
    assert np.all(h["exact_rows"][1:] < 0.1 * sum(M.shape))
    assert np.all(h["mean_inner_steps"][1:] >= 1)
    assert np.all(h["work"][1:] > qr.history["work"][1:])
    again = altmin(obs, 48, shape=M.shape, rng=0, preconditioner="sketch")
    np.testing.assert_array_equal(again.U, sketch.U)


def test_error_proportional_to_noise():
    """Noise of level s: the recovery error grows about linearly in s."""
    M, (rows, cols, vals) = planted(300, 250, 4, 8.0, seed=5)
    noise = np.random.default_rng(9).standard_normal(vals.size)
    errors = []
    for level in (1e-4, 1e-3, 1e-2):
        scale = level * np.abs(vals).std()
        res = altmin((rows, cols, vals + scale * noise), 4, shape=M.shape, method="exact",
                     rng=0, tol=1e-12)
        errors.append(rel_error(res, M))
    ratios = np.array(errors[1:]) / np.array(errors[:-1])
    assert np.all((ratios > 5) & (ratios < 20)), errors


def test_invariant_to_permuting_rows_and_columns():
    M, (rows, cols, vals) = planted(200, 150, 3, 6.0, seed=2)
    res = altmin((rows, cols, vals), 3, shape=M.shape, method="exact", rng=0)
    pr, pc = np.random.default_rng(1).permutation(200), np.random.default_rng(2).permutation(150)
    inv_r, inv_c = np.argsort(pr), np.argsort(pc)
    permuted = altmin((inv_r[rows], inv_c[cols], vals), 3, shape=M.shape, method="exact",
                      rng=0)
    np.testing.assert_allclose(permuted.to_dense()[inv_r][:, inv_c], res.to_dense(),
                               atol=1e-8)


# ------------------------------------------------------------------ inputs


def test_input_forms_agree():
    M, (rows, cols, vals) = planted(120, 90, 3, 6.0, seed=4)
    ref = altmin((rows, cols, vals), 3, shape=M.shape, rng=0).to_dense()
    sparse = scipy.sparse.coo_matrix((vals, (rows, cols)), shape=M.shape)
    dense = np.full(M.shape, np.nan)
    dense[rows, cols] = vals
    for observed in (sparse, sparse.tocsr(), sparse.tocsc(), dense):
        np.testing.assert_allclose(altmin(observed, 3, rng=0).to_dense(), ref, atol=1e-10)


def test_explicit_zeros_are_observations():
    M, (rows, cols, vals) = planted(100, 80, 2, 8.0, seed=6)
    vals = vals.copy()
    vals[:5] = 0.0
    A = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=M.shape)
    assert A.nnz == rows.size  # explicit zeros stored
    res = altmin(A, 2, rng=0, regularization=1e-6, maxiter=500, tol=1e-9)
    assert res.converged
    # the zeros pull the fit: they are data, not missing entries
    full = altmin((rows[5:], cols[5:], vals[5:]), 2, shape=M.shape, rng=0)
    assert not np.allclose(res.predict(rows[:5], cols[:5]), full.predict(rows[:5], cols[:5]))


def test_empty_rows_with_and_without_ridge():
    M, (rows, cols, vals) = planted(100, 80, 2, 8.0, seed=7)
    keep = rows != 10
    with pytest.raises(ValueError, match="fewer than rank"):
        altmin((rows[keep], cols[keep], vals[keep]), 2, shape=M.shape)
    res = altmin((rows[keep], cols[keep], vals[keep]), 2, shape=M.shape, regularization=1e-3,
                 rng=0, maxiter=500, tol=1e-6)
    assert res.converged and "stationary" in res.message
    assert np.all(res.U[10] == 0) and np.all(np.isfinite(res.U)) and np.all(np.isfinite(res.V))


def test_duplicates():
    rows, cols, vals = np.array([0, 1, 1, 2]), np.array([0, 1, 1, 2]), np.ones(4)
    with pytest.raises(ValueError, match="duplicate"):
        altmin((rows, cols, vals), 1, shape=(3, 3))


@pytest.mark.parametrize("method, preconditioner", [("exact", "qr"), ("robust", "qr"),
                                                    ("robust", "sketch")])
def test_float32_preserved(method, preconditioner):
    M, (rows, cols, vals) = planted(150, 100, 3, 6.0, seed=8)
    res = altmin((rows, cols, vals.astype(np.float32)), 3, shape=M.shape, method=method,
                 rng=0, tol=1e-5, preconditioner=preconditioner)
    assert res.U.dtype == np.float32 and res.V.dtype == np.float32
    assert res.converged and rel_error(res, M) <= 1e-4


def test_same_rng_same_result_and_thread_independence():
    M, obs = planted(200, 150, 4, 5.0, seed=9)
    a = altmin(obs, 4, shape=M.shape, rng=3)
    b = altmin(obs, 4, shape=M.shape, rng=3)
    np.testing.assert_array_equal(a.U, b.U)
    np.testing.assert_array_equal(a.V, b.V)
    script = textwrap.dedent("""
        import hashlib, sys
        sys.path.insert(0, %r)
        import lowrank._kernels
        lowrank._kernels._SERIAL_WORK = 0  # the kernels would otherwise run on one thread
        from test_altmin import planted
        from lowrank.completion import altmin
        M, obs = planted(120, 2200, 48, 5.4, seed=9)
        for preconditioner in ("qr", "sketch"):
            res = altmin(obs, 48, shape=M.shape, rng=3, method="robust", maxiter=4, tol=0.0,
                         preconditioner=preconditioner)
            sys.stdout.write(hashlib.sha256(res.U.tobytes() + res.V.tobytes()).hexdigest())
    """) % os.path.dirname(__file__)
    outputs = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads, PYTHONWARNINGS="ignore")
        outputs.append(subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                      capture_output=True, text=True, timeout=300).stdout)
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("dtype, factor", [(np.float64, 1e160), (np.float64, 1e-200),
                                           (np.float32, 1e20), (np.float32, 1e-20)])
def test_huge_and_tiny_values(dtype, factor):
    """Values near the overflow or underflow threshold are rescaled internally (review:
    U = 0 with converged=True before)."""
    M, (rows, cols, vals) = planted(120, 100, 3, 6.0, seed=15)
    res = altmin((rows, cols, (vals * factor).astype(dtype)), 3, shape=M.shape, rng=0,
                 tol=1e-5 if dtype == np.float32 else 1e-10)
    assert res.converged and res.U.dtype == dtype
    assert np.all(np.isfinite(res.U)) and np.all(np.isfinite(res.V))
    pred = res.predict(rows, cols).astype(np.float64) / factor
    assert np.linalg.norm(pred - vals) <= 1e-4 * np.linalg.norm(vals)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_singular_rows_get_a_minimum_norm_like_fit(dtype):
    """Rows whose Gram matrix is singular (two identical columns of the fixed factor) are
    rescued by a tiny ridge, in float32 too (review: float32 returned zeros)."""
    from lowrank._kernels import completion as kernels
    from lowrank.completion import as_observations

    rng = np.random.default_rng(0)
    f = rng.standard_normal((50, 1))
    F = np.hstack([f, f]).astype(dtype)
    rows = np.repeat(np.arange(20), 50)
    cols = np.tile(np.arange(50), 20)
    vals = (np.repeat(rng.standard_normal(20), 50) * f[cols, 0]).astype(dtype)
    o = as_observations((rows, cols, vals), shape=(20, 50))
    out = np.empty((20, 2), dtype=dtype)
    flags = np.empty(20, dtype=np.int64)
    kernels.solve_rows_exact(o.row_ptr, o.row_cols, o.row_vals, F, 0.0, False, out, flags)
    assert np.all(flags == -2)
    fitted = np.einsum("ij,ij->i", out[rows], F[cols])
    np.testing.assert_allclose(fitted, vals, rtol=1e-3 if dtype == np.float32 else 1e-6,
                               atol=1e-3 if dtype == np.float32 else 1e-8)
    # about the minimum-norm split (float32 rounding tilts it by a few per cent)
    np.testing.assert_allclose(out[:, 0], out[:, 1], rtol=0.2 if dtype == np.float32 else 1e-3)


@pytest.mark.parametrize("weighting", [False, True])
def test_cg_with_ridge_matches_exact_rows(weighting):
    from lowrank._kernels import completion as kernels
    from lowrank.completion import as_observations

    M, obs = planted(100, 400, 8, 10.0, seed=16)
    o = as_observations(obs, shape=M.shape)
    rng = np.random.default_rng(1)
    F = rng.standard_normal((400, 8))
    Q, R = np.linalg.qr(F)
    Rinv = np.linalg.inv(R)
    P = Rinv.T @ Rinv
    exact = np.empty((100, 8))
    flags = np.empty(100, dtype=np.int64)
    kernels.solve_rows_exact(o.row_ptr, o.row_cols, o.row_vals, F, 0.3, weighting, exact,
                             flags)
    W = rng.standard_normal((100, 8))
    steps = np.zeros(100, dtype=np.int64)
    kernels.solve_rows_cg(o.row_ptr, o.row_cols, o.row_vals, Q, 0.3, weighting, P, R @ R.T, W,
                          1e-12, 100, steps, False)
    assert np.all(steps > 0)
    np.testing.assert_allclose(W @ Rinv.T, exact, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighting", [False, True])
def test_rows_with_fewer_observations_than_rank_use_the_dual_form(weighting, dtype):
    """Rows with c < k observations and a ridge are solved as c x c systems; the answer
    is the ridge solution of the k x k normal equations (a NumPy reference), for the
    plain penalty of the exact kernel and the general ``P`` of the CG kernel's exact
    rows; rows with c >= k take the primal route."""
    from lowrank._kernels import completion as kernels
    from lowrank.completion import as_observations

    rng = np.random.default_rng(3)
    k, n = 12, 300
    counts = np.r_[np.arange(1, 16), 40]
    rows = np.repeat(np.arange(counts.size), counts)
    cols = np.concatenate([rng.choice(n, c, replace=False) for c in counts])
    o = as_observations((rows, cols, rng.standard_normal(rows.size).astype(dtype)),
                        shape=(counts.size, n))
    F = rng.standard_normal((n, k)).astype(dtype)
    R = np.triu(rng.standard_normal((k, k))) + 3 * np.eye(k)
    P = np.linalg.inv(R @ R.T)
    lam = 0.7
    out = np.empty((counts.size, k), dtype=dtype)
    flags = np.empty(counts.size, dtype=np.int64)
    kernels.solve_rows_exact(o.row_ptr, o.row_cols, o.row_vals, F, lam, weighting, out, flags)
    W = np.zeros((counts.size, k), dtype=dtype)
    steps = np.zeros(counts.size, dtype=np.int64)
    kernels.solve_rows_cg(o.row_ptr, o.row_cols, o.row_vals, F, lam, weighting,
                          P.astype(dtype), (R @ R.T).astype(dtype), W, 1e-3, 0, steps, True)
    assert np.all(flags == -1) and np.all(steps == -1)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for i, c in enumerate(counts):
        cols_i = o.row_cols[o.row_ptr[i]:o.row_ptr[i + 1]]
        A = F[cols_i].astype(np.float64)
        m = o.row_vals[o.row_ptr[i]:o.row_ptr[i + 1]].astype(np.float64)
        lam_i = lam * c if weighting else lam
        plain = np.linalg.solve(A.T @ A + lam_i * np.eye(k), A.T @ m)
        general = np.linalg.solve(A.T @ A + lam_i * P, A.T @ m)
        np.testing.assert_allclose(out[i], plain, rtol=rtol, atol=rtol * np.abs(plain).max())
        np.testing.assert_allclose(W[i], general, rtol=rtol,
                                   atol=rtol * np.abs(general).max())


def test_robust_with_ridge_reaches_the_exact_objective():
    M, (rows, cols, vals) = planted(120, 2200, 48, 5.4, seed=17)
    noisy = vals + 0.01 * np.random.default_rng(0).standard_normal(vals.size)
    kwargs = dict(shape=M.shape, regularization=0.1, rng=0, tol=1e-9, maxiter=300)
    exact = altmin((rows, cols, noisy), 48, method="exact", **kwargs)
    robust = altmin((rows, cols, noisy), 48, method="robust", **kwargs)
    assert exact.converged and robust.converged
    assert robust.history["mean_inner_steps"].max() > 0  # CG did run
    assert robust.history["objective"][-1] == pytest.approx(exact.history["objective"][-1],
                                                            rel=1e-6)


def test_history_counts_and_no_premature_tightening():
    M, obs = planted(120, 2200, 48, 5.4, cond=100.0, seed=18)
    exact = altmin(obs, 48, shape=M.shape, method="exact", rng=0, maxiter=300)
    assert np.all(exact.history["exact_rows"] == sum(M.shape))
    nnz = obs[0].size
    np.testing.assert_allclose(exact.history["work"], 2 * nnz * 48**2 + sum(M.shape) * 48**3 / 3)
    assert np.all(exact.history["mean_inner_steps"] == 0)
    robust = altmin(obs, 48, shape=M.shape, method="robust", rng=0, maxiter=300)
    assert robust.converged
    assert robust.history["exact_rows"][0] >= M.shape[1]  # the cold first half-sweep
    assert robust.history["work"][-1] < exact.history["work"][-1]
    # converging sweeps keep the loose tolerance (review: it fell to 1e-12 by sweep 18)
    assert robust.history["solver_tol"][-1] == 1e-3


def test_sample_splitting_and_clipping_options():
    """The analysis' proof devices: every half-sweep sees a fresh part of the samples (so
    each sweep still contracts the error), and clipping with a loose incoherence bound
    changes nothing."""
    M, obs = planted(150, 120, 2, 40.0, seed=19)
    with pytest.warns(ConvergenceWarning):
        res = altmin(obs, 2, shape=M.shape, method="exact", split=True, maxiter=6, rng=0)
    h = res.history["residual"]
    assert rel_error(res, M) < 0.05 and h[-1] < 0.2 * h[0]  # about 9 samples per row/part
    plain = altmin(obs, 2, shape=M.shape, method="exact", rng=0)
    loose = altmin(obs, 2, shape=M.shape, method="exact", clip=1e6, rng=0)
    np.testing.assert_allclose(loose.to_dense(), plain.to_dense(), atol=1e-10)
    tight = altmin(obs, 2, shape=M.shape, method="exact", clip=1.0, rng=0)
    assert tight.converged and rel_error(tight, M) <= 1e-6
    with pytest.raises(ValueError, match="`clip`"):
        altmin(obs, 2, shape=M.shape, clip=0.5)
    with pytest.raises(TypeError, match="`split`"):
        altmin(obs, 2, shape=M.shape, split="yes")


# ------------------------------------------------------------------ result object


def test_result_object_and_history():
    M, (rows, cols, vals) = planted(150, 100, 3, 6.0, seed=10)
    seen = []
    res = altmin((rows, cols, vals), 3, shape=M.shape, validation=(rows[:50], cols[:50],
                 vals[:50]), rng=0, callback=lambda k, U, V, e: seen.append(e) and False)
    assert isinstance(res, CompletionResult) and res.shape == M.shape
    h = res.history
    assert len(h["residual"]) == res.n_iter == len(seen)
    assert np.all(h["validation_rmse"] >= 0) and h["validation_rmse"][-1] < 1e-6
    assert np.all(np.diff(h["time"]) >= 0) and np.all(h["sweep_time"] > 0)
    assert "CompletionResult(" in repr(res)
    np.testing.assert_allclose(res.predict(rows, cols), vals, atol=1e-7)
    stop = altmin((rows, cols, vals), 3, shape=M.shape, rng=0,
                  callback=lambda k, U, V, e: k == 2)
    assert stop.n_iter == 2 and not stop.converged and stop.message == "stopped by callback"


def test_maxiter_warns():
    M, obs = planted(150, 100, 3, 6.0, seed=11)
    with pytest.warns(ConvergenceWarning, match="maxiter=2"):
        res = altmin(obs, 3, shape=M.shape, rng=0, maxiter=2)
    assert not res.converged and res.n_iter == 2


def test_regularized_objective_decreases_monotonically():
    M, (rows, cols, vals) = planted(200, 150, 4, 5.0, seed=12)
    noisy = vals + 0.1 * np.random.default_rng(0).standard_normal(vals.size)
    for weighting in ("uniform", "frequency"):
        res = altmin((rows, cols, noisy), 4, shape=M.shape, method="exact",
                     regularization=0.5, weighting=weighting, rng=0, tol=1e-9)
        f = res.history["objective"]
        assert np.all(np.diff(f) <= 1e-9 * f[0]) and res.converged


def test_to_dense_limit_and_predict_checks():
    M, obs = planted(60, 50, 2, 8.0, seed=13)
    res = altmin(obs, 2, shape=M.shape, rng=0)
    with pytest.raises(ValueError, match="\\[0, 60\\)"):
        res.predict([60], [0])
    with pytest.raises(TypeError, match="integer"):
        res.predict([0.5], [0])
    big = CompletionResult(U=np.zeros((10**5, 1)), V=np.zeros((10**4, 1)), rank=1,
                           method="exact", regularization=0.0, converged=True, n_iter=0,
                           history={}, message="")
    with pytest.raises(ValueError, match="predict"):
        big.to_dense()


# ------------------------------------------------------------------ bad input


class TestBadInput:
    M, obs = planted(60, 50, 2, 8.0, seed=14)

    @pytest.mark.parametrize("rank", [0, -1, 51])
    def test_rank(self, rank):
        with pytest.raises(ValueError, match="`rank`"):
            altmin(self.obs, rank, shape=self.M.shape)

    def test_non_finite_values(self):
        rows, cols, vals = self.obs
        bad = vals.copy()
        bad[3] = np.inf
        with pytest.raises(ValueError, match="finite"):
            altmin((rows, cols, bad), 2, shape=self.M.shape)
        dense = np.full(self.M.shape, np.nan)
        dense[rows, cols] = bad
        with pytest.raises(ValueError, match="finite"):
            altmin(dense, 2)

    def test_options(self):
        for kwargs, match in (({"method": "als"}, "`method`"), ({"solver_tol": 0}, "solver_tol"),
                              ({"maxiter": 0}, "`maxiter`"), ({"tol": -1}, "`tol`"),
                              ({"regularization": -1.0}, "`regularization`"),
                              ({"weighting": "idf"}, "`weighting`"),
                              ({"max_cg_steps": -1}, "`max_cg_steps`"),
                              ({"preconditioner": "jacobi"}, "`preconditioner`")):
            with pytest.raises(ValueError, match=match):
                altmin(self.obs, 2, shape=self.M.shape, **kwargs)
        with pytest.raises(TypeError, match="`callback`"):
            altmin(self.obs, 2, shape=self.M.shape, callback=1)
        with pytest.raises(TypeError, match="validation"):
            altmin(self.obs, 2, shape=self.M.shape, validation=[1, 2])

    def test_too_few_observations(self):
        rows, cols, vals = self.obs
        with pytest.raises(ValueError, match="degrees of freedom"):
            altmin((rows[:100], cols[:100], vals[:100]), 2, shape=self.M.shape)

    def test_shape_required_for_tuples(self):
        with pytest.raises((TypeError, ValueError), match="shape"):
            altmin(self.obs, 2)

    def test_validation_happens_before_work(self, monkeypatch):
        import lowrank.completion._altmin as module
        from lowrank.completion._host import HostBackend

        def fail(*args, **kwargs):
            raise AssertionError("work started before validation")

        monkeypatch.setattr(HostBackend, "initial_left_factor", fail)
        monkeypatch.setattr(module, "as_observations", fail)
        for kwargs in ({"method": "nope"}, {"solver_tol": 2.0}, {"maxiter": 0}, {"tol": -1.0},
                       {"regularization": -1.0}, {"weighting": "x"}, {"max_cg_steps": -1},
                       {"preconditioner": "x"}, {"callback": 3}, {"biases": 1}):
            with pytest.raises((ValueError, TypeError)):
                altmin(self.obs, 2, shape=self.M.shape, **kwargs)
        monkeypatch.undo()
        monkeypatch.setattr(HostBackend, "initial_left_factor", fail)
        with pytest.raises(ValueError, match="`rank`"):
            altmin(self.obs, 99, shape=self.M.shape)


# ------------------------------------------------------------------ array namespaces


@pytest.mark.parametrize("method", ["exact", "robust"])
def test_array_namespaces_in_and_out(xp, method):
    """Device namespaces (CuPy; array_api_strict in CI) run the batched path: same
    objective and stopping rules, namespace in = namespace out, same answer."""
    if xp.__name__ == "numpy":
        pytest.skip("the NumPy path is tested everywhere else")
    if method == "robust":  # k = 32 with about 2000 observations per row: CG rows
        M, (rows, cols, vals) = planted(200, 2200, 32, 8.2, cond=10.0, seed=20)
    else:
        M, (rows, cols, vals) = planted(150, 400, 3, 8.0, seed=20)
    k = 32 if method == "robust" else 3
    ref = altmin((rows, cols, vals), k, shape=M.shape, method=method, rng=0)
    res = altmin((xp.asarray(rows), xp.asarray(cols), xp.asarray(vals)), k, shape=M.shape,
                 method=method, rng=0)
    assert type(res.U).__module__.split(".")[0] == xp.__name__.split(".")[0]
    assert res.converged and res.n_iter == pytest.approx(ref.n_iter, abs=2)
    dense = np.asarray(res.to_dense().get() if hasattr(res.U, "get") else res.to_dense())
    np.testing.assert_allclose(dense, ref.to_dense(), atol=1e-7 * np.abs(M).max())
    if method == "robust":
        assert res.history["mean_inner_steps"][1:].max() > 0
    pred = res.predict(xp.asarray(rows[:10]), xp.asarray(cols[:10]))
    np.testing.assert_allclose(np.asarray(pred.get() if hasattr(pred, "get") else pred),
                               vals[:10], atol=1e-6 * np.abs(vals).max())


def test_array_namespace_dense_nan_input_and_errors():
    xs = pytest.importorskip("array_api_strict")
    M, (rows, cols, vals) = planted(80, 60, 2, 8.0, seed=21)
    dense = np.full(M.shape, np.nan)
    dense[rows, cols] = vals
    res = altmin(xs.asarray(dense), 2, rng=0, method="exact")
    np.testing.assert_allclose(np.asarray(res.to_dense()),
                               altmin(dense, 2, rng=0, method="exact").to_dense(), atol=1e-8)
    with pytest.raises(ValueError, match="duplicated"):
        altmin((xs.asarray(np.r_[rows, rows[:1]]), xs.asarray(np.r_[cols, cols[:1]]),
                xs.asarray(np.r_[vals, vals[:1]])), 2, shape=M.shape)
    with pytest.raises(ValueError, match="NumPy and SciPy input only"):
        altmin(xs.asarray(dense), 2, split=True)
    with pytest.raises(ValueError, match="NumPy and SciPy input only"):
        altmin(xs.asarray(dense), 2, preconditioner="sketch")
    with pytest.raises(ValueError, match="within shape"):
        altmin((xs.asarray(rows + 100), xs.asarray(cols), xs.asarray(vals)), 2,
               shape=M.shape)


# ------------------------------------------------------------- forced CG (cg_rows)


@pytest.mark.parametrize("cond", [1.0, 10.0])
def test_cg_rows_all_runs_cg_and_matches_exact(cond):
    # At k = 5 the cost rule solves every row exactly (the hybrid equals the exact method);
    # cg_rows="all" must run CG on the rows and still recover M.
    M, obs = planted(200, 150, 5, 3, cond=cond, seed=3)
    hybrid = altmin(obs, 5, shape=M.shape, rng=0)
    forced = altmin(obs, 5, shape=M.shape, cg_rows="all", rng=0)
    exact = altmin(obs, 5, shape=M.shape, method="exact", rng=0)
    assert np.all(hybrid.history["cg_fraction"] == 0.0)
    assert np.all(exact.history["cg_fraction"] == 0.0)
    assert np.max(forced.history["cg_fraction"][1:]) > 0.9
    assert np.max(forced.history["mean_inner_steps"]) > 0
    assert forced.converged and exact.converged
    assert rel_error(forced, M) <= 1e-6 and rel_error(exact, M) <= 1e-6
    assert not np.array_equal(forced.U, exact.U)  # different paths, same answer


def test_cg_fraction_is_a_share_of_the_observed_rows():
    M, obs = planted(120, 100, 3, 3, seed=1)
    res = altmin(obs, 3, shape=M.shape, cg_rows="all", rng=0)
    frac = res.history["cg_fraction"]
    assert np.all((frac >= 0) & (frac <= 1))
    assert frac[0] < 1  # the first half-sweep (V from zero) is exact


def test_cg_rows_bad_option():
    M, obs = planted(40, 30, 2, 3, seed=0)
    with pytest.raises(ValueError, match="`cg_rows`"):
        altmin(obs, 2, shape=M.shape, cg_rows="some")


@pytest.mark.filterwarnings("ignore::lowrank.exceptions.ConvergenceWarning")  # maxiter=5
@settings(max_examples=8)
@given(case=observation_sets(max_size=30, max_rank=2, samples_per_row=(3.0, 4.0),
                             empty_rows=True, duplicates=True))
def test_duplicates_and_empty_rows_from_the_strategy(case):
    # lowrank.testing.strategies: duplicated observations (same value) are merged by
    # duplicates="mean" exactly as if given once; rows without observations get a zero
    # factor under a ridge, never NaN
    pairs = np.unique(case.rows.astype(np.int64) * case.shape[1] + case.cols)
    rows, cols = np.divmod(pairs, case.shape[1])
    kwargs = dict(shape=case.shape, regularization=1e-6, maxiter=5, tol=0.0, rng=0)
    merged = altmin((case.rows, case.cols, case.values), case.rank, duplicates="mean",
                    **kwargs)
    once = altmin((rows, cols, case.matrix[rows, cols]), case.rank, **kwargs)
    np.testing.assert_allclose(merged.U, once.U, rtol=1e-10, atol=1e-12)
    assert np.all(np.isfinite(merged.U)) and np.all(np.isfinite(merged.V))
    empty = np.setdiff1d(np.arange(case.shape[0]), rows)
    assert np.all(merged.U[empty] == 0.0)


# ------------------------------------------------------------------------ biases


def planted_with_biases(m, n, k, count, *, seed=0, offset=3.0):
    """A rank-k matrix plus an offset and row and column biases, and ``count`` uniformly
    sampled distinct entries."""
    rng = np.random.default_rng(seed)
    M = (low_rank_matrix((m, n), k, rng=seed) * 10 + offset
         + rng.standard_normal(m)[:, None] + rng.standard_normal(n)[None, :])
    rows, cols = np.nonzero(observation_mask((m, n), count, rng=seed + 1))
    return M, (rows, cols, M[rows, cols])


@pytest.mark.parametrize("method", ["exact", "robust"])
def test_biases_recover_a_planted_biased_matrix(method):
    M, obs = planted_with_biases(200, 150, 3, 12000, seed=0)
    res = altmin(obs, 3, shape=M.shape, biases=True, method=method, cg_rows="all",
                 rng=0, maxiter=300)
    assert res.converged and rel_error(res, M) <= 1e-8
    assert res.row_bias.shape == (200,) and res.col_bias.shape == (150,)
    rows, cols, vals = obs
    np.testing.assert_allclose(res.predict(rows, cols), vals, atol=1e-7 * np.abs(M).max())
    np.testing.assert_allclose(res.predict(rows[:50], cols[:50]),
                               res.to_dense()[rows[:50], cols[:50]], rtol=1e-12)
    if method == "robust":
        assert res.history["cg_fraction"].max() > 0.5


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31), k=st.integers(1, 3),
       offset=st.floats(-100, 100, allow_nan=False))
def test_biases_property_recovery_and_offset_invariance(seed, k, offset):
    """Planted biased matrices are recovered, and adding a constant to every value moves
    only the fitted offset (the predictions shift by exactly that constant)."""
    seed %= 10_000
    M, (rows, cols, vals) = planted_with_biases(90, 70, k, 3000, seed=seed)
    res = altmin((rows, cols, vals), k, shape=M.shape, biases=True, rng=0, maxiter=300)
    assert res.converged and rel_error(res, M) <= 1e-7
    shifted = altmin((rows, cols, vals + offset), k, shape=M.shape, biases=True, rng=0,
                     maxiter=300)
    assert shifted.converged
    np.testing.assert_allclose(shifted.to_dense(), res.to_dense() + offset,
                               atol=1e-6 * (np.abs(M).max() + abs(offset)))


def test_biases_with_a_ridge_are_block_optimal():
    """At a stationary point of the ridge objective every row's [u_i, a_i] is the ridge
    solution given [V, 1] (checked with numpy.linalg.solve, not the kernels), the offset
    is the mean residual, and the objective fell monotonically."""
    M, (rows, cols, vals) = planted_with_biases(80, 60, 2, 2500, seed=3)
    vals = vals + 0.3 * np.random.default_rng(0).standard_normal(vals.size)
    lam, lam_b = 2.0, 0.5
    res = altmin((rows, cols, vals), 2, shape=M.shape, method="exact", biases=True,
                 regularization=lam, bias_regularization=lam_b, tol=1e-14, maxiter=2000,
                 rng=0)
    assert res.converged
    objective = res.history["objective"]
    assert np.all(np.diff(objective) <= 1e-12 * objective[:-1])
    resid = vals - res.predict(rows, cols)
    assert abs(resid.mean()) <= 1e-8 * np.abs(vals).max()
    ridge = np.diag([lam, lam, lam_b])
    for i in (0, 17, 79):
        sel = rows == i
        F = np.column_stack([res.V[cols[sel]], np.ones(sel.sum())])
        target = vals[sel] - res.offset - res.col_bias[cols[sel]]
        x = np.linalg.solve(F.T @ F + ridge, F.T @ target)
        np.testing.assert_allclose(np.r_[res.U[i], res.row_bias[i]], x, atol=1e-6)
    # the reported objective is the biased ridge objective
    f = (np.sum(resid**2) + lam * (np.sum(res.U**2) + np.sum(res.V**2))
         + lam_b * (np.sum(res.row_bias**2) + np.sum(res.col_bias**2)))
    assert objective[-1] == pytest.approx(f, rel=1e-9)


def test_biases_float32_sparse_input_and_no_bias_fields():
    M, (rows, cols, vals) = planted_with_biases(100, 80, 2, 4000, seed=5)
    A = scipy.sparse.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=M.shape)
    res = altmin(A, 2, biases=True, rng=0, maxiter=300)
    assert res.U.dtype == res.row_bias.dtype == res.col_bias.dtype == np.float32
    assert rel_error(res, M) <= 1e-4
    with pytest.warns(ConvergenceWarning, match="maxiter=5"):
        plain = altmin(A, 2, rng=0, maxiter=5, tol=0.0)
    assert plain.offset == 0.0 and plain.row_bias is None and plain.col_bias is None


def test_biases_on_movielens_beat_the_unbiased_fit():
    """Real data: on a held-out 20 % of MovieLens ml-latest-small, the biased fit's RMSE
    is below the unbiased fit's at the same rank and ridge, and below 0.87."""
    from lowrank.completion import load_movielens_small

    data = load_movielens_small()
    test = np.random.default_rng(0).random(data.ratings.size) < 0.2
    train = (data.rows[~test], data.cols[~test], data.ratings[~test])
    rmse = {}
    for biases in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # 20 sweeps: the recipe
            res = altmin(train, 10, shape=data.shape, method="exact", biases=biases,
                         regularization=15.0, bias_regularization=5.0 if biases else None,
                         maxiter=20, tol=1e-3, rng=0)
        pred = np.clip(res.predict(data.rows[test], data.cols[test]), 0.5, 5.0)
        rmse[biases] = float(np.sqrt(np.mean((pred - data.ratings[test]) ** 2)))
    assert rmse[True] < 0.87 and rmse[True] < rmse[False] - 0.02


def test_biases_on_device_namespaces(xp):
    if xp.__name__ == "numpy":
        pytest.skip("the NumPy path is tested everywhere else")
    M, (rows, cols, vals) = planted_with_biases(90, 70, 2, 3000, seed=7)
    ref = altmin((rows, cols, vals), 2, shape=M.shape, biases=True, method="exact", rng=0)
    res = altmin((xp.asarray(rows), xp.asarray(cols), xp.asarray(vals)), 2, shape=M.shape,
                 biases=True, method="exact", rng=0)
    assert res.converged and res.n_iter == pytest.approx(ref.n_iter, abs=2)
    dense = res.to_dense()
    dense = np.asarray(dense.get() if hasattr(dense, "get") else dense)
    np.testing.assert_allclose(dense, ref.to_dense(), atol=1e-7 * np.abs(M).max())
    assert res.offset == pytest.approx(ref.offset, rel=1e-6)


def test_biases_bad_input():
    M, (rows, cols, vals) = planted_with_biases(40, 30, 2, 600, seed=1)
    obs = (rows, cols, vals)
    with pytest.raises(TypeError, match="`biases`"):
        altmin(obs, 2, shape=M.shape, biases="yes")
    with pytest.raises(ValueError, match="bias_regularization"):
        altmin(obs, 2, shape=M.shape, biases=True, bias_regularization=-1.0)
    with pytest.raises(ValueError, match="bias_regularization"):
        altmin(obs, 2, shape=M.shape, biases=True, bias_regularization=1.0)  # lam = 0
    with pytest.raises(ValueError, match="bias_regularization"):
        altmin(obs, 2, shape=M.shape, biases=True, regularization=1.0,
               bias_regularization=0.0)
    # a row with exactly rank observations determines u_i but not [u_i, a_i]
    keep = (rows != 0) | (np.cumsum(rows == 0) <= 2)
    short = (rows[keep], cols[keep], vals[keep])
    with pytest.raises(ValueError, match="rank \\+ 1"):
        altmin(short, 2, shape=M.shape, biases=True)
