"""Pairwise factorizations: Jacobi eigen/SVD, Gram-Schmidt QR, elimination Cholesky."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank.exceptions import ConvergenceWarning
from lowrank.factorization import (
    elimination_cholesky,
    gram_schmidt_qr,
    jacobi_eigh,
    jacobi_svd,
)
from lowrank.testing import assert_orthonormal, graded_spd_matrix
from lowrank.testing.strategies import graded_spd_matrices, low_rank_matrices, seeds

PAIRWISE = ["random", "cyclic", "greedy"]


def spd(n, seed, cond=1e3):
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))[0]
    return (Q * np.geomspace(1.0, 1.0 / cond, n)) @ Q.T


def rel_err(a, b):
    return np.max(np.abs(a - b) / np.abs(b))


@settings(max_examples=20)
@given(n=st.integers(1, 24), seed=seeds(), pivoting=st.sampled_from(PAIRWISE))
def test_eigh_properties(n, seed, pivoting):
    A = spd(n, seed) - 0.5 * np.eye(n)          # indefinite too
    res = jacobi_eigh(A, pivoting=pivoting, rng=seed)
    assert res.converged
    assert_orthonormal(res.eigenvectors)
    V, w = res.eigenvectors, res.eigenvalues
    np.testing.assert_allclose(V @ np.diag(w) @ V.T, A, atol=1e-12 * max(1, n))
    np.testing.assert_allclose(w, scipy.linalg.eigh(A, eigvals_only=True), atol=1e-13)
    assert np.all(np.diff(w) >= 0)


@settings(max_examples=20)
@given(case=low_rank_matrices(max_size=24, max_rank=24, max_cond=1e3),
       pivoting=st.sampled_from(PAIRWISE))
def test_svd_properties(case, pivoting):
    A = case.matrix
    res = jacobi_svd(A, pivoting=pivoting, rng=case.seed)
    assert res.converged
    k = min(A.shape)
    assert res.U.shape == (A.shape[0], k) and res.Vt.shape == (k, A.shape[1])
    assert_orthonormal(res.U)
    assert_orthonormal(res.Vt.T)
    np.testing.assert_allclose(res.U @ np.diag(res.s) @ res.Vt, A, atol=1e-12)
    ref = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(res.s, ref, atol=1e-13 * ref[0])
    assert np.all(np.diff(res.s) <= 0)


@settings(max_examples=20)
@given(n=st.integers(1, 20), extra=st.integers(0, 10), seed=seeds(),
       pivoting=st.sampled_from([*PAIRWISE, "classical", "modified", "cgs2"]))
def test_qr_properties(n, extra, seed, pivoting):
    A = np.random.default_rng(seed).standard_normal((n + extra, n))
    res = gram_schmidt_qr(A, pivoting=pivoting, rng=seed)
    assert res.converged and res.rank == n
    assert_orthonormal(res.Q, atol=1e-11)
    np.testing.assert_array_equal(res.R, np.triu(res.R))
    assert np.all(np.diag(res.R) > 0)
    np.testing.assert_allclose(res.Q @ res.R, A, atol=1e-12)
    # the same factorization as Householder QR with a nonnegative diagonal
    _q, r = np.linalg.qr(A)
    signs = np.sign(np.diag(r))
    np.testing.assert_allclose(res.R, signs[:, None] * r, atol=1e-10)


@settings(max_examples=20)
@given(A=graded_spd_matrices(max_size=20, min_grading=1e-6, max_cond=1e3),
       pivoting=st.sampled_from(PAIRWISE), seed=seeds())
def test_cholesky_properties(A, pivoting, seed):
    res = elimination_cholesky(A, pivoting=pivoting, rng=seed)
    assert res.converged
    L = res.L
    np.testing.assert_array_equal(L, np.tril(L))
    assert np.all(np.diag(L) > 0)
    np.testing.assert_allclose(L, np.linalg.cholesky(A), rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("pivoting", PAIRWISE)
def test_graded_eigenvalues_to_high_relative_accuracy(pivoting):
    # D H D with a randomly permuted grading: Jacobi keeps relative accuracy, LAPACK's
    # tridiagonal drivers lose it on the small eigenvalues.
    rng = np.random.default_rng(0)
    n = 24
    H = spd(n, 1, cond=10.0)
    d = 10.0 ** (-12.0 * rng.permutation(n) / (n - 1))
    A = d[:, None] * H * d[None, :]
    mpmath = pytest.importorskip("mpmath")       # the extended-precision reference
    mpmath.mp.dps = 50
    ref = np.array(sorted(float(x) for x in mpmath.eigsy(mpmath.matrix(A.tolist()))[0]))
    ours = jacobi_eigh(A, pivoting=pivoting, rng=0).eigenvalues
    lapack = scipy.linalg.eigh(A, eigvals_only=True)
    assert rel_err(ours, ref) < 1e-13
    assert rel_err(lapack, ref) > 1e3 * rel_err(ours, ref)


def test_graded_singular_values_to_high_relative_accuracy():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((30, 12))
    A = B * np.logspace(0, -20, 12)[rng.permutation(12)][None, :]
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    ref = np.array(sorted((float(x) for x in mpmath.svd_r(mpmath.matrix(A.tolist()),
                                                          compute_uv=False)), reverse=True))
    ours = jacobi_svd(A, rng=0).s
    assert rel_err(ours, ref) < 1e-12
    assert rel_err(np.linalg.svd(A, compute_uv=False), ref) > 1e3 * rel_err(ours, ref)


def test_symmetric_permutation_invariance():
    A = spd(15, 2)
    perm = np.random.default_rng(3).permutation(15)
    a = jacobi_eigh(A, rng=0)
    b = jacobi_eigh(A[np.ix_(perm, perm)], rng=0)
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, rtol=1e-12)
    c = elimination_cholesky(A[np.ix_(perm, perm)])
    np.testing.assert_allclose(c.L @ c.L.T, A[np.ix_(perm, perm)], atol=1e-13)


def test_random_pivoting_is_reproducible():
    A = spd(12, 4)
    a, b = jacobi_eigh(A, rng=5), jacobi_eigh(A, rng=5)
    np.testing.assert_array_equal(a.eigenvectors, b.eigenvectors)
    np.testing.assert_array_equal(a.history["max_scaled"], b.history["max_scaled"])
    c = jacobi_eigh(A, rng=6)
    assert not np.array_equal(c.eigenvectors, a.eigenvectors)   # another path ...
    np.testing.assert_allclose(c.eigenvalues, a.eigenvalues, rtol=1e-13)  # same answer


def test_history_and_random_rate():
    # E off^2 after k uniform rotations is (1 - 2/(n(n-1)))^k off^2_0; the median run is
    # far below it (rare slow runs carry the mean).
    n = 16
    A = spd(n, 7)
    ratios = []
    for seed in range(8):
        res = jacobi_eigh(A, rng=seed)
        first = res.history["off_diagonal"][0]
        ratios.append(first**2)
        assert np.all(np.diff(res.history["transforms"]) >= 0)
    expectation = (1 - 2 / (n * (n - 1))) ** (n * (n - 1) / 2)
    assert np.median(ratios) < expectation


def test_rank_deficient_qr():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((8, 4))
    A[:, 2] = 0.0
    res = gram_schmidt_qr(A)
    assert res.rank == 3 and res.R[2, 2] == 0
    assert_orthonormal(res.Q)
    np.testing.assert_allclose(res.Q @ res.R, A, atol=1e-13)


def test_svd_of_wide_and_rank_deficient():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 7))
    res = jacobi_svd(A, rng=0)
    assert res.U.shape == (3, 3) and res.Vt.shape == (3, 7)
    np.testing.assert_allclose(res.U @ np.diag(res.s) @ res.Vt, A, atol=1e-13)
    Z = np.zeros((5, 3))
    res = jacobi_svd(Z)
    assert np.all(res.s == 0)
    assert_orthonormal(res.U)


def test_float32_is_kept():
    A = spd(10, 0).astype(np.float32)
    for res, field in [(jacobi_eigh(A, rng=0), "eigenvalues"), (jacobi_svd(A, rng=0), "s"),
                       (gram_schmidt_qr(A), "Q"), (elimination_cholesky(A), "L")]:
        assert getattr(res, field).dtype == np.float32
        assert res.converged


def test_maxiter_warns():
    with pytest.warns(ConvergenceWarning, match="max_sweeps"):
        res = jacobi_eigh(spd(20, 0), maxiter=1, rng=0)
    assert not res.converged and res.n_iter == 1


def test_callback_stops():
    res = jacobi_eigh(spd(20, 0), rng=0, callback=lambda sweep, worst: True)
    assert res.n_iter == 1 and res.message == "stopped by callback"


def test_bad_input():
    with pytest.raises(ValueError, match="square"):
        jacobi_eigh(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        jacobi_eigh(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="finite"):
        jacobi_svd(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="`pivoting`"):
        jacobi_eigh(np.eye(2), pivoting="best")
    with pytest.raises(ValueError, match="`pivoting`"):
        elimination_cholesky(np.eye(2), pivoting="modified")
    with pytest.raises(ValueError, match="at least as many rows"):
        gram_schmidt_qr(np.ones((2, 3)))
    with pytest.raises(np.linalg.LinAlgError, match="diagonal entry 1"):
        elimination_cholesky(np.diag([1.0, -1.0]))
    with pytest.raises(np.linalg.LinAlgError, match="pivot 1 became"):
        elimination_cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="`tol`"):
        jacobi_svd(np.eye(2), tol=-1.0)
    with pytest.raises(ValueError, match="`maxiter`"):
        jacobi_svd(np.eye(2), maxiter=0)
    with pytest.raises(TypeError, match="complex"):
        jacobi_svd(np.eye(2) * 1j)


def test_graded_spd_generator_cholesky():
    A = graded_spd_matrix(12, grading=1e-10, rng=0)
    res = elimination_cholesky(A, pivoting="random", rng=0)
    assert res.converged
    np.testing.assert_allclose(np.diag(res.L) ** 2 / np.diag(np.linalg.cholesky(A)) ** 2, 1.0,
                               rtol=1e-10)


def test_results_do_not_depend_on_the_thread_count():
    # Numba and BLAS on one thread, then on all: the same factors, bit for bit.
    numba = pytest.importorskip("numba")
    from threadpoolctl import threadpool_limits

    from lowrank.factorization import rp_cholesky
    A = spd(40, 9)
    B = np.random.default_rng(2).standard_normal((60, 30))

    def run():
        return (jacobi_eigh(A, rng=1).eigenvectors, jacobi_svd(B, rng=1).U,
                gram_schmidt_qr(B, pivoting="random", rng=1).R,
                rp_cholesky(A, 10, rng=1).factor)

    default = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        with threadpool_limits(1):
            one = run()
    finally:
        numba.set_num_threads(default)
    for a, b in zip(one, run(), strict=True):
        np.testing.assert_array_equal(a, b)
