"""Tests of the factorization figures F10-F12 and their ``lowrank figures`` output.

Everything runs at the private ``"tiny"`` scale (seconds), once per module (the
fixtures).  The substantive checks are properties the figures are meant to show, on the
fixed seed 0 with wide margins: rotations never raise the off-diagonal mass and no step
of either kind raises the potential Φ, the chunked engine of F10 retraces the public
functions' runs, Jacobi keeps graded eigenvalues and singular values to full relative
accuracy while LAPACK's tridiagonal and bidiagonal drivers do not on a permuted grading,
and RPCholesky's trace error decreases with the rank, beats uniform pivots on the smile
and greedy pivots on the spiral, and never beats the best rank-k error.  Wall-clock
times differ from run to run; the CSV comparison leaves out each module's
``TIMING_COLUMNS``.
"""


import numpy as np
import pytest

from lowrank.experiments import FIGURES
from lowrank.experiments import graded_accuracy as f11
from lowrank.experiments import pairwise_decay as f10
from lowrank.experiments import rpcholesky_trace_error as f12

MODULES = {"F10": f10, "F11": f11, "F12": f12}
HAVE_MPMATH = f11._load_mpmath() is not None
needs_mpmath = pytest.mark.skipif(not HAVE_MPMATH, reason="mpmath is not installed")


@pytest.fixture(scope="module")
def tiny_runs():
    """``tiny_runs(module) -> (data, progress counts)``: each figure's tiny run at rng=0,
    made once for all the tests of this file."""
    cache = {}

    def get(module):
        if module not in cache:
            counts = []
            cache[module] = (module.run("tiny", rng=0, progress=counts.append), counts)
        return cache[module]

    return get


@pytest.fixture(scope="module")
def f10_data(tiny_runs):
    return tiny_runs(f10)[0]


@pytest.fixture(scope="module")
def f11_data(tiny_runs):
    return tiny_runs(f11)[0]


@pytest.fixture(scope="module")
def f12_data(tiny_runs):
    return tiny_runs(f12)[0]


# ------------------------------------------------------------------- all three


def test_registry_has_the_factorization_figures():
    assert {fid: FIGURES[fid] for fid in MODULES} == MODULES
    ids = list(FIGURES)
    assert ids[ids.index("F10"):ids.index("F10") + 3] == list(MODULES)
    for module in MODULES.values():
        assert isinstance(module.TITLE, str) and module.TITLE.startswith("factorization:")
        for name in ("run", "plot", "to_rows", "n_steps"):
            assert callable(getattr(module, name))
        assert module.n_steps("small") > 0 and module.n_steps("paper") > 0


@pytest.mark.parametrize("module", list(MODULES.values()), ids=list(MODULES))
def test_unknown_scale_is_rejected(module):
    with pytest.raises(ValueError, match="`scale` must be one of"):
        module.run("huge")
    with pytest.raises(ValueError, match="`scale` must be one of"):
        module.n_steps("huge")


@pytest.mark.parametrize("module", list(MODULES.values()), ids=list(MODULES))
def test_progress_reports_every_step(module, tiny_runs):
    assert sum(tiny_runs(module)[1]) == module.n_steps("tiny")


@pytest.mark.parametrize("fid", list(MODULES))
def test_plot_returns_a_figure(fid, request):
    figure = pytest.importorskip("matplotlib.figure")
    data = request.getfixturevalue(f"{fid.lower()}_data")
    fig = MODULES[fid].plot(data)
    assert isinstance(fig, figure.Figure)
    expected = {"F10": 8, "F11": 2, "F12": 2 * (1 + len(data.get("sizes", [])))}[fid]
    assert len(fig.axes) == expected
    assert fig._suptitle.get_text().startswith(fid)


@pytest.mark.parametrize("fid", list(MODULES))
def test_to_rows_have_one_set_of_columns(fid, request):
    rows = MODULES[fid].to_rows(request.getfixturevalue(f"{fid.lower()}_data"))
    assert rows and len({tuple(row) for row in rows}) == 1
    assert set(MODULES[fid].TIMING_COLUMNS) <= set(rows[0])


def test_cli_writes_png_and_csv(cli_matches_fixtures):
    # the CSV is the to_rows of the same seed's run (the fixtures), timings aside
    cli_matches_fixtures(tuple(MODULES))


# ------------------------------------------------------------------- F10: decay per step


