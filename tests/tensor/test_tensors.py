"""Dense tensors from factors, symmetrization, compressed coordinates and moment tensors."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank.tensor import MomentTensor, cp_tensor, symmetric_tensor, symmetrize
from lowrank.tensor._moments import scaled_monomials
from lowrank.tensor._multiindex import gradient_table, multi_indices, n_sorted
from lowrank.tensor._tensors import DenseSymmetric
from lowrank.testing import cp_problem, symmetric_cp_problem, symmetric_noise


def _einsum_symmetric(weights, A, order):
    letters = "abcdefgh"[:order]
    spec = ",".join(f"{c}r" for c in letters) + ",r->" + letters
    return np.einsum(spec, *([A] * order), weights)


@settings(max_examples=20)
@given(order=st.integers(1, 5), d=st.integers(1, 5), r=st.integers(1, 6),
       seed=st.integers(0, 2**32 - 1))
def test_symmetric_tensor_matches_einsum(order, d, r, seed):
    rng = np.random.default_rng(seed)
    A, w = rng.standard_normal((d, r)), rng.standard_normal(r)
    T = symmetric_tensor(w, A, order)
    np.testing.assert_allclose(T, _einsum_symmetric(w, A, order), atol=1e-12)


def test_symmetric_tensor_blocks_components(monkeypatch):
    import lowrank.tensor._tensors as tensors

    monkeypatch.setattr(tensors, "BLOCK_ENTRIES", 7)  # several blocks of components
    rng = np.random.default_rng(0)
    A, w = rng.standard_normal((4, 9)), rng.standard_normal(9)
    np.testing.assert_allclose(symmetric_tensor(w, A, 3), _einsum_symmetric(w, A, 3),
                               atol=1e-12)


def test_cp_tensor_matches_einsum():
    rng = np.random.default_rng(1)
    factors = [rng.standard_normal((s, 3)) for s in (2, 3, 4, 5)]
    w = rng.standard_normal(3)
    expected = np.einsum("ar,br,cr,dr,r->abcd", *factors, w)
    np.testing.assert_allclose(cp_tensor(w, factors), expected, atol=1e-12)


def test_helpers_keep_float32():
    A = np.ones((3, 2), dtype=np.float32)
    assert symmetric_tensor(np.ones(2, dtype=np.float32), A, 3).dtype == np.float32
    assert cp_tensor(np.ones(2, dtype=np.float32), [A, A]).dtype == np.float32


def test_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="`A` must have 2 columns"):
        symmetric_tensor(np.ones(2), np.ones((3, 3)), 3)
    with pytest.raises(ValueError, match="`order`"):
        symmetric_tensor(np.ones(2), np.ones((3, 2)), 0)
    with pytest.raises(ValueError, match="finite"):
        symmetric_tensor(np.array([1.0, np.nan]), np.ones((3, 2)), 3)
    with pytest.raises(ValueError, match=r"`factors\[1\]` must have 2 columns"):
        cp_tensor(np.ones(2), [np.ones((3, 2)), np.ones((3, 1))])
    with pytest.raises(TypeError, match="`factors`"):
        cp_tensor(np.ones(2), [])
    with pytest.raises(MemoryError, match="MomentTensor"):
        symmetric_tensor(np.ones(1), np.ones((1000, 1)), 6)


def test_symmetrize_is_the_projection_onto_symmetric_tensors():
    rng = np.random.default_rng(2)
    T = rng.standard_normal((3, 3, 3, 3))
    S = symmetrize(T)
    for sigma in itertools.permutations(range(4)):
        np.testing.assert_allclose(S.transpose(sigma), S, atol=1e-14)
    np.testing.assert_allclose(symmetrize(S), S, atol=1e-14)
    # T - S is orthogonal to every symmetric tensor
    U = symmetrize(rng.standard_normal((3, 3, 3, 3)))
    assert abs(np.sum((T - S) * U)) < 1e-12
    with pytest.raises(ValueError, match="equal sides"):
        symmetrize(np.ones((2, 3)))


@pytest.mark.parametrize("d, n", [(1, 3), (4, 1), (4, 2), (3, 4), (6, 3)])
def test_multi_indices_count_and_multiplicities(d, n):
    table = multi_indices(d, n)
    assert table.indices.shape == (n_sorted(d, n), n)
    assert np.all(np.diff(table.indices, axis=1) >= 0)
    mu = table.sqrt_mult**2
    np.testing.assert_allclose(mu.sum(), d**n)  # every full index is a permutation of one
    for row, m in zip(table.indices, mu, strict=True):
        assert np.isclose(m, len(set(itertools.permutations(row))))


def test_compression_is_an_isometry_of_the_flattening():
    # u^T mat(T) v = u~^T M~ v~ for symmetric u, v (the note's "why the compression is exact")
    rng = np.random.default_rng(3)
    d, m = 4, 5
    T = symmetrize(rng.standard_normal((d,) * m))
    M = DenseSymmetric(T, np).flattening(3)
    u = symmetrize(rng.standard_normal((d,) * 3))
    v = symmetrize(rng.standard_normal((d,) * 2))
    rows, cols = multi_indices(d, 3), multi_indices(d, 2)
    u_c = u[tuple(rows.indices.T)] * rows.sqrt_mult
    v_c = v[tuple(cols.indices.T)] * cols.sqrt_mult
    full = u.reshape(-1) @ T.reshape(d**3, d**2) @ v.reshape(-1)
    np.testing.assert_allclose(u_c @ M @ v_c, full, rtol=1e-12)
    np.testing.assert_allclose(u_c @ u_c, np.sum(u * u), rtol=1e-12)


def test_gradient_table_differentiates_the_monomials():
    rng = np.random.default_rng(4)
    d, n = 5, 3
    table = gradient_table(d, n)
    c = rng.standard_normal(table.high.indices.shape[0])
    x = rng.standard_normal(d)

    def value(y):
        return c @ scaled_monomials(np, y[None, :], table.high)[0]

    low = np.prod(x[table.low.indices], axis=1)
    grad = np.array([np.sum(c[table.child[l]] * table.weight[l] * low) for l in range(d)])
    h = 1e-6
    numeric = np.array([(value(x + h * e) - value(x - h * e)) / (2 * h) for e in np.eye(d)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("order", [3, 4, 5])
def test_moment_tensor_operations_match_the_formed_tensor(order, monkeypatch):
    import lowrank.tensor._moments as moments

    monkeypatch.setattr(moments, "BLOCK_ENTRIES", 50)  # accumulate over several blocks
    rng = np.random.default_rng(order)
    X = rng.standard_normal((37, 4))
    M = MomentTensor(X, order)
    letters = "abcdefg"[:order]
    dense = np.einsum(",".join(f"s{c}" for c in letters) + "->" + letters,
                      *([X] * order)) / 37
    np.testing.assert_allclose(M.to_dense(), dense, atol=1e-12)
    formed = DenseSymmetric(dense, np)
    n = math.ceil(order / 2)
    np.testing.assert_allclose(M.flattening(n), formed.flattening(n), atol=1e-12)
    A = rng.standard_normal((4, 3))
    np.testing.assert_allclose(M.mttkrp(A), formed.mttkrp(A), atol=1e-12)
    np.testing.assert_allclose(M.norm_squared(), formed.norm_squared(), rtol=1e-12)
    assert "order=" in repr(M)


def test_moment_tensor_rejects_bad_input():
    with pytest.raises(ValueError, match="`order`"):
        MomentTensor(np.ones((3, 2)), 2)
    with pytest.raises(ValueError, match="`X` must be 2-D"):
        MomentTensor(np.ones(3), 3)
    with pytest.raises(ValueError, match="finite"):
        MomentTensor(np.array([[1.0, np.inf]]), 3)
    assert MomentTensor(np.ones((3, 2), dtype=np.float32), 3).dtype == np.float32


def test_generators():
    p = symmetric_cp_problem(6, 4, 3, weights="signed", correlated=True, rng=0)
    np.testing.assert_allclose(np.linalg.norm(p.factors, axis=0), 1.0)
    np.testing.assert_allclose(p.tensor, symmetric_tensor(p.weights, p.factors, 3), atol=1e-14)
    assert np.all(p.factors.sum(axis=0) > 0)  # correlated: (randn + 1) leans positive
    q = cp_problem((3, 3, 2), 2, symmetry=("a", "a", "b"), rng=0)
    assert q.symmetry == (0, 0, 1) and q.factors[0] is q.factors[1]
    N = symmetric_noise(3, 4, rng=0)
    np.testing.assert_allclose(np.linalg.norm(N), 1.0)
    np.testing.assert_allclose(N, N.transpose(3, 1, 2, 0), atol=1e-15)
    with pytest.raises(ValueError, match="`weights`"):
        symmetric_cp_problem(3, 2, 3, weights="bad")
    with pytest.raises(ValueError, match="different sides"):
        cp_problem((3, 4), 1, symmetry=(0, 0))
