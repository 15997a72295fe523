"""Tests of lowrank.regression.linf_lstsq and linf_sketch_size."""

import math
import warnings

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from lowrank.exceptions import LowrankWarning
from lowrank.regression import linf_lstsq, linf_sketch_size, lstsq
from lowrank.testing import lstsq_problem


def normalized_linf_error(A, b, x):
    """R_inf = sqrt(d) ||x - x*||_inf / (||r|| ||A^+||)."""
    x_star = scipy.linalg.lstsq(A, b)[0]
    r = b - A @ x_star
    pinv_norm = 1.0 / np.linalg.svd(A, compute_uv=False)[-1]
    return math.sqrt(A.shape[1]) * np.max(np.abs(x - x_star)) / (np.linalg.norm(r) * pinv_norm)


def block_spike_instance(n, d, k):
    """Price-Song-Woodruff style adversarial instance: column j is 1/sqrt(k) on rows
    jk..(j+1)k-1 and the residual is a spike on the last row."""
    A = np.zeros((n, d))
    for j in range(d):
        A[j * k:(j + 1) * k, j] = 1 / math.sqrt(k)
    x = np.ones(d)
    b = A @ x
    b[-1] += 1.0
    return A, b


@given(d=st.integers(1, 500), log_eps=st.floats(-3, 1), log_delta=st.floats(-6, -0.1))
def test_sketch_size_formula_meets_its_bound(d, log_eps, log_delta):
    eps, delta = 10.0**log_eps, 10.0**log_delta
    m = linf_sketch_size(d, eps, delta)
    denom = 1 - math.sqrt(d / m) - math.sqrt(2 * math.log(2 / delta) / m)
    assert denom > 0
    certified = math.sqrt(2 * d * math.log(4 * d / delta)) / (math.sqrt(m) * denom)
    assert certified <= eps * (1 + 1e-9)
    # and it is the smallest such integer (up to the ceiling)
    m1 = m - 1
    denom1 = 1 - math.sqrt(d / m1) - math.sqrt(2 * math.log(2 / delta) / m1)
    if denom1 > 0:
        assert math.sqrt(2 * d * math.log(4 * d / delta)) / (math.sqrt(m1) * denom1) > eps * (
            1 - 1e-9)


@pytest.mark.parametrize("instance", ["generic", "block_spike"])
def test_gaussian_guarantee_on_seed_list(instance):
    """The proven bound R_inf <= eps holds with probability 1 - delta; over 20 fixed
    seeds at delta = 0.05 we expect 1 failure and allow at most 3."""
    eps, delta, n, d = 0.5, 0.05, 6000, 8
    failures = 0
    for seed in range(20):
        if instance == "generic":
            P = lstsq_problem(n, d, cond=1e3, residual_norm=1.0, rng=seed)
            A, b = P.A, P.b
        else:
            A, b = block_spike_instance(n, d, 8)
        res = linf_lstsq(A, b, eps=eps, delta=delta, rng=seed)
        assert res.guarantee == "proven"
        assert res.eps <= eps
        failures += normalized_linf_error(A, b, res.x) > res.eps
    assert failures <= 3


def test_srht_tracks_gaussian_statistically():
    """Conjectured SRHT guarantee: its median normalized error stays within 2x of the
    Gaussian's on the generic instance (regression test, not a proof)."""
    med = {}
    for kind in ("gaussian", "srht"):
        errs = []
        for seed in range(15):
            P = lstsq_problem(4096, 16, cond=1e3, residual_norm=1.0, rng=seed)
            res = linf_lstsq(P.A, P.b, sketch=kind, sketch_size=256, rng=seed)
            errs.append(normalized_linf_error(P.A, P.b, res.x))
        med[kind] = np.median(errs)
    assert med["srht"] <= 2 * med["gaussian"]


def test_guarantee_labels():
    P = lstsq_problem(3000, 4, rng=0)
    labels = {k: linf_lstsq(P.A, P.b, sketch=k, sketch_size=200, rng=0).guarantee
              for k in ("gaussian", "srht", "rademacher", "sparse_sign", "countsketch")}
    assert labels == {"gaussian": "proven", "srht": "conjectured",
                      "rademacher": "conjectured", "sparse_sign": "none",
                      "countsketch": "none"}