def test_f10_shapes(f10_data):
    sizes, seeds = f10_data["sizes"], f10_data["seeds"]
    points = f10_data["sweeps"] * f10_data["chunks"] + 1
    shape = (len(sizes), len(f10.FACTORIZATIONS), len(f10.RULES), seeds, points)
    assert f10_data["off"].shape == f10_data["phi"].shape == shape
    assert f10_data["x"].shape == f10_data["expectation"].shape == (len(sizes), points)
    np.testing.assert_allclose(f10_data["x"][:, -1], f10_data["sweeps"])
    assert np.all(f10_data["off"][..., 0] == 1) and np.all(f10_data["phi"][..., 0] == 1)
    assert np.all(f10_data["phi0"] > 0)
    for a, n in enumerate(sizes):
        np.testing.assert_allclose(f10_data["expectation"][a],
                                   f10.expectation(n, f10_data["x"][a] * n * (n - 1) / 2))


def test_f10_every_run_converges(f10_data):
    assert np.all(np.isfinite(f10_data["converged_sweep"]))
    assert np.all(f10_data["off"][..., -1] < 1e-20)
    assert np.all(np.abs(f10_data["phi"][..., -1]) < 1e-20)
    # one row-cyclic elimination sweep is modified Gram-Schmidt (right-looking LDL^T)
    cyclic = f10.RULES.index("cyclic")
    for name in ("qr", "cholesky"):
        f = f10.FACTORIZATIONS.index(name)
        assert np.all(f10_data["converged_sweep"][:, f, cyclic] == 1)


def test_f10_rotations_never_raise_off_and_no_step_raises_phi(f10_data):
    rotations = [f10.FACTORIZATIONS.index(name) for name in ("eigh", "svd")]
    eliminations = [f10.FACTORIZATIONS.index(name) for name in ("qr", "cholesky")]
    assert np.max(np.diff(f10_data["off"][:, rotations], axis=-1)) <= 1e-14
    assert np.max(np.diff(f10_data["phi"], axis=-1)) <= 1e-14
    # an elimination refills entries (k, j): off^2 is not monotone for that kind
    assert np.max(np.diff(f10_data["off"][:, eliminations], axis=-1)) > 1e-6


def test_f10_random_rotations_follow_the_expectation(f10_data):
    random = f10.RULES.index("random")
    for a in range(len(f10_data["sizes"])):
        x, line = f10_data["x"][a], f10_data["expectation"][a]
        early = x <= 3
        for f in (f10.FACTORIZATIONS.index("eigh"), f10.FACTORIZATIONS.index("svd")):
            median = np.median(f10_data["off"][a, f, random], axis=0)
            # the median of 3 seeds sits near the exact expectation early on ...
            assert np.all(median[early] <= 2.0 * line[early])
            assert np.all(median[early] >= 0.2 * line[early])
            # ... and far below it once the run nears convergence
            assert median[-1] < 1e-6 * line[-1]


def test_f10_engine_retraces_the_public_functions(f10_data):
    for rule in ("random", "cyclic"):
        r = f10.RULES.index(rule)
        np.testing.assert_array_equal(f10_data["public_sweeps"][:, :, r],
                                      f10_data["converged_sweep"][:, :, r, 0])
        np.testing.assert_array_equal(f10_data["public_transforms"][:, :, r],
                                      f10_data["transforms"][:, :, r, 0])


def test_f10_potential_is_the_log_hadamard_ratio():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((14, 7))
    G = B.T @ B
    direct = np.sum(np.log(np.diag(G))) - np.linalg.slogdet(G)[1]
    assert f10.potential(G, True) == pytest.approx(direct, rel=1e-12)
    assert f10.potential(B, False) == pytest.approx(direct, rel=1e-10)
    # tiny off-diagonal entries: Phi ~ rho^2, kept to full relative accuracy
    near = np.array([[1.0, 1e-9], [1e-9, 1.0]])
    assert f10.potential(near, True) == pytest.approx(1e-18, rel=1e-12)


def test_f10_same_seed_gives_identical_data(f10_data):
    again = f10.run("tiny", rng=0)
    for key in ("off", "phi", "converged_sweep", "transforms"):
        np.testing.assert_array_equal(again[key], f10_data[key])


def test_f10_to_rows(f10_data):
    rows = f10.to_rows(f10_data)
    points = f10_data["x"].shape[1]
    assert len(rows) == len(f10_data["sizes"]) * len(f10.FACTORIZATIONS) * len(f10.RULES) * points
    for row in rows:
        rotation = row["factorization"] in ("eigh", "svd")
        assert np.isfinite(row["expectation"]) == rotation
        assert row["off2_q10"] <= row["off2_median"] <= row["off2_q90"]


# ------------------------------------------------------------------- F11: graded accuracy


def test_f11_shapes(f11_data):
    shape = (len(f11.ORDERINGS), len(f11_data["gradings"]), f11_data["seeds"])
    assert f11_data["eig_error"].shape == (len(f11.EIG_METHODS), *shape)
    assert f11_data["svd_error"].shape == (len(f11.SVD_METHODS), *shape)
    assert np.all(f11_data["cond_H"] < 100) and np.all(f11_data["cond_B"] < 100)


