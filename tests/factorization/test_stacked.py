"""Jacobi on stacks of matrices and on other array namespaces (rounds of disjoint pairs)."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank._backend import to_host
from lowrank.exceptions import ConvergenceWarning
from lowrank.factorization import jacobi_eigh, jacobi_svd
from lowrank.factorization._batched import random_matching, tournament
from lowrank.testing import assert_orthonormal
from lowrank.testing.strategies import seeds

STACKED = ["random", "cyclic"]


def symmetric_stack(batch, n, seed):
    B = np.random.default_rng(seed).standard_normal((batch, n, n))
    return B + np.swapaxes(B, 1, 2)


def T(X):
    return np.swapaxes(X, -1, -2)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 13])
def test_schedules_are_perfect_matchings(n):
    seen = set()
    for first, second, rest in tournament(n):
        assert sorted([*first, *second, *rest]) == list(range(n))
        assert np.all(first < second) and len(rest) == n % 2
        seen |= set(zip(first.tolist(), second.tolist(), strict=True))
    assert len(seen) == n * (n - 1) // 2          # a sweep meets every pair once
    first, second, rest = random_matching(np.random.default_rng(0), n)
    assert sorted([*first, *second, *rest]) == list(range(n)) and np.all(first < second)


@settings(max_examples=15)
@given(batch=st.integers(1, 4), n=st.integers(1, 12), seed=seeds(),
       pivoting=st.sampled_from(STACKED))
def test_stacked_eigh_properties(batch, n, seed, pivoting):
    A = symmetric_stack(batch, n, seed)
    res = jacobi_eigh(A, pivoting=pivoting, rng=seed)
    assert res.converged
    w, V = res.eigenvalues, res.eigenvectors
    assert w.shape == (batch, n) and V.shape == (batch, n, n)
    for k in range(batch):
        assert_orthonormal(V[k])
        np.testing.assert_allclose(w[k], scipy.linalg.eigh(A[k], eigvals_only=True),
                                   atol=1e-12 * np.abs(w[k]).max())
    np.testing.assert_allclose(V @ (w[:, :, None] * T(V)), A, atol=1e-12 * np.abs(A).max())
    assert np.all(np.diff(w, axis=1) >= 0)


@settings(max_examples=15)
@given(batch=st.integers(1, 4), m=st.integers(1, 12), n=st.integers(1, 12), seed=seeds(),
       pivoting=st.sampled_from(STACKED))
def test_stacked_svd_properties(batch, m, n, seed, pivoting):
    A = np.random.default_rng(seed).standard_normal((batch, m, n))
    res = jacobi_svd(A, pivoting=pivoting, rng=seed)
    assert res.converged
    k = min(m, n)
    assert res.U.shape == (batch, m, k) and res.s.shape == (batch, k)
    assert res.Vt.shape == (batch, k, n)
    for b in range(batch):
        assert_orthonormal(res.U[b])
        assert_orthonormal(res.Vt[b].T)
    np.testing.assert_allclose(res.U @ (res.s[:, :, None] * res.Vt), A, atol=1e-12)
    np.testing.assert_allclose(res.s, np.linalg.svd(A, compute_uv=False), rtol=1e-12,
                               atol=1e-13)


def test_namespaces_agree(xp):
    # The same rounds on NumPy, array_api_strict (and CuPy with a GPU): same answer, and
    # arrays of the input's namespace back.
    A = symmetric_stack(3, 9, 0)
    ref = jacobi_eigh(A, rng=4)
    res = jacobi_eigh(xp.asarray(A), rng=4)
    assert type(res.eigenvalues) is type(xp.asarray(A))
    np.testing.assert_allclose(to_host(res.eigenvalues), ref.eigenvalues, rtol=1e-13,
                               atol=1e-13)
    assert res.n_transforms == ref.n_transforms
    B = np.random.default_rng(1).standard_normal((2, 10, 6))
    svd = jacobi_svd(xp.asarray(B), pivoting="cyclic")
    np.testing.assert_allclose(to_host(svd.s), np.linalg.svd(B, compute_uv=False),
                               rtol=1e-13)
    np.testing.assert_allclose(to_host(svd.U) @ (to_host(svd.s)[:, :, None]
                                                 * to_host(svd.Vt)), B, atol=1e-13)


def test_single_matrix_of_another_namespace(xp):
    A = symmetric_stack(1, 6, 3)[0]
    res = jacobi_eigh(xp.asarray(A), rng=0)
    assert res.eigenvalues.shape == (6,) and res.eigenvectors.shape == (6, 6)
    np.testing.assert_allclose(to_host(res.eigenvalues), np.linalg.eigvalsh(A), atol=1e-13)
    svd = jacobi_svd(xp.asarray(A[:, :4]), rng=0)
    assert svd.U.shape == (6, 4) and svd.Vt.shape == (4, 4)


@pytest.mark.gpu
def test_cupy_batched_eigh_matches_and_avoids_the_diagonal_bug():
    # cupy#4847: CuPy's batched Jacobi eigh returned the input's diagonal as eigenvalues.
    # Checked against cupy.linalg.eigh, and against the symptom itself.
    from tests.conftest import array_namespace_module
    cupy = array_namespace_module("cupy")
    A = symmetric_stack(64, 16, 2)
    res = jacobi_eigh(cupy.asarray(A), rng=0)
    ours = cupy.asnumpy(res.eigenvalues)
    theirs = cupy.asnumpy(cupy.linalg.eigh(cupy.asarray(A))[0])
    np.testing.assert_allclose(ours, np.linalg.eigvalsh(A), atol=1e-12)
    np.testing.assert_allclose(ours, theirs, atol=1e-10)
    assert not np.allclose(np.sort(np.diagonal(A, axis1=1, axis2=2), axis=1), ours)


@pytest.mark.parametrize("pivoting", STACKED)
def test_stacked_graded_eigenvalues_keep_relative_accuracy(pivoting):
    # The rounds zero each pair's entry and set the diagonal exactly, as the sequential
    # kernel does: small eigenvalues of D H D keep their relative accuracy.
    rng = np.random.default_rng(0)
    n, stack = 16, []
    for _ in range(3):
        Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
        H = (Q * np.geomspace(1.0, 0.1, n)) @ Q.T
        d = 10.0 ** (-10.0 * rng.permutation(n) / (n - 1))
        stack.append(d[:, None] * H * d[None, :])
    A = np.array(stack)
    ours = jacobi_eigh(A, pivoting=pivoting, rng=0).eigenvalues
    for k in range(3):
        ref = jacobi_eigh(A[k], pivoting="cyclic").eigenvalues     # sequential engine
        lapack = scipy.linalg.eigh(A[k], eigvals_only=True)
        err = np.max(np.abs(ours[k] - ref) / ref)
        assert err < 1e-13
        assert np.max(np.abs(lapack - ref) / ref) > 1e3 * err


def test_stacked_reproducible_and_rank_deficient():
    A = symmetric_stack(2, 8, 5)
    a, b = jacobi_eigh(A, rng=7), jacobi_eigh(A, rng=7)
    np.testing.assert_array_equal(a.eigenvectors, b.eigenvectors)
    B = np.random.default_rng(2).standard_normal((3, 9, 5))
    B[:, :, 2] = 0.0
    B[1] = 0.0
    res = jacobi_svd(B, rng=0)
    assert np.all(res.s[1] == 0) and np.all(res.s[:, -1] == 0)
    for k in range(3):
        assert_orthonormal(res.U[k])
    np.testing.assert_allclose(res.U @ (res.s[:, :, None] * res.Vt), B, atol=1e-13)


def test_stacked_float32_and_history():
    A = symmetric_stack(4, 6, 1).astype(np.float32)
    res = jacobi_eigh(A, pivoting="cyclic")
    assert res.eigenvalues.dtype == np.float32 and res.eigenvectors.dtype == np.float32
    assert res.converged and res.tol == 6 * np.finfo(np.float32).eps
    assert list(res.history["transforms"]) == sorted(res.history["transforms"])
    assert res.history["max_scaled"][-1] <= 2 * res.tol


def test_stacked_maxiter_and_bad_input():
    A = symmetric_stack(3, 12, 0)
    with pytest.warns(ConvergenceWarning, match="3 matrices not converged"):
        res = jacobi_eigh(A, maxiter=1, rng=0)
    assert not res.converged
    with pytest.raises(ValueError, match="greedy"):
        jacobi_eigh(A, pivoting="greedy")
    with pytest.raises(ValueError, match="greedy"):
        jacobi_svd(A, pivoting="greedy")
    bad = A.copy()
    bad[1, 0, 1] += 1.0
    with pytest.raises(ValueError, match="matrix 1 of the stack"):
        jacobi_eigh(bad)
    with pytest.raises(ValueError, match="square"):
        jacobi_eigh(np.ones((2, 3, 4)))
    nan = A.copy()
    nan[2, 3, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        jacobi_eigh(nan)
    with pytest.raises(ValueError, match="2-D or 3-D"):
        jacobi_svd(np.ones((2, 2, 2, 2)))
