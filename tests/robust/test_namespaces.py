"""The robust family on arrays of other namespaces (``xp`` fixture: NumPy,
``array_api_strict``, and CuPy when a GPU is present): operators, ``corrupt`` and
``subgradient_recovery`` return arrays of the input's namespace, equal (to rounding) to
the NumPy path's, with the same bad-input errors."""

import itertools

import numpy as np
import pytest
from array_api_compat import array_namespace
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank.robust import EntryMeasurements, GaussianMeasurements, corrupt, subgradient_recovery
from lowrank.robust._device import DeviceSigns, EntryIndex, segment_sums


def host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def operators():
    rng = np.random.default_rng(7)
    rows, cols = rng.integers(0, 9, 120), rng.integers(0, 7, 120)     # repeats included
    full_rows, full_cols = np.divmod(rng.permutation(63), 7)           # every entry, shuffled
    return {
        "gaussian dense": GaussianMeasurements((9, 7), 80, rng=1, storage="dense"),
        "gaussian blocks": GaussianMeasurements((9, 7), 80, rng=1, storage="blocks"),
        "entries": EntryMeasurements(rows, cols, (9, 7)),
        "entries, full": EntryMeasurements(full_rows, full_cols, (9, 7)),
    }


@pytest.mark.parametrize("name", list(operators()))
def test_operators_match_numpy(xp, name):
    A = operators()[name]
    rng = np.random.default_rng(0)
    X, z = rng.standard_normal((9, 7)), rng.standard_normal(A.n_measurements)
    out, back = A(xp.asarray(X)), A.adjoint(xp.asarray(z))
    assert array_namespace(out) is array_namespace(xp.asarray(X))
    np.testing.assert_allclose(host(out), A(X), rtol=1e-12, atol=1e-12)
    reference = A.adjoint(z)
    if hasattr(reference, "toarray"):          # NumPy entries: a SciPy CSR matrix
        reference = reference.toarray()
        back = back.toarray() if hasattr(back, "toarray") else back
    np.testing.assert_allclose(host(back), reference, rtol=1e-12, atol=1e-12)
    assert host(A(xp.asarray(X, dtype=xp.float32))).dtype == np.float64  # operator's dtype


@settings(deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), segments=st.integers(1, 12),
       width=st.integers(1, 4))
def test_segment_sums_property(seed, n, segments, width):
    import array_api_strict as xp

    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n, width))
    cuts = np.sort(rng.integers(0, n + 1, segments - 1))
    pointers = np.concatenate(([0], cuts, [n]))
    got = np.asarray(segment_sums(xp, xp.asarray(values), xp.asarray(pointers)))
    want = np.array([values[a:b].sum(axis=0) for a, b in itertools.pairwise(pointers)])
    np.testing.assert_allclose(got, want.reshape(got.shape), atol=1e-12)


def test_device_signs_match_the_csr_adjoint(xp):
    A = operators()["entries"]
    rng = np.random.default_rng(1)
    s = np.sign(rng.standard_normal(A.n_measurements))
    like = xp.asarray(s)
    Q = DeviceSigns(EntryIndex(xp, like, A.rows, A.cols, A.shape, full=False), like)
    ref = A.adjoint(s)
    W, Z = rng.standard_normal((7, 3)), rng.standard_normal((9, 2))
    np.testing.assert_allclose(host(Q @ xp.asarray(W)), ref @ W, atol=1e-12)
    np.testing.assert_allclose(host(Q.T @ xp.asarray(Z)), ref.T @ Z, atol=1e-12)
    np.testing.assert_allclose(host(Q @ xp.asarray(W[:, 0])), ref @ W[:, 0], atol=1e-12)
    np.testing.assert_array_equal(Q.to_host().toarray(), ref.toarray())
    np.testing.assert_array_equal(Q.T.to_host().toarray(), ref.T.toarray())


def _sensing(symmetric):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((8, 2))
    X = Z @ Z.T
    A = GaussianMeasurements(8, 300, rng=1)
    return A, corrupt(A(X), 0.1, rng=2), X


def _entries(fraction):
    rng = np.random.default_rng(3)
    n1, n2 = 40, 30
    L = rng.standard_normal((n1, 2)) @ rng.standard_normal((2, n2))
    rows, cols = np.divmod(np.flatnonzero(rng.random(n1 * n2) < fraction), n2)
    A = EntryMeasurements(rows, cols, (n1, n2))
    return A, corrupt(L[rows, cols], 0.05, rng=4), L


@pytest.mark.parametrize("case", ["symmetric", "asymmetric", "entries", "entries, full"])
def test_recovery_in_the_inputs_namespace(xp, case):
    if case.startswith("entries"):
        (A, y, X), rank, symmetric = _entries(1.0 if case.endswith("full") else 0.6), 2, False
    else:
        (A, y, X), rank, symmetric = _sensing(case == "symmetric"), 8, case == "symmetric"
    ours = subgradient_recovery(A, xp.asarray(y), rank, symmetric=symmetric, rng=0)
    reference = subgradient_recovery(A, y, rank, symmetric=symmetric, rng=0)
    expected = array_namespace(xp.asarray(y))
    for a in (ours.U, ours.X) + (() if symmetric else (ours.V,)):
        assert array_namespace(a) is expected
    assert ours.V is None if symmetric else ours.V.shape == (X.shape[1], rank)
    error = np.linalg.norm(host(ours.X) - X) / np.linalg.norm(X)
    assert error < 1e-6
    # the same algorithm: identical for dense operators, rounding-close for entries
    # (segment sums instead of CSR products may shift the stopping iteration)
    assert abs(error - np.linalg.norm(reference.X - X) / np.linalg.norm(X)) < 1e-6
    if not case.startswith("entries"):
        assert ours.n_iter == reference.n_iter
        np.testing.assert_allclose(host(ours.X), reference.X, atol=1e-10)


def test_float32_and_reproducibility(xp):
    A, y, X = _entries(0.6)
    A32 = EntryMeasurements(A.rows, A.cols, A.shape, dtype=np.float32)
    y32 = xp.asarray(y.astype(np.float32))
    first = subgradient_recovery(A32, y32, 2, symmetric=False, rng=5)
    second = subgradient_recovery(A32, y32, 2, symmetric=False, rng=5)
    assert host(first.X).dtype == np.float32
    np.testing.assert_array_equal(host(first.X), host(second.X))
    assert np.linalg.norm(host(first.X) - X) / np.linalg.norm(X) < 1e-4


def test_corrupt_keeps_the_namespace_and_the_draws(xp):
    y = np.linspace(-1.0, 1.0, 50)
    out, mask = corrupt(xp.asarray(y), 0.2, rng=3, return_mask=True)
    ref, ref_mask = corrupt(y, 0.2, rng=3, return_mask=True)
    assert array_namespace(out) is array_namespace(xp.asarray(y))
    np.testing.assert_array_equal(host(out), ref)
    np.testing.assert_array_equal(host(mask), ref_mask)


def test_bad_input_in_other_namespaces(xp):
    A, y, _ = _sensing(True)
    with pytest.raises(ValueError, match="must have shape"):
        subgradient_recovery(A, xp.asarray(y[:-1]), 2)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        subgradient_recovery(A, xp.asarray(bad), 2)
    with pytest.raises(ValueError, match="must have shape"):
        A.adjoint(xp.asarray(y[:-1]))
    with pytest.raises(ValueError, match="must have shape"):
        A(xp.asarray(np.ones((3, 3))))