@needs_mpmath
def test_f11_jacobi_is_accurate_and_lapack_is_not_on_a_permuted_grading(f11_data):
    assert f11_data["note"] == "" and f11_data["reference"].startswith("mpmath")
    eig, svd = f11_data["eig_error"], f11_data["svd_error"]
    jacobi = [f11.EIG_METHODS.index(m) for m in ("jacobi_random", "jacobi_cyclic")]
    assert np.max(eig[jacobi]) <= 1e-12
    assert np.max(svd[[f11.SVD_METHODS.index(m) for m in ("jacobi_random", "jacobi_cyclic")]]
                  ) <= 1e-12
    assert np.max(svd[f11.SVD_METHODS.index("dgejsv")]) <= 1e-12
    permuted, decreasing = f11.ORDERINGS.index("permuted"), f11.ORDERINGS.index("decreasing")
    widest = -1
    for method in ("evr_lower", "evr_upper"):
        assert np.min(eig[f11.EIG_METHODS.index(method), permuted, widest]) > 1e-6
    assert np.min(svd[f11.SVD_METHODS.index("gesdd"), permuted, widest]) > 1e2 * np.max(
        svd[0])
    # a decreasing grading flatters eigh with lower=True (and svd); lower=False is bad
    assert np.max(eig[f11.EIG_METHODS.index("evr_lower"), decreasing]) <= 1e-10
    assert np.min(eig[f11.EIG_METHODS.index("evr_upper"), decreasing, widest]) > 1e-6
    assert np.max(svd[f11.SVD_METHODS.index("gesdd"), decreasing]) <= 1e-12
    # without grading every method is accurate
    assert np.max(eig[:, :, 0]) <= 1e-12 and np.max(svd[:, :, 0]) <= 1e-12


def test_f11_without_mpmath_records_a_note(monkeypatch):
    monkeypatch.setattr(f11, "_load_mpmath", lambda: None)
    data = f11.run("tiny", rng=0)
    assert data["note"] == f11.MPMATH_MISSING and data["reference"] == ""
    assert np.all(np.isnan(data["eig_error"])) and np.all(np.isnan(data["svd_error"]))
    rows = f11.to_rows(data)
    assert len(rows) == (len(f11.EIG_METHODS) + len(f11.SVD_METHODS)) * len(
        f11.ORDERINGS) * len(data["gradings"])
    pytest.importorskip("matplotlib.figure")
    fig = f11.plot(data)
    assert any(f11.MPMATH_MISSING in t.get_text() for t in fig.axes[0].texts)


def test_f11_dgejsv_values_are_unscaled():
    # dgejsv returns sva scaled by work[1] / work[0]: visible near the end of the range
    A = np.random.default_rng(0).standard_normal((12, 5)) * 3e300
    np.testing.assert_allclose(f11.dgejsv_singular_values(A),
                               np.linalg.svd(A, compute_uv=False), rtol=1e-13)


def test_f11_problems_share_the_seed_across_gradings():
    first = f11.graded_problems(6, 0, np.random.default_rng(5))
    wide = f11.graded_problems(6, 12, np.random.default_rng(5))
    np.testing.assert_array_equal(first[2], wide[2])
    np.testing.assert_array_equal(first[0], f11.graded_problems(6, 0,
                                                                np.random.default_rng(5))[0])
    D = 10.0 ** (-12 * np.arange(6) / 5)
    np.testing.assert_allclose(wide[0], D[:, None] * first[0] * D[None, :], rtol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(wide[1], axis=0),
                               np.linalg.norm(first[1], axis=0) * np.logspace(0, -12, 6),
                               rtol=1e-14)


# ------------------------------------------------------------------- F12: RPCholesky


def test_f12_shapes(f12_data):
    rank = f12_data["ranks"].size
    shape = (len(f12.DATASETS), len(f12_data["sizes"]), len(f12.METHODS),
             f12_data["trials"])
    for key in ("trace_error", "factor_trace_error", "time_to_k", "evaluations_to_k"):
        assert f12_data[key].shape == (*shape, rank)
    assert f12_data["best"].shape == (len(f12.DATASETS), len(f12_data["sizes"]), rank)
    greedy = f12.METHODS.index("greedy")
    ran = np.isfinite(f12_data["time"])
    assert np.all(ran[:, :, greedy, 0]) and not np.any(ran[:, :, greedy, 1:])
    for method in ("random", "random_simple", "uniform"):
        assert np.all(ran[:, :, f12.METHODS.index(method)])