def test_exact_fallback_when_sketch_not_smaller():
    P = lstsq_problem(300, 10, rng=0)
    with pytest.warns(LowrankWarning, match="solved exactly"):
        res = linf_lstsq(P.A, P.b, eps=0.1)
    assert res.sketch == "exact" and res.guarantee == "exact" and res.sketch_size == 300
    assert "more than half of n" in res.message
    np.testing.assert_allclose(res.x, lstsq(P.A, P.b, method="direct").x, rtol=1e-12)


@pytest.mark.parametrize("sketch_size, exact", [(150, False), (151, True)])
def test_direct_solve_above_half_of_n(sketch_size, exact):
    # a sketch of more than n / 2 rows costs more than the direct solve it replaces
    P = lstsq_problem(300, 10, rng=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = linf_lstsq(P.A, P.b, sketch_size=sketch_size, rng=0)
    assert (res.guarantee == "exact") is exact
    assert any(issubclass(w.category, LowrankWarning) for w in caught) is exact
    if not exact:
        assert res.sketch_size == 150 and "sketch-and-solve" in res.message


def test_dense_sketch_is_applied_in_chunks_without_changing_s():
    # S is drawn in chunks of at most 2^20 entries; the product equals the explicit S
    from lowrank.sketch import GaussianSketch, RademacherSketch

    rng = np.random.default_rng(0)
    A = rng.standard_normal((5000, 3))
    for cls in (GaussianSketch, RademacherSketch):
        S = cls(700, 5000, rng=1)  # 700 x 2048 blocks: several row chunks each
        np.testing.assert_allclose(S @ A, S.todense() @ A, rtol=1e-10, atol=1e-10)
        Y = rng.standard_normal((700, 2))
        np.testing.assert_allclose(S.T @ Y, S.todense().T @ Y, rtol=1e-10, atol=1e-10)


def test_reports_bound_and_residual():
    P = lstsq_problem(20000, 4, cond=10.0, residual_norm=0.5, rng=0)
    res = linf_lstsq(P.A, P.b, eps=0.5, rng=0)
    assert res.sketch_size == linf_sketch_size(4, 0.5, 0.01)
    assert res.bound_factor == pytest.approx(res.eps / 2)
    assert res.residual_norm == pytest.approx(np.linalg.norm(P.b - P.A @ res.x))
    too_small = linf_lstsq(P.A, P.b, sketch_size=6, rng=0)
    assert math.isinf(too_small.eps)  # no certified bound for a tiny sketch


def test_float32_and_reproducible():
    P = lstsq_problem(5000, 4, rng=0, dtype=np.float32)
    a = linf_lstsq(P.A, P.b, eps=0.5, rng=3)
    b = linf_lstsq(P.A, P.b, eps=0.5, rng=3)
    assert a.x.dtype == np.float32
    np.testing.assert_array_equal(a.x, b.x)


def test_array_api_strict():
    xp = pytest.importorskip("array_api_strict")
    P = lstsq_problem(5000, 4, rng=0)
    res = linf_lstsq(xp.asarray(P.A), xp.asarray(P.b), eps=0.5, rng=1)
    assert type(res.x).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.asarray(res.x), linf_lstsq(P.A, P.b, eps=0.5, rng=1).x,
                               rtol=1e-10)


class TestBadInput:
    A = np.random.default_rng(0).standard_normal((100, 3))
    b = np.ones(100)

    @pytest.mark.parametrize("kwargs, exc, match", [
        ({"eps": 0.0}, ValueError, "`eps`"),
        ({"eps": -1.0}, ValueError, "`eps`"),
        ({"delta": 0.0}, ValueError, "`delta`"),
        ({"delta": 1.0}, ValueError, "`delta`"),
        ({"sketch": "bogus"}, ValueError, "`sketch`"),
        ({"sketch_size": 2}, ValueError, "`sketch_size`"),
        ({"sketch_size": 2.5}, TypeError, "`sketch_size`"),
    ])
    def test_options(self, kwargs, exc, match):
        with pytest.raises(exc, match=match):
            linf_lstsq(self.A, self.b, **kwargs)

    def test_data(self):
        with pytest.raises(ValueError, match="rows"):
            linf_lstsq(self.A.T, np.ones(3))
        A = self.A.copy()
        A[0, 0] = np.nan
        with pytest.raises(ValueError, match="finite"):
            linf_lstsq(A, self.b)
        with pytest.raises(TypeError, match="complex"):
            linf_lstsq(self.A * 1j, self.b)
        with pytest.raises(ValueError, match="`b`"):
            linf_lstsq(self.A, np.ones(7))
