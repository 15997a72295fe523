"""Tests of lowrank.regression.lstsq."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

from lowrank.exceptions import ConvergenceWarning
from lowrank.regression import lstsq
from lowrank.testing import lstsq_problem
from lowrank.testing.strategies import lstsq_problems

ITERATIVE = ["sketch_and_precondition", "iterative_sketching"]
ALL_METHODS = ["direct", "sketch_and_solve", *ITERATIVE]
SKETCHES = ["sparse_sign", "srht", "gaussian", "rademacher", "countsketch"]


def backward_error(A, b, x):
    """The proxy ||A^T r|| / (||A|| ||r||) of the backward error."""
    r = b - A @ x
    return np.linalg.norm(A.T @ r) / (np.linalg.norm(A, 2) * np.linalg.norm(r))


def rel(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


@given(n=st.integers(60, 400), d=st.integers(1, 12), seed=st.integers(0, 2**16),
       method=st.sampled_from([*ITERATIVE, "direct"]), sketch=st.sampled_from(SKETCHES),
       log_cond=st.floats(0, 3))
def test_agrees_with_lapack_on_well_conditioned(n, d, seed, method, sketch, log_cond):
    P = lstsq_problem(n, d, cond=10.0**log_cond, residual_norm=0.3, rng=seed)
    ref = scipy.linalg.lstsq(P.A, P.b)[0]
    res = lstsq(P.A, P.b, method=method, sketch=sketch, rng=seed)
    assert res.converged
    assert rel(res.x, ref) <= 1e-10
    # residual optimality: the residual is orthogonal to range(A) (iterative sketching
    # is forward, not backward, stable: a looser bound)
    assert backward_error(P.A, P.b, res.x) <= (1e-10 if method == "iterative_sketching"
                                              else 1e-12)
    assert res.residual_norm == pytest.approx(np.linalg.norm(P.b - P.A @ res.x), rel=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("residual_norm", [1e-6, 1e-2])
def test_sketch_and_precondition_backward_stable_at_cond_1e12(seed, residual_norm):
    P = lstsq_problem(3000, 40, cond=1e12, residual_norm=residual_norm, rng=seed)
    x_ref = scipy.linalg.lstsq(P.A, P.b)[0]
    res = lstsq(P.A, P.b, method="sketch_and_precondition", rng=seed)
    assert res.converged
    assert backward_error(P.A, P.b, res.x) <= 100 * backward_error(P.A, P.b, x_ref)


@pytest.mark.parametrize("method", ITERATIVE)
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cond, residual_norm", [(1e8, 1e-2), (1e10, 1e-6)])
def test_forward_error_within_10x_of_lapack(method, seed, cond, residual_norm):
    """Forward stability: on problems where LAPACK's answer is meaningful, the forward
    error is within 10x of LAPACK's (iterative sketching is forward, not backward,
    stable: Epperly 2023)."""
    P = lstsq_problem(3000, 40, cond=cond, residual_norm=residual_norm, rng=seed)
    x_ref = scipy.linalg.lstsq(P.A, P.b)[0]
    res = lstsq(P.A, P.b, method=method, rng=seed)
    assert res.converged
    assert rel(res.x, P.x) <= 10 * rel(x_ref, P.x)


@pytest.mark.parametrize("seed", range(5))
def test_sketch_and_solve_residual_within_embedding_bound(seed):
    # A Gaussian sketch with m = 20 d rows is an eps-embedding with eps ~ 1/sqrt(20)
    # + deviation; the residual is within (1 + eps)/(1 - eps) of optimal.
    P = lstsq_problem(4000, 10, cond=1e3, residual_norm=1.0, rng=seed)
    res = lstsq(P.A, P.b, method="sketch_and_solve", sketch="gaussian", sketch_size=200,
                rng=seed)
    eps = 0.5
    assert res.residual_norm <= (1 + eps) / (1 - eps) * np.linalg.norm(P.residual)


@given(seed=st.integers(0, 2**16), scale=st.floats(1e-3, 1e3),
       method=st.sampled_from(ITERATIVE))
def test_invariances(seed, scale, method):
    """Scaling b scales x; permuting rows of [A b] does not change x; a column scaling
    of A rescales x."""
    P = lstsq_problem(300, 6, cond=100.0, residual_norm=0.5, rng=seed)
    x = lstsq(P.A, P.b, method=method, rng=0).x
    # norm-wise: invariance holds up to the solver's (tiny) forward error
    assert rel(lstsq(P.A, scale * P.b, method=method, rng=0).x, scale * x) <= 1e-9
    perm = np.random.default_rng(seed).permutation(300)
    assert rel(lstsq(P.A[perm], P.b[perm], method=method, rng=1).x, x) <= 1e-9
    D = np.geomspace(1e-2, 1e2, 6)
    assert rel(lstsq(P.A / D, P.b, method=method, rng=2).x / D, x) <= 1e-8


def test_auto_picks_direct_for_small_and_sketching_for_tall():
    P = lstsq_problem(100, 5, rng=0)
    assert lstsq(P.A, P.b).method == "direct"
    P = lstsq_problem(20000, 20, cond=1e6, rng=0)
    assert lstsq(P.A, P.b).method == "direct"  # narrow: LAPACK is faster
    sparse = scipy.sparse.csr_matrix(P.A)
    assert lstsq(sparse, P.b, rng=0).method == "sketch_and_precondition"
    P = lstsq_problem(6400, 100, cond=1e6, rng=0)
    res = lstsq(P.A, P.b, rng=0)
    assert res.method == "iterative_sketching"
    assert rel(res.x, P.x) <= 10 * rel(scipy.linalg.lstsq(P.A, P.b)[0], P.x)
    assert lstsq(P.A[:6000], P.b[:6000]).method == "direct"  # n < 64 d


@pytest.mark.parametrize("seed", range(3))
def test_auto_is_backward_stable_on_ill_conditioned(seed):
    """Above cond ~1e9 the sketch sends method="auto" to the backward stable
    Cholesky-QR path."""
    P = lstsq_problem(6400, 100, cond=1e12, residual_norm=1e-6, rng=seed)
    res = lstsq(P.A, P.b, rng=seed)
    assert res.method == "sketch_and_precondition"
    assert res.preconditioner == "cholesky_qr"
    x_ref = scipy.linalg.lstsq(P.A, P.b)[0]
    assert backward_error(P.A, P.b, res.x) <= 100 * backward_error(P.A, P.b, x_ref)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_float32_stays_float32(method):
    P = lstsq_problem(2000, 8, cond=10.0, residual_norm=0.1, rng=0, dtype=np.float32)
    res = lstsq(P.A, P.b, method=method, rng=0)
    assert res.x.dtype == np.float32
    if method == "sketch_and_solve":
        assert res.residual_norm <= 2 * np.linalg.norm(P.residual)
    else:
        assert rel(res.x.astype(np.float64), P.x.astype(np.float64)) <= 1e-4


def test_integer_data_promotes_to_float64():
    A = np.arange(40, dtype=np.int64).reshape(20, 2) % 7 + np.eye(20, 2, dtype=np.int64)
    b = np.arange(20)
    res = lstsq(A, b, method="sketch_and_precondition", rng=0)
    assert res.x.dtype == np.float64
    np.testing.assert_allclose(res.x, np.linalg.lstsq(A.astype(float), b, rcond=None)[0],
                               rtol=1e-10)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_same_rng_same_result(method):
    P = lstsq_problem(3000, 10, cond=1e4, rng=3)
    a = lstsq(P.A, P.b, method=method, rng=42).x
    b = lstsq(P.A, P.b, method=method, rng=42).x
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(7)
    c = lstsq(P.A, P.b, method=method, rng=g).x  # Generators are accepted too
    assert c.shape == a.shape


def test_independent_of_numba_thread_count():
    code = (
        "import numpy as np, sys\n"
        "from lowrank.regression import lstsq\n"
        "from lowrank.testing import lstsq_problem\n"
        "P = lstsq_problem(6000, 300, cond=1e6, rng=0)\n"
        "out = [lstsq(P.A, P.b, method=m, sketch=s, rng=1).x\n"
        "       for m in ('sketch_and_precondition', 'iterative_sketching')\n"
        "       for s in ('sparse_sign', 'srht')]\n"
        "sys.stdout.write(np.concatenate(out).tobytes().hex())\n"
    )
    outs = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        outs.append(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert outs[0] == outs[1]


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_scipy_sparse_input(method, fmt):
    rng = np.random.default_rng(0)
    A = scipy.sparse.random(3000, 15, density=0.05, format=fmt, random_state=rng)
    A = A + scipy.sparse.eye(3000, 15, format=fmt)
    b = rng.standard_normal(3000)
    ref = np.linalg.lstsq(A.toarray(), b, rcond=None)[0]
    res = lstsq(A, b, method=method, rng=0)
    assert isinstance(res.x, np.ndarray)
    if method == "sketch_and_solve":
        assert res.residual_norm <= 2 * np.linalg.norm(A @ ref - b)
    else:
        assert rel(res.x, ref) <= 1e-9


@pytest.mark.parametrize("preconditioner", ["sketch", "cholesky_qr"])
@pytest.mark.parametrize("sparse", [False, True])
def test_preconditioner_choices_agree(preconditioner, sparse):
    P = lstsq_problem(4000, 25, cond=1e6, residual_norm=0.1, rng=5)
    A = scipy.sparse.csr_matrix(P.A) if sparse else P.A
    res = lstsq(A, P.b, method="sketch_and_precondition", preconditioner=preconditioner,
                rng=0)
    assert res.preconditioner == preconditioner.replace("sketch", "sketch_qr")
    assert res.converged
    x_ref = scipy.linalg.lstsq(P.A, P.b)[0]
    assert rel(res.x, P.x) <= 10 * rel(x_ref, P.x)
    if preconditioner == "sketch":
        assert res.n_iter > 5  # the plain sketch preconditioner needs tens of iterations


@pytest.mark.parametrize("method", [*ITERATIVE, "sketch_and_solve"])
def test_rank_deficient_gives_minimum_norm_solution(method):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((500, 4)) @ rng.standard_normal((4, 10))  # rank 4, d = 10
    b = rng.standard_normal(500)
    res = lstsq(A, b, method=method, rng=0)
    assert res.preconditioner == "sketch_svd"
    x_min = np.linalg.pinv(A) @ b
    assert np.all(np.isfinite(res.x))
    if method == "sketch_and_solve":
        assert res.residual_norm <= 2 * np.linalg.norm(A @ x_min - b)
    else:
        assert rel(res.x, x_min) <= 1e-8


def test_consistent_system_is_solved_exactly():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((1000, 20))
    x = rng.standard_normal(20)
    res = lstsq(A, A @ x, method="sketch_and_precondition", rng=0)
    assert rel(res.x, x) <= 1e-12
    assert res.residual_norm <= 1e-10


def test_zero_right_hand_side():
    A = np.random.default_rng(0).standard_normal((300, 5))
    for method in ALL_METHODS:
        res = lstsq(A, np.zeros(300), method=method, rng=0)
        np.testing.assert_array_equal(res.x, np.zeros(5))


def test_maxiter_warns_and_reports_not_converged():
    P = lstsq_problem(3000, 30, cond=1e10, residual_norm=1.0, rng=0)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = lstsq(P.A, P.b, method="iterative_sketching", maxiter=2, rng=0)
    assert not res.converged
    assert res.n_iter == 2
    assert "maxiter" in res.message


def test_history_and_callback():
    P = lstsq_problem(3000, 30, cond=1e8, residual_norm=0.1, rng=0)
    seen = []
    res = lstsq(P.A, P.b, method="iterative_sketching", rng=0,
                callback=lambda it, x, r: seen.append((it, r)) and False)
    assert res.n_iter == len(seen) == len(res.history["residual"])
    assert set(res.history) == {"residual", "backward_error", "relative_step", "time"}
    assert np.all(np.diff(res.history["time"]) >= 0)
    # each key holds one quantity: iterative-sketching steps have a relative step and no
    # LSQR backward-error estimate, LSQR steps the reverse
    assert np.all(np.isfinite(res.history["relative_step"]))
    assert np.all(np.isnan(res.history["backward_error"]))
    spir = lstsq(P.A, P.b, method="sketch_and_precondition", preconditioner="sketch", rng=0)
    assert spir.n_iter > 1
    assert np.all(np.isfinite(spir.history["backward_error"]))
    assert np.all(np.isnan(spir.history["relative_step"]))
    stopped = lstsq(P.A, P.b, method="iterative_sketching", rng=0,
                    callback=lambda it, x, r: it >= 3)
    assert stopped.n_iter == 3
    assert "callback" in stopped.message
    assert not stopped.converged
    assert "LstsqResult(" in repr(res)


def test_result_is_frozen():
    P = lstsq_problem(200, 3, rng=0)
    res = lstsq(P.A, P.b)
    with pytest.raises(AttributeError):
        res.x = None


class TestBadInput:
    A = np.random.default_rng(0).standard_normal((50, 4))
    b = np.ones(50)

    @pytest.mark.parametrize("kwargs, match", [
        ({"method": "qr"}, "`method`"),
        ({"sketch": "fourier"}, "`sketch`"),
        ({"sketch_size": 3}, "`sketch_size`"),
        ({"sketch_size": 51}, "`sketch_size`"),
        ({"tol": 0.0}, "`tol`"),
        ({"tol": float("nan")}, "`tol`"),
        ({"maxiter": 0}, "`maxiter`"),
        ({"preconditioner": "jacobi"}, "`preconditioner`"),
    ])
    def test_bad_options(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            lstsq(self.A, self.b, **kwargs)

    def test_shapes(self):
        with pytest.raises(ValueError, match="`b`"):
            lstsq(self.A, np.ones(49))
        with pytest.raises(ValueError, match="`A`"):
            lstsq(np.ones(5), np.ones(5))
        with pytest.raises(ValueError, match="`A`"):
            lstsq(np.ones((0, 3)), np.ones(0))
        with pytest.raises(ValueError, match="n >= d"):
            lstsq(self.A.T, np.ones(4), method="sketch_and_precondition")

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite(self, bad):
        A = self.A.copy()
        A[3, 1] = bad
        with pytest.raises(ValueError, match="finite"):
            lstsq(A, self.b)
        b = self.b.copy()
        b[0] = bad
        with pytest.raises(ValueError, match="finite"):
            lstsq(self.A, b)

    def test_dtypes(self):
        with pytest.raises(TypeError, match="complex"):
            lstsq(self.A + 1j, self.b)
        with pytest.raises(TypeError, match="`A`"):
            lstsq(self.A.astype(object), self.b)
        with pytest.raises(TypeError, match="`maxiter`"):
            lstsq(self.A, self.b, maxiter=2.5)
        with pytest.raises(TypeError, match="`callback`"):
            lstsq(self.A, self.b, callback=3)
        with pytest.raises(TypeError, match="`rng`"):
            lstsq(self.A, self.b, rng="seed")

    def test_validation_happens_before_work(self):
        # A huge but invalid request must fail instantly, not after sketching.
        with pytest.raises(ValueError, match="`method`"):
            lstsq(np.ones((10**6, 2)), np.ones(10**6), method="nope", check_finite=False)


class TestArrayAPI:
    xp = pytest.importorskip("array_api_strict")  # a test dependency: present in CI

    @pytest.mark.parametrize("method", ALL_METHODS)
    @pytest.mark.parametrize("sketch", ["sparse_sign", "srht", "gaussian"])
    def test_array_api_strict_in_and_out(self, method, sketch):
        P = lstsq_problem(1500, 6, cond=100.0, residual_norm=0.2, rng=0)
        res = lstsq(self.xp.asarray(P.A), self.xp.asarray(P.b), method=method, sketch=sketch,
                    rng=0)
        assert type(res.x).__module__.startswith("array_api_strict")
        ref = lstsq(P.A, P.b, method=method, sketch=sketch, rng=0).x
        np.testing.assert_allclose(np.asarray(res.x), ref, rtol=1e-8, atol=1e-10)

    def test_mixed_namespaces_rejected(self):
        P = lstsq_problem(100, 3, rng=0)
        with pytest.raises(TypeError, match="namespace"):
            lstsq(self.xp.asarray(P.A), P.b)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_cupy_in_cupy_out(method):
    cp = pytest.importorskip("cupy")
    P = lstsq_problem(4000, 16, cond=1e4, rng=0)
    res = lstsq(cp.asarray(P.A), cp.asarray(P.b), method=method, rng=0)
    assert isinstance(res.x, cp.ndarray)
    if method != "sketch_and_solve":
        assert rel(cp.asnumpy(res.x), P.x) <= 1e-8


@pytest.mark.parametrize("seed", range(10))
def test_iterative_sketching_recovers_from_a_poor_embedding(seed):
    """A small sketch (m = 2d) breaks the momentum parameters' spectral assumption; the
    safeguard must still converge to the LAPACK answer."""
    P = lstsq_problem(400, 30, cond=1e3, residual_norm=0.5, rng=seed)
    res = lstsq(P.A, P.b, method="iterative_sketching", sketch_size=60, maxiter=2000,
                rng=seed)
    assert res.converged
    assert rel(res.x, scipy.linalg.lstsq(P.A, P.b)[0]) <= 1e-8


def test_no_warnings_on_default_path():
    P = lstsq_problem(5000, 20, cond=1e8, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lstsq(P.A, P.b, rng=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (5000, 17), (9000, 64)])
@pytest.mark.parametrize("k", [1, 3])
def test_fused_residual_gradient_matches_blas(dtype, shape, k):
    from lowrank._kernels.regression import residual_gradient

    rng = np.random.default_rng(0)
    A = rng.standard_normal(shape).astype(dtype)
    B = rng.standard_normal((shape[0], k)).astype(dtype)
    X = rng.standard_normal((shape[1], k)).astype(dtype)
    GT, rr = residual_gradient(A, B, np.ascontiguousarray(X.T), 4096)
    R = B.astype(np.float64) - A.astype(np.float64) @ X.astype(np.float64)
    G_ref = A.astype(np.float64).T @ R
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert GT.dtype == dtype and GT.shape == (k, shape[1])
    np.testing.assert_allclose(GT.T, G_ref, rtol=tol, atol=tol * np.abs(G_ref).max())
    np.testing.assert_allclose(rr, np.sum(R * R, axis=0), rtol=tol)


def test_blocked_blas_gradient_matches_the_fused_kernel():
    from lowrank._kernels.regression import residual_gradient
    from lowrank.regression._iterative import _blocked_residual_gradient

    rng = np.random.default_rng(3)
    A = rng.standard_normal((5000, 40))
    B = rng.standard_normal((5000, 6))
    X = rng.standard_normal((40, 6))
    G, r = _blocked_residual_gradient(A, B, X)
    GT, rr = residual_gradient(A, B, np.ascontiguousarray(X.T), 4096)
    np.testing.assert_allclose(G, GT.T, rtol=1e-12, atol=1e-12 * np.abs(G).max())
    np.testing.assert_allclose(r, np.sqrt(rr), rtol=1e-13)


@pytest.mark.parametrize("layout", ["C", "F", "csr"])
def test_iterative_sketching_layouts_agree(layout):
    P = lstsq_problem(5000, 30, cond=1e6, residual_norm=0.1, rng=2)
    A = {"C": P.A, "F": np.asfortranarray(P.A), "csr": scipy.sparse.csr_matrix(P.A)}[layout]
    res = lstsq(A, P.b, method="iterative_sketching", rng=0)
    assert res.converged
    assert rel(res.x, P.x) <= 10 * rel(scipy.linalg.lstsq(P.A, P.b)[0], P.x)


@given(d=st.integers(1, 40), seed=st.integers(0, 2**16), log_cond=st.floats(0, 6))
def test_small_cholesky_kernel_matches_lapack(d, seed, log_cond):
    from lowrank._kernels.linalg import cholesky_upper

    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    G = (Q * np.geomspace(1, 10.0**-log_cond, d)) @ Q.T
    G = (G + G.T) / 2
    R, ok = cholesky_upper(G)
    assert ok
    np.testing.assert_allclose(R, scipy.linalg.cholesky(G), rtol=0,
                               atol=1e-10 * np.abs(R).max())
    assert np.all(np.tril(R, -1) == 0)


def test_small_cholesky_kernel_reports_breakdown():
    from lowrank._kernels.linalg import cholesky_upper

    assert not cholesky_upper(np.array([[1.0, 2.0], [2.0, 1.0]]))[1]
    assert not cholesky_upper(np.array([[np.nan]]))[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 4])
def test_blocked_transpose_product_matches_blas(dtype, k):
    from lowrank._kernels.regression import transpose_times

    rng = np.random.default_rng(1)
    A = rng.standard_normal((9000, 33)).astype(dtype)
    U = rng.standard_normal((9000, k)).astype(dtype)
    GT = transpose_times(A, U, 4096)
    ref = A.astype(np.float64).T @ U.astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert GT.dtype == dtype and GT.shape == (k, 33)
    np.testing.assert_allclose(GT.T, ref, rtol=0, atol=tol * np.abs(ref).max())


@given(P=lstsq_problems(min_rows=40, max_rows=300, max_cols=10, max_cond=1e6))
def test_sketch_and_precondition_solves_strategy_problems(P):
    # lowrank.testing.strategies: known solutions over a range of shapes, conditioning
    # and residual sizes
    res = lstsq(P.A, P.b, method="sketch_and_precondition", rng=0)
    assert res.converged
    assert np.linalg.norm(res.x - P.x) <= 1e-6 * np.linalg.norm(P.x) + 1e-12


# ------------------------------------------------------ several right-hand sides


@pytest.mark.parametrize("method", ["direct", "sketch_and_solve", "sketch_and_precondition",
                                    "iterative_sketching", "auto"])
def test_matrix_right_hand_side_matches_scipy(method):
    P = lstsq_problem(6000, 100, cond=1e4, residual_norm=0.1, rng=0)
    rng = np.random.default_rng(1)
    B = np.column_stack([P.b, P.A @ rng.standard_normal(100), rng.standard_normal(6000)])
    res = lstsq(P.A, B, method=method, rng=0)
    ref = scipy.linalg.lstsq(P.A, B)[0]
    assert res.x.shape == (100, 3)
    assert res.residual_norm.shape == (3,)
    np.testing.assert_allclose(res.residual_norm, np.linalg.norm(B - P.A @ res.x, axis=0),
                               rtol=1e-10, atol=1e-12 * np.linalg.norm(B))
    best = np.linalg.norm(B - P.A @ ref, axis=0)
    if method == "sketch_and_solve":  # a rough answer: residuals within a small factor
        assert np.all(res.residual_norm <= 1.5 * best + 1e-12 * np.linalg.norm(B))
        return
    for j in range(3):
        assert np.linalg.norm(res.x[:, j] - ref[:, j]) <= 1e-6 * np.linalg.norm(ref[:, j])
    if res.method not in ("direct", "sketch_and_solve"):
        assert res.converged and res.column_converged.tolist() == [True] * 3
        assert set(np.unique(res.history["column"])) <= {0.0, 1.0, 2.0}
        assert np.all(np.diff(res.history["time"]) >= 0)


@pytest.mark.parametrize("method", ["sketch_and_precondition", "iterative_sketching"])
def test_matrix_right_hand_side_equals_the_columns_one_by_one(method):
    # the columns share the sketch and the preconditioner: solving them together is as
    # accurate as solving each alone (cond 1e6 with a residual: forward errors ~1e-7)
    P = lstsq_problem(3000, 30, cond=1e6, residual_norm=0.1, rng=2)
    B = np.column_stack([P.b, 2 * P.b + P.A @ np.ones(30)])
    ref = scipy.linalg.lstsq(P.A, B)[0]
    both = lstsq(P.A, B, method=method, rng=5)
    assert both.preconditioner == lstsq(P.A, B[:, 0], method=method, rng=5).preconditioner
    for j in range(2):
        one = lstsq(P.A, B[:, j], method=method, rng=5)
        scale = np.linalg.norm(ref[:, j])
        err_one = np.linalg.norm(one.x - ref[:, j]) / scale
        err_both = np.linalg.norm(both.x[:, j] - ref[:, j]) / scale
        assert err_both <= 10 * err_one + 1e-10
    assert len(both.history["column"]) == both.n_iter


def test_matrix_right_hand_side_float32_and_bad_shapes():
    P = lstsq_problem(2000, 10, rng=0)
    B = np.column_stack([P.b, P.b]).astype(np.float32)
    res = lstsq(P.A.astype(np.float32), B, method="sketch_and_precondition", rng=0)
    assert res.x.dtype == np.float32 and res.x.shape == (10, 2)
    with pytest.raises(ValueError, match="`b`"):
        lstsq(P.A, np.ones((1999, 2)))
    with pytest.raises(ValueError, match="`b`"):
        lstsq(P.A, np.ones((2000, 2, 2)))


@pytest.mark.parametrize("method", ["direct", "sketch_and_precondition", "iterative_sketching"])
def test_matrix_right_hand_side_on_array_namespaces(xp, method):
    P = lstsq_problem(3000, 20, cond=1e3, rng=0)
    B = np.column_stack([P.b, 2 * P.b])
    res = lstsq(xp.asarray(P.A), xp.asarray(B), method=method, rng=0)
    x = np.asarray(res.x.get() if hasattr(res.x, "get") else res.x)
    assert x.shape == (20, 2)
    np.testing.assert_allclose(x, scipy.linalg.lstsq(P.A, B)[0], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("method", ["sketch_and_precondition", "iterative_sketching"])
def test_matrix_right_hand_side_runs_the_columns_side_by_side(method):
    # one pass over A per iteration for all the columns still running: the history
    # interleaves the columns, a column in range(A) stops after its first iterations
    # while the others go on, and every column meets its own stopping test
    P = lstsq_problem(4000, 40, cond=1e4, residual_norm=0.1, rng=4)
    rng = np.random.default_rng(0)
    B = np.column_stack([P.b, P.A @ rng.standard_normal(40), -P.b + 1e-3 * P.A[:, 0]])
    res = lstsq(P.A, B, method=method, preconditioner="sketch", rng=0)
    column = res.history["column"]
    counts = np.bincount(column.astype(int), minlength=3)
    assert counts.sum() == res.n_iter and res.converged
    assert counts[1] < counts[0] and counts[1] < counts[2]
    # side by side: the columns' first iterations come before any column's last
    first_rows = [np.flatnonzero(column == j)[0] for j in range(3)]
    assert max(first_rows) < 3
    ref = scipy.linalg.lstsq(P.A, B)[0]
    for j in range(3):
        assert rel(res.x[:, j], ref[:, j]) <= 1e-6


def test_matrix_right_hand_side_callback_and_maxiter():
    P = lstsq_problem(3000, 30, cond=1e8, residual_norm=0.1, rng=0)
    B = np.column_stack([P.b, 3 * P.b])
    seen = []

    def callback(it, X, r):
        seen.append((it, X.shape, r.shape))
        return it >= 4

    stopped = lstsq(P.A, B, method="iterative_sketching", rng=0, callback=callback)
    assert seen[0] == (1, (30, 2), (2,)) and len(seen) == 4
    assert not stopped.converged and "callback" in stopped.message
    assert stopped.n_iter == 8  # four iterations of each column
    with pytest.warns(ConvergenceWarning, match="2 of 2 columns not converged"):
        capped = lstsq(P.A, B, method="iterative_sketching", maxiter=2, rng=0)
    assert capped.column_converged.tolist() == [False, False]


@given(P=lstsq_problems(min_rows=60, max_rows=400, max_cols=8, max_cond=1e6),
       k=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_matrix_right_hand_side_property_residuals_are_optimal(P, k, seed):
    """Every column's residual is orthogonal to range(A) (the normal equations), the
    columns of a block solve match their one-by-one solves, and scaling one column of b
    scales only that column of x."""
    rng = np.random.default_rng(seed)
    B = np.column_stack([P.b] + [rng.standard_normal(P.A.shape[0]) for _ in range(k - 1)])
    for method in ("sketch_and_precondition", "iterative_sketching"):
        res = lstsq(P.A, B, method=method, rng=seed)
        R = B - P.A @ res.x
        scale = np.linalg.norm(P.A, 2) * np.linalg.norm(B, axis=0)
        assert np.all(np.linalg.norm(P.A.T @ R, axis=0) <= 1e-8 * scale)
        B2 = B.copy()
        B2[:, 1] *= -4.0
        res2 = lstsq(P.A, B2, method=method, rng=seed)
        np.testing.assert_allclose(res2.x[:, 1], -4.0 * res.x[:, 1], rtol=1e-6,
                                   atol=1e-9 * np.abs(res.x[:, 1]).max())


def test_matrix_right_hand_side_rank_deficient_and_sparse():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((500, 4)) @ rng.standard_normal((4, 10))  # rank 4, d = 10
    B = rng.standard_normal((500, 3))
    res = lstsq(A, B, method="sketch_and_precondition", rng=0)
    assert res.preconditioner == "sketch_svd" and res.converged
    np.testing.assert_allclose(res.x, np.linalg.pinv(A) @ B, rtol=1e-8, atol=1e-10)
    S = scipy.sparse.random(3000, 25, density=0.1, random_state=1, format="csr")
    S = S + scipy.sparse.eye(3000, 25)
    B = rng.standard_normal((3000, 2))
    res = lstsq(S, B, method="sketch_and_precondition", rng=0)
    np.testing.assert_allclose(res.x, scipy.linalg.lstsq(S.toarray(), B)[0], rtol=1e-8,
                               atol=1e-10)