def test_f12_rpcholesky_error_decreases_and_beats_uniform_on_the_smile(f12_data):
    smile, spiral = f12.DATASETS.index("smile"), f12.DATASETS.index("spiral")
    for method in ("random", "random_simple"):
        m = f12.METHODS.index(method)
        errors = f12_data["trace_error"][:, :, m]
        assert np.all(np.diff(errors, axis=-1) <= 1e-12)
        median = np.median(errors, axis=-2)
        uniform = np.median(f12_data["trace_error"][:, :, f12.METHODS.index("uniform")],
                            axis=-2)
        assert np.all(median[smile, :, -1] < 0.5 * uniform[smile, :, -1])
        # greedy fails on the spiral: it takes the isolated outer points one by one
        greedy = f12_data["trace_error"][spiral, :, f12.METHODS.index("greedy"), 0]
        assert np.all(greedy[:, 9] > 0.5) and np.all(median[spiral, :, 9] < 0.3)


def test_f12_nothing_beats_the_best_rank_k(f12_data):
    best = f12_data["best"]
    assert np.all(np.isfinite(best)) and np.all(np.diff(best, axis=-1) <= 1e-12)
    errors = f12_data["trace_error"]
    ran = np.isfinite(errors)
    assert np.all(errors[ran] >= np.broadcast_to(best[:, :, None, None, :], errors.shape)[ran]
                  - 1e-12)


def test_f12_factor_matches_the_stable_recomputation_for_random_and_greedy(f12_data):
    for method in ("random", "random_simple", "greedy"):
        m = f12.METHODS.index(method)
        stable, factor = f12_data["trace_error"][:, :, m], f12_data["factor_trace_error"][
            :, :, m]
        ran = np.isfinite(stable)
        np.testing.assert_allclose(factor[ran], stable[ran], rtol=0, atol=1e-10)


def test_f12_counts_entries_and_times(f12_data):
    n, rank = f12_data["sizes"][0], int(f12_data["ranks"][-1])
    for method in ("random_simple", "greedy"):
        m = f12.METHODS.index(method)
        reached = f12_data["rank_reached"][:, 0, m]
        ran = np.isfinite(reached)
        np.testing.assert_array_equal(f12_data["n_evaluations"][:, 0, m][ran],
                                      (reached[ran] + 1) * n)
        np.testing.assert_array_equal(f12_data["evaluations_to_k"][:, 0, m, 0, :],
                                      np.broadcast_to(n * (1 + np.minimum(
                                          f12_data["ranks"], reached[:, :1])), (2, rank)))
    ran = np.isfinite(f12_data["time"])
    assert np.all(f12_data["time"][ran] > 0)
    assert np.all(np.diff(f12_data["time_to_k"], axis=-1)[np.isfinite(
        np.diff(f12_data["time_to_k"], axis=-1))] >= 0)


def test_f12_nystrom_trace_error_matches_a_dense_computation():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 2))
    kernel = f12.gaussian_kernel(X, 1.5)
    A = kernel(np.arange(60), np.arange(60))
    pivots = rng.choice(60, size=8, replace=False)
    errors = f12.nystrom_trace_error(kernel, pivots, 60, float(np.trace(A)))
    for k in (1, 4, 8):
        S = pivots[:k]
        approx = A[:, S] @ np.linalg.solve(A[np.ix_(S, S)], A[S, :])
        assert errors[k - 1] == pytest.approx(np.trace(A - approx) / np.trace(A), abs=1e-10)


def test_f12_point_sets():
    X = f12.smile_points(500, rng=0)
    assert X.shape == (500, 2)
    np.testing.assert_array_equal(X, f12.points("smile", 500, rng=0))
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.sum(np.isclose(radius, 10.0)) >= 500 - 2 * 23 - 50
    S = f12.spiral_points(300)
    r = np.hypot(S[:, 0], S[:, 1])
    assert np.all(np.diff(r) <= 0) and r[-1] == 1.0 and r[0] == pytest.approx(np.exp(12.8))
    with pytest.raises(ValueError, match="dataset"):
        f12.points("moon", 10)
    with pytest.raises(ValueError, match="outline"):
        f12.smile_points(5)


def test_f12_to_rows(f12_data):
    rows = f12.to_rows(f12_data)
    methods = {row["method"] for row in rows}
    assert methods == {*f12.METHODS, "best"}
    rank = f12_data["ranks"].size
    assert len(rows) == len(f12.DATASETS) * len(f12_data["sizes"]) * (len(f12.METHODS) + 1) * rank
    assert all(row["trace_error_q10"] <= row["trace_error_median"] <= row["trace_error_q90"]
               for row in rows if row["method"] != "best")
