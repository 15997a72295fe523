"""Tests of the reproduced figures F1-F5 and the ``lowrank figures`` command line.

Everything runs at the private ``"tiny"`` scale (seconds).  The statistical checks use
the fixed seed 0; they are invariants of the data the figures are meant to show (dense
sketches improve with m, CountSketch fails on the adversarial instance), with margins
far from the observed values.  F4 and F5 record wall-clock times, which differ from run
to run; determinism is checked on everything else (``TIMING_COLUMNS`` of their CSVs).
"""

import subprocess
import sys

import numpy as np
import pytest

from lowrank.exceptions import LowrankWarning
from lowrank.experiments import FIGURES, _common, _linf_trials
from lowrank.experiments import completion_recovery as f5
from lowrank.experiments import completion_sweep_time as f4
from lowrank.experiments import linf_error_vs_dimension as f2
from lowrank.experiments import linf_error_vs_sketch_size as f1
from lowrank.experiments import lp_embedding_distortion as f3
from lowrank.experiments.__main__ import main


@pytest.fixture(scope="module")
def f1_data():
    return f1.run("tiny", rng=0)


@pytest.fixture(scope="module")
def f2_data():
    return f2.run("tiny", rng=0)


@pytest.fixture(scope="module")
def f3_data():
    return f3.run("tiny", rng=0)


@pytest.fixture(scope="module")
def f4_data():
    return f4.run("tiny", rng=0)


@pytest.fixture(scope="module")
def f5_data():
    return f5.run("tiny", rng=0)


@pytest.fixture(scope="module")
def seed1_run():
    """``seed1_run(module) -> (data, counts)``: the figure's tiny run at rng=1 with the
    progress counts it reported, made once for all the tests that need it."""
    cache = {}

    def run(module):
        if module not in cache:
            counts = []
            cache[module] = (module.run("tiny", rng=1, progress=counts.append), counts)
        return cache[module]

    return run


def _index(data, key, family):
    return data["panels"].index(key), data["families"].index(family)


def test_registry_maps_ids_to_figure_modules():
    # F6-F9 (the tensor figures) are checked in test_tensor_figures.py, F10-F12 (the
    # factorization figures) in test_factorization_figures.py, F13-F16 (the robust
    # figures) in test_robust_figures.py
    assert list(FIGURES) == [f"F{i}" for i in range(1, 17)]
    assert {k: FIGURES[k] for k in ("F1", "F2", "F3", "F4", "F5")} == {
        "F1": f1, "F2": f2, "F3": f3, "F4": f4, "F5": f5}
    for module in FIGURES.values():
        for name in ("run", "plot", "to_rows", "n_steps"):
            assert callable(getattr(module, name))


def test_import_does_not_load_matplotlib():
    code = ("import sys, lowrank.experiments; "
            "sys.exit(int('matplotlib' in sys.modules or 'tqdm' in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("module", [f1, f2, f3, f4, f5])
def test_unknown_scale_is_rejected(module):
    with pytest.raises(ValueError, match="`scale` must be one of"):
        module.run("huge")


def test_f1_shapes_and_keys(f1_data):
    n_ratios = len(f1_data["ratios"])
    assert f1_data["figure"] == "F1"
    assert f1_data["panels"] == ["generic", "block_spike"]
    assert len(f1_data["families"]) == len(f1_data["labels"]) == 7
    shape = (2, 7, n_ratios, f1_data["n_trials"])
    assert f1_data["r_inf"].shape == f1_data["r_2"].shape == shape
    np.testing.assert_array_equal(f1_data["sketch_sizes"], f1_data["ratios"] * f1_data["d"])
    assert np.all(np.isfinite(f1_data["r_inf"])) and np.all(f1_data["r_inf"] >= 0)
    # ||e||_2 <= sqrt(d) ||e||_inf <= sqrt(d) ||e||_2
    d = f1_data["d"]
    assert np.all(f1_data["r_2"] <= f1_data["r_inf"] * (1 + 1e-12))
    assert np.all(f1_data["r_inf"] <= np.sqrt(d) * f1_data["r_2"] * (1 + 1e-12))
    real = f1_data["real"]
    assert real["available"] and real["message"] == ""
    assert (real["panel"], real["matrix"], real["n"], real["d"]) == (
        "illc1850", "illc1850", 1850, 712)
    assert real["r_inf"].shape == real["r_2"].shape == (7, real["ratios"].size,
                                                        real["n_trials"])
    np.testing.assert_array_equal(real["sketch_sizes"], np.rint(real["ratios"] * 712))
    assert np.all((real["sketch_sizes"] > 712) & (real["sketch_sizes"] <= 1850))
    assert np.all(np.isfinite(real["r_inf"])) and np.all(real["r_inf"] >= 0)
    assert np.all(real["r_2"] <= real["r_inf"] * (1 + 1e-12))


def test_f1_real_panel_dense_sketches_beat_the_trivial_error(f1_data):
    # The dense and OSNAP sketches stay within a few times the Gaussian rate on
    # illc1850 (about 4 at m = 1.25 d), far below the errors of singular row samples.
    real = f1_data["real"]
    for family in ("gaussian", "srht", "sparse_sign_k8"):
        f = f1_data["families"].index(family)
        assert np.all(real["r_inf"][f] < 10)
        assert np.median(real["r_inf"][f, -1]) < np.median(real["r_inf"][f, 0])


def test_illc1850_loads_from_scipy():
    A, pinv_norm, leverage = _linf_trials.load_illc1850()
    assert A.shape == (1850, 712) and np.count_nonzero(A) == 8636
    assert not A.flags.writeable and not leverage.flags.writeable
    np.testing.assert_allclose(pinv_norm, 1 / np.linalg.svd(A, compute_uv=False)[-1])
    np.testing.assert_allclose(leverage.sum(), 1.0)
    instance = _linf_trials.illc1850_instance(np.random.default_rng(0))
    Ab = instance.Ab
    residual = Ab[:, 712] - Ab[:, :712] @ instance.x
    # x* is the least-squares solution: A^T r = 0 (relative to ||A|| ||r||)
    assert np.linalg.norm(Ab[:, :712].T @ residual) < 1e-10 * np.linalg.norm(residual)
    np.testing.assert_allclose(instance.scale, np.linalg.norm(residual) * pinv_norm)
    # the planted noise is about 10 % of ||A x0||: ||r|| is of that order
    ratio = np.linalg.norm(residual) / np.linalg.norm(Ab[:, 712])
    assert 0.03 < ratio < 0.2


def test_sketched_solution_above_half_n_is_the_sketch_of_linf_lstsq():
    # Above n / 2 rows linf_lstsq solves exactly; the trials then call lstsq's
    # sketch-and-solve, which below n / 2 gives linf_lstsq's answer bit for bit.
    from lowrank.regression import linf_lstsq

    instance = _linf_trials.generic_instance(300, 8, np.random.default_rng(0))
    A, b = instance.Ab[:, :8], instance.Ab[:, 8]
    for family in _linf_trials.FAMILIES[:4]:
        kind = _linf_trials._LINF_LSTSQ[family.key]
        below = _linf_trials.sketched_solution(instance, family, 150, np.random.default_rng(1))
        np.testing.assert_array_equal(
            below, linf_lstsq(A, b, sketch=kind, sketch_size=150, rng=1).x)
        above = _linf_trials.sketched_solution(instance, family, 256, np.random.default_rng(1))
        assert np.max(np.abs(above - instance.x)) > 1e-12  # a sketch, not the exact solve


def _without_illc1850(monkeypatch, tmp_path, contents=None):
    path = tmp_path / "propack_test_data.npz"
    if contents is not None:
        np.savez(path, **contents)
    monkeypatch.setattr(_linf_trials, "illc1850_path", lambda: str(path))


@pytest.mark.parametrize(("contents", "match"), [
    (None, "without its tests"), ({"A_complex": np.zeros(3)}, "A_real"),
    ({"A_real": np.eye(3)}, "is not illc1850")], ids=["missing", "no-key", "wrong-matrix"])
def test_illc1850_loader_refuses_a_missing_or_wrong_file(monkeypatch, tmp_path, contents,
                                                         match):
    _without_illc1850(monkeypatch, tmp_path, contents)
    with pytest.raises((OSError, KeyError, ValueError), match=match):
        _linf_trials.load_illc1850()


def test_f1_skips_the_real_panel_without_the_matrix(monkeypatch, tmp_path, f1_data):
    figure = pytest.importorskip("matplotlib.figure")
    _without_illc1850(monkeypatch, tmp_path)
    counts = []
    with pytest.warns(LowrankWarning, match=r"panel \(c\) skipped"):
        data = f1.run("tiny", rng=0, progress=counts.append)
    assert sum(counts) == f1.n_steps("tiny")
    real = data["real"]
    assert not real["available"] and real["r_inf"] is None
    assert "skipped" in real["message"] and "without its tests" in real["message"]
    # (a) and (b) still run, with the same data as when the matrix is there
    assert data["r_inf"].shape == (2, 7, 3, 20)
    np.testing.assert_array_equal(data["r_inf"], f1_data["r_inf"])
    rows = f1.to_rows(data)
    assert len(rows) == 2 * 7 * 3 and {row["matrix"] for row in rows} == {
        "synthetic_haar", "synthetic_block_spike"}
    fig = f1.plot(data)
    assert isinstance(fig, figure.Figure) and len(fig.axes) == 6
    note = " ".join(t.get_text() for t in fig.axes[2].texts)
    assert "Panel (c) skipped" in note and "illc1850" in fig.axes[2].get_title()
    assert "(c) skipped" in fig._suptitle.get_text()


def test_f2_shapes_and_keys(f2_data):
    assert f2_data["figure"] == "F2"
    assert f2_data["r_inf"].shape == (2, 7, len(f2_data["dims"]), f2_data["n_trials"])
    np.testing.assert_array_equal(f2_data["sketch_sizes"], 16 * f2_data["dims"])
    assert np.all(np.isfinite(f2_data["r_inf"]))


def test_f3_shapes_and_keys(f3_data):
    assert f3_data["figure"] == "F3"
    assert f3_data["methods"] == list(f3.METHODS)
    shape = (len(f3.P_VALUES), 2, len(f3.METHODS), len(f3_data["ratios"]),
             f3_data["n_trials"])
    for key in ("distortion", "excess", "realised_size"):
        assert f3_data[key].shape == shape
    np.testing.assert_array_equal(f3_data["sample_sizes"], f3_data["ratios"] * f3_data["d"])
    assert f3_data["matrices"] == [[f3.matrix_kind(p, role) for role in ("small", "large")]
                                   for p in f3.P_VALUES]
    root = f3.METHODS.index("root_leverage")
    for a, p in enumerate(f3_data["p_values"]):
        drawn = [k for k, m in enumerate(f3.METHODS) if m in f3.methods_for(p)]
        assert np.all(np.isfinite(f3_data["distortion"][a][:, drawn]))
        assert np.all(f3_data["distortion"][a][:, drawn] >= 0)
        assert np.all(np.isnan(f3_data["distortion"][a, :, root])) == (p > 2)
    excess = f3_data["excess"][np.isfinite(f3_data["excess"])]
    assert excess.size > 0.9 * np.isfinite(f3_data["distortion"]).sum()
    assert np.all(excess >= -1e-8)  # x* is the exact optimum


def test_f3_sample_sizes_match_the_expected_count(f3_data):
    ratio = f3_data["realised_size"] / f3_data["sample_sizes"][:, None]
    assert 0.8 < np.nanmean(ratio) < 1.2


def test_f3_total_sensitivities_lie_in_their_ranges(f3_data):
    # d^(p/2) <= S <= d for p <= 2 and d <= S <= d^(p/2) for p >= 2 (sketched values
    # are estimates: a margin).
    d = f3_data["d"]
    for a, p in enumerate(f3_data["p_values"]):
        low, high = sorted((d, d ** (p / 2)))
        assert np.all(f3_data["total_sensitivity"][a] >= 0.8 * low)
        assert np.all(f3_data["total_sensitivity"][a] <= 1.2 * high)
    assert f3_data["sensitivity_method"] == "upper_bound"  # "tiny" uses the bounds


def test_f3_distortion_and_excess_shrink_with_the_sample(f3_data):
    for a in range(len(f3.P_VALUES)):
        for r in range(2):
            distortion = np.nanmedian(f3_data["distortion"][a, r], axis=(0, 2))
            assert distortion[-1] < distortion[0]
            lewis = f3_data["excess"][a, r, f3.METHODS.index("lewis"), -1]
            assert np.nanmedian(lewis) < 0.1


def test_f3_uniform_sampling_fails_on_heavy_tailed_rows(f3_data):
    a, r = f3.P_VALUES.index(1.0), 1  # p = 1, Student-t(1.5) rows
    assert f3_data["matrices"][a][r] == "student_t"
    median = np.median(f3_data["distortion"][a, r, :, -1], axis=-1)
    assert median[f3.METHODS.index("uniform")] > 2 * median[f3.METHODS.index("lewis")]


def test_f3_matrices():
    rng = np.random.default_rng(0)
    B = f3.make_matrix("block_gaussian", 10, 4, rng)
    assert np.all(B[:5, 2:] == 0) and np.all(B[5:, :2] == 0) and np.all(B[:5, :2] != 0)
    assert f3.make_matrix("student_t", 7, 3, rng).shape == (7, 3)
    with pytest.raises(ValueError, match="even d"):
        f3.make_matrix("block_gaussian", 10, 3, rng)
    with pytest.raises(ValueError, match="`kind` must be one of"):
        f3.make_matrix("cauchy", 10, 3, rng)
    assert [f3.matrix_kind(p, "small") for p in f3.P_VALUES] == [
        "gaussian", "gaussian", "block_gaussian", "block_gaussian"]
    assert [f3.matrix_kind(p, "large") for p in f3.P_VALUES] == [
        "student_t", "student_t", "gaussian", "gaussian"]


def test_f3_sensitivities_call_site():
    A = f3.make_matrix("gaussian", 200, 3, np.random.default_rng(1))
    values, method = f3.sensitivities(A, 1.0, np.random.default_rng(2))
    assert method == f3.SENSITIVITY_METHOD
    assert values.shape == (200,) and np.all((values >= 0) & (values <= 1 + 1e-12))
    assert 3 ** 0.5 * 0.8 <= values.sum() <= 3 * 1.2
    bounds, how = f3.sensitivities(A, 1.0, np.random.default_rng(2), method="upper_bound")
    assert how == "upper_bound"
    assert np.all(bounds >= values * 0.8)


@pytest.mark.parametrize("family", ["gaussian", "srht", "sparse_sign_k8"])
@pytest.mark.parametrize("panel", ["generic", "block_spike"])
def test_dense_and_osnap_error_decreases_with_sketch_size(f1_data, panel, family):
    p, f = _index(f1_data, panel, family)
    median = np.median(f1_data["r_inf"][p, f], axis=-1)
    assert median[-1] < 0.6 * median[0]


def test_gaussian_error_respects_its_proven_bound(f1_data):
    # The bound holds with probability 1 - delta where its denominator is positive.
    d, m, delta = f1_data["d"], f1_data["sketch_sizes"], f1_data["delta"]
    denominator = 1 - np.sqrt(d / m) - np.sqrt(2 * np.log(2 / delta) / m)
    bound = np.where(denominator > 0, f1.gaussian_rate(d, m, delta) / denominator, np.inf)
    assert np.isfinite(bound[-1])
    for panel in f1_data["panels"]:
        p, f = _index(f1_data, panel, "gaussian")
        assert np.all(np.percentile(f1_data["r_inf"][p, f], 95, axis=-1) <= bound)


def test_countsketch_fails_on_the_adversarial_instance(f1_data):
    # At m = 16 d the spike collides with the support with probability ~ 1 - e^(-1/2):
    # then R_inf ~ sqrt(d / k) = sqrt(2) whatever m is; otherwise the solve is exact.
    p, f = _index(f1_data, "block_spike", "countsketch")
    at_16d = f1_data["r_inf"][p, f, list(f1_data["ratios"]).index(16)]
    assert np.any(at_16d > 1.0)
    assert np.any(at_16d < 1e-8)
    g = f1_data["families"].index("gaussian")
    assert np.all(f1_data["r_inf"][p, g, list(f1_data["ratios"]).index(16)] < 1.0)


def test_countsketch_failure_grows_with_d(f2_data):
    p, f = _index(f2_data, "block_spike", "countsketch")
    worst = f2_data["r_inf"][p, f].max(axis=-1)
    np.testing.assert_allclose(worst, np.sqrt(f2_data["dims"] / f2_data["block_size"]),
                               rtol=0.35)


@pytest.mark.parametrize("module", [f1, f2])
def test_same_seed_gives_identical_data(module, f1_data, f2_data, seed1_run):
    data = f1_data if module is f1 else f2_data
    again = module.run("tiny", rng=0)
    np.testing.assert_array_equal(again["r_inf"], data["r_inf"])
    np.testing.assert_array_equal(again["r_2"], data["r_2"])
    if module is f1:
        np.testing.assert_array_equal(again["real"]["r_inf"], data["real"]["r_inf"])
    other = seed1_run(module)[0]
    assert not np.array_equal(other["r_inf"], data["r_inf"])


def test_f3_same_seed_gives_identical_data(f3_data, seed1_run):
    again = f3.run("tiny", rng=0)
    for key in ("distortion", "excess", "realised_size", "total_sensitivity"):
        np.testing.assert_array_equal(again[key], f3_data[key])
    other = seed1_run(f3)[0]
    assert not np.array_equal(other["distortion"], f3_data["distortion"], equal_nan=True)


@pytest.mark.parametrize("module", [f1, f2, f3, f4, f5])
def test_progress_reports_every_trial(module, seed1_run):
    assert sum(seed1_run(module)[1]) == module.n_steps("tiny")


def test_to_rows(f1_data, f2_data):
    rows = f1.to_rows(f1_data)
    real = f1_data["real"]
    assert len(rows) == 7 * (2 * len(f1_data["ratios"]) + real["ratios"].size)
    assert len({tuple(row) for row in rows}) == 1  # one set of columns for the CSV
    for row in rows:
        assert {"panel", "matrix", "family", "n", "d", "m", "m_over_d", "n_trials",
                "r_inf_median", "r_inf_q05", "r_inf_q95", "r_inf_frac_above_1",
                "r_2_median"} <= set(row)
        assert row["r_inf_q05"] <= row["r_inf_median"] <= row["r_inf_q95"]
    assert {row["matrix"] for row in rows} == {"synthetic_haar", "synthetic_block_spike",
                                               "illc1850"}
    real_rows = [row for row in rows if row["matrix"] == "illc1850"]
    assert len(real_rows) == 7 * real["ratios"].size
    assert all((row["panel"], row["n"], row["d"], row["n_trials"]) == (
        "illc1850", 1850, 712, real["n_trials"]) for row in real_rows)
    assert {row["m_over_d"] for row in real_rows} == set(real["ratios"].tolist())
    assert all(row["m"] == round(row["m_over_d"] * 712) for row in real_rows)
    assert len(f2.to_rows(f2_data)) == 2 * 7 * len(f2_data["dims"])


def test_f3_to_rows(f3_data):
    rows = f3.to_rows(f3_data)
    n_lines = 2 * sum(len(f3.methods_for(p)) for p in f3.P_VALUES)
    assert len(rows) == n_lines * len(f3_data["ratios"])
    assert {row["method"] for row in rows if row["p"] > 2} == set(f3.METHODS) - {
        "root_leverage"}
    for row in rows:
        assert {"p", "role", "matrix", "total_sensitivity", "sensitivity_method", "method",
                "m", "m_over_d", "distortion_median", "distortion_min", "distortion_max",
                "excess_median", "excess_n_measured", "realised_size_median"} <= set(row)
        assert row["distortion_min"] <= row["distortion_median"] <= row["distortion_max"]
        assert row["m"] == row["m_over_d"] * f3_data["d"]


def test_row_samplers_are_unbiased():
    # E[(S A)^T (S A)] = A^T A for sampling with replacement and 1/sqrt(m p_i) rescaling.
    rng = np.random.default_rng(0)
    instance = _linf_trials.generic_instance(200, 4, rng)
    A = instance.Ab[:, :4]
    for p in (instance.leverage, np.full(200, 1 / 200)):
        draws = (_linf_trials.sample_with_replacement(A, p, 40, g) for g in rng.spawn(2000))
        gram = np.mean([SA.T @ SA for SA in draws], axis=0)
        np.testing.assert_allclose(gram, A.T @ A, atol=0.1 * np.linalg.norm(A.T @ A))


def test_block_spike_instance():
    instance = _linf_trials.block_spike_instance(64, 4, block=8)
    A, b = instance.Ab[:, :4], instance.Ab[:, 4]
    np.testing.assert_allclose(A.T @ A, np.eye(4))
    residual = b - A @ instance.x
    np.testing.assert_array_equal(residual, np.eye(64)[63])
    np.testing.assert_allclose(instance.leverage[:32], 1 / 32)
    np.testing.assert_allclose(instance.leverage[32:], 0, atol=1e-15)
    with pytest.raises(ValueError, match="n > d"):
        _linf_trials.block_spike_instance(32, 4, block=8)


def test_f3_plot_returns_a_figure(f3_data):
    figure = pytest.importorskip("matplotlib.figure")
    fig = f3.plot(f3_data)
    assert isinstance(fig, figure.Figure)
    assert len(fig.axes) == 4 * len(f3_data["p_values"])
    assert all(ax.get_yscale() == "log" and ax.get_xscale() == "log" for ax in fig.axes)
    # one line per scheme drawn at that p, and the total sensitivity in every title
    for ax in fig.axes:
        assert "p = " in ax.get_title() and "mathfrak{S}" in ax.get_title()
    assert len(fig.axes[0].get_lines()) == len(f3.methods_for(1)) + 1  # + the y = 1 line


def _f3_axis(fig, what, p, role):
    (ax,) = [ax for ax in fig.axes if ax.get_title().startswith(f"{what}: p = {p:g}, {role}")]
    return ax


def test_f3_marks_excess_values_above_the_axis(f3_data):
    pytest.importorskip("matplotlib.figure")
    excess = np.minimum(f3_data["excess"], 1.0)  # nothing above the axis ...
    a, k = f3.P_VALUES.index(3.0), f3.METHODS.index("lewis")
    excess[a, 0, k, 1, :] = 1e4  # ... but the median at p = 3, small S, m = ratios[1]
    excess[a, 1, k, 0, :] = 0.5  # and one trial (the band's maximum, not the median)
    excess[a, 1, k, 0, 0] = 150.0  # at p = 3, large S, m = ratios[0]
    data = {**f3_data, "excess": excess}
    fig = f3.plot(data)
    ratios = np.asarray(data["ratios"], dtype=float)
    marked = [ax for ax in fig.axes if _clipped_marks(ax)]
    small, large = (_f3_axis(fig, "relative excess cost", 3, role) for role in ("small",
                                                                                "large"))
    assert marked == [small, large]
    for ax, i, filled in ((small, 1, True), (large, 0, False)):
        (mark,) = _clipped_marks(ax)
        top = ax.get_ylim()[1]
        assert top <= 1e2 + 1e-9  # the excess axes stop at 1e2: the value lies above
        assert mark.get_marker() == "^" and not mark.get_clip_on()
        np.testing.assert_array_equal(mark.get_xdata(), [ratios[i]])
        np.testing.assert_array_equal(mark.get_ydata(), [top])
        assert (mark.get_markerfacecolor() != "none") == filled
        assert mark.get_color() == f3.COLORS["lewis"]
    assert any(_common.CLIPPED_LABEL in text for text in _legend_texts(fig))
    # without values above the axes: no marks and no legend entry
    fig = f3.plot({**f3_data, "excess": np.minimum(f3_data["excess"], 1.0)})
    assert not any(_clipped_marks(ax) for ax in fig.axes)
    assert not any(_common.CLIPPED_LABEL in text for text in _legend_texts(fig))


@pytest.mark.parametrize("module", [f1, f2])
def test_plot_returns_a_figure(module, f1_data, f2_data):
    figure = pytest.importorskip("matplotlib.figure")
    fig = module.plot(f1_data if module is f1 else f2_data)
    assert isinstance(fig, figure.Figure)
    assert len(fig.axes) == (6 if module is f1 else 4)  # F1: panels (a), (b), (c)
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    if module is f1:
        assert fig.axes[2].get_title().startswith("(c) real: illc1850")
        ticks = [t.get_text() for t in fig.axes[5].get_xticklabels()]
        assert ticks == [f"{r:g}" for r in f1_data["real"]["ratios"]]


def _clipped_marks(ax):
    return [line for line in ax.get_lines() if line.get_gid() == "clipped"]


def _legend_texts(fig):
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_f1_marks_values_above_the_axis(f1_data):
    pytest.importorskip("matplotlib.figure")
    data = {**f1_data, "r_inf": f1_data["r_inf"].copy()}
    p, f = _index(data, "generic", "srht")
    data["r_inf"][p, f, 1] = 1e6  # the whole column of trials: the median
    fig = f1.plot(data)
    top = fig.axes[p]
    marks = _clipped_marks(top)
    assert len(marks) == 1 and marks[0].get_marker() == "^"
    np.testing.assert_array_equal(marks[0].get_xdata(), [data["ratios"][1]])
    np.testing.assert_array_equal(marks[0].get_ydata(), [top.get_ylim()[1]])
    assert any(_common.CLIPPED_LABEL in text for text in _legend_texts(fig))


def test_cli_writes_png_and_csv(cli_matches_fixtures):
    # the CSV of every figure is its to_rows of the same seed's run (the module fixtures:
    # the in-process runs at rng=0, made once for all the tests of this file); F6-F12 are
    # checked in their own files, where their fixtures live
    cli_matches_fixtures(("F1", "F2", "F3", "F4", "F5"))


def test_cli_only_selects_figures(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    assert main(["figures", "--scale", "tiny", "--only", "f2", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "F2_linf_error_vs_dimension.csv", "F2_linf_error_vs_dimension.png"]


@pytest.mark.parametrize("argv", [["figures", "--only", "F99"], ["figures", "--scale", "huge"],
                                  ["nonsense"]])
def test_cli_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: lowrank" in capsys.readouterr().err


def test_cli_help(capsys):
    # A bare ``lowrank`` prints its help and succeeds (was exit 2: a usage error).
    assert main([]) == 0
    assert "figures" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["figures", "--help"])
    assert exc.value.code == 0
    help_text = capsys.readouterr().out
    assert "--scale {small,paper}" in help_text and "--only" in help_text
    assert "hours per figure" in " ".join(help_text.split())


def test_cli_version(capsys):
    import lowrank

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"lowrank {lowrank.__version__}"


# ------------------------------------------------------------------ F4: sweep time vs k


def test_f4_shapes_and_keys(f4_data):
    ranks, sweeps = f4_data["ranks"], f4_data["timed_sweeps"]
    assert f4_data["figure"] == "F4"
    assert f4_data["regimes"] == ["analysis", "sparse"]
    assert f4_data["methods"] == ["exact", "robust", "robust_cg"]
    assert f4_data["sweep_time"].shape == (2, ranks.size, 3, sweeps)
    assert np.all(f4_data["sweep_time"] > 0)
    for key in ("median_time", "mean_steps", "exact_fraction", "residual"):
        assert f4_data[key].shape == (2, ranks.size, 3)
    n, k_max = f4_data["n"], int(ranks.max())
    assert f4_data["per_row"].tolist() == [np.ceil(4 * k_max * np.log(n)), 4 * k_max]
    np.testing.assert_array_equal(f4_data["n_observed"], f4_data["per_row"] * n)
    exact = f4_data["methods"].index("exact")
    assert np.all(f4_data["mean_steps"][:, :, exact] == 0)
    assert np.all(f4_data["exact_fraction"][:, :, exact] == 1)
    assert np.all((f4_data["exact_fraction"] >= 0) & (f4_data["exact_fraction"] <= 1))
    assert np.all(np.isfinite(f4_data["slope"]))


def test_f4_methods_reach_the_same_iterates(f4_data):
    # exact and robust follow the same iterates: the residuals after the timed sweeps agree
    for j in (1, 2):
        np.testing.assert_allclose(f4_data["residual"][..., 0], f4_data["residual"][..., j],
                                   rtol=1e-3)


def test_f4_forced_cg_runs_cg(f4_data):
    # the forced variant solves rows by CG at every rank (the hybrid may not at small k)
    forced = f4_data["methods"].index("robust_cg")
    assert np.all(f4_data["mean_steps"][:, :, forced] > 0)
    analysis = f4_data["regimes"].index("analysis")
    # (in the sparser regime rows may reach the CG step cap and finish by Cholesky)
    assert np.all(f4_data["exact_fraction"][analysis, :, forced] < 0.6)
    rows = [r for r in f4.to_rows(f4_data) if r["method"] == "robust_cg"]
    assert all(np.isfinite(r["mean_cg_steps"]) and r["mean_cg_steps"] > 0 for r in rows)
    analysis = f4_data["regimes"].index("analysis")
    assert np.all(f4_data["residual"][analysis] < 1e-2)


def test_f4_same_seed_gives_identical_data(f4_data, seed1_run):
    again = f4.run("tiny", rng=0)
    for key in ("residual", "mean_steps", "exact_fraction", "per_row"):
        np.testing.assert_array_equal(again[key], f4_data[key])
    other = seed1_run(f4)[0]
    assert not np.array_equal(other["residual"], f4_data["residual"])


def test_f4_to_rows(f4_data):
    rows = f4.to_rows(f4_data)
    assert len(rows) == 2 * f4_data["ranks"].size * 3
    for row in rows:
        assert set(f4.TIMING_COLUMNS) <= set(row)
        assert {"regime", "method", "rank", "per_row", "n_observed", "mean_cg_steps",
                "exact_fraction", "residual", "fitted_slope"} <= set(row)
        assert row["sweep_time_min"] <= row["sweep_time_median"] <= row["sweep_time_max"]


def test_f4_plot_returns_a_figure(f4_data):
    figure = pytest.importorskip("matplotlib.figure")
    fig = f4.plot(f4_data)
    assert isinstance(fig, figure.Figure)
    assert len(fig.axes) == 2
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in fig.axes)
    assert "slope" in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_f4_sample_entries_are_distinct_and_uniform():
    rng = np.random.default_rng(0)
    for shape, count in (((300, 200), 6000), ((40, 30), 1000)):  # sparse and dense paths
        rows, cols = f4.sample_entries(shape, count, rng)
        assert rows.dtype == cols.dtype == np.int64 and rows.size == count
        assert np.unique(rows * shape[1] + cols).size == count
        assert rows.min() >= 0 and rows.max() < shape[0] and cols.max() < shape[1]
    # row counts of a uniform sample: Binomial(count, 1/m) spread, no structure
    rows, cols = f4.sample_entries((200, 1000), 100_000, rng)
    counts = np.bincount(rows, minlength=200)
    assert abs(counts.mean() - 500) < 1e-9 and 0.5 < counts.std() / np.sqrt(500) < 1.5
    first = np.bincount(rows[:50_000], minlength=200)  # a prefix is uniform too
    assert 0.5 < first.std() / np.sqrt(250) < 1.5
    assert f4.sample_entries((3, 3), 9, rng)[0].size == 9
    with pytest.raises(ValueError, match="count"):
        f4.sample_entries((3, 3), 10, rng)


def test_f4_factors_and_entries():
    L, R = f4.incoherent_factors((60, 50), 4, 100.0, np.random.default_rng(1))
    np.testing.assert_allclose(np.linalg.svd(L @ R.T, compute_uv=False)[:4],
                               np.geomspace(1, 0.01, 4))
    rows, cols = f4.sample_entries((60, 50), 500, np.random.default_rng(2))
    np.testing.assert_allclose(f4.factor_entries(L, R, rows, cols, chunk=7),
                               (L @ R.T)[rows, cols])
    assert f4.fit_slope([2, 4, 8], [3.0, 6.0, 12.0]) == pytest.approx(1.0)
    assert np.isnan(f4.fit_slope([2, 4], [1.0, np.nan]))


# ----------------------------------------------------------------- F5: recovery


def test_f5_shapes_and_keys(f5_data):
    assert f5_data["figure"] == "F5"
    maxiter = f5_data["conv_error"].shape[-1]
    assert f5_data["conv_error"].shape == (len(f5.CONDS), len(f5.METHODS), maxiter)
    assert f5_data["conv_singular_values"].shape == (len(f5.CONDS), f5_data["conv_rank"])
    np.testing.assert_allclose(f5_data["conv_singular_values"][:, -1],
                               1 / np.asarray(f5.CONDS))
    shape = (len(f5_data["phase_methods"]), f5_data["phase_ranks"].size,
             f5_data["phase_ratios"].size)
    assert f5_data["phase_success"].shape == shape
    assert f5_data["phase_error"].shape == (*shape, f5_data["phase_trials"])
    undetermined = f5_data["phase_undetermined"]
    assert np.all(np.isinf(f5_data["phase_error"][undetermined]))
    assert np.all(np.isfinite(f5_data["phase_error"][~undetermined]))


def test_f5_robust_reaches_the_accuracy_of_exact(f5_data):
    methods = list(f5.METHODS)
    for c in range(len(f5.CONDS)):
        finals = [f5_data["conv_error"][c, j, f5_data["conv_n_iter"][c, j] - 1]
                  for j in range(len(methods))]
        assert max(finals) < 1e-10
        assert max(finals) < 10 * min(finals)
        exact = f5_data["conv_error"][c, methods.index("exact")]
        k = min(f5_data["conv_n_iter"][c])
        for method in ("robust", "robust_cg"):
            robust = f5_data["conv_error"][c, methods.index(method)]
            np.testing.assert_allclose(robust[:k], exact[:k], rtol=0.5)


def test_f5_forced_cg_runs_cg(f5_data):
    # at the tiny scale's k = 4 the default hybrid is the exact method; the forced
    # variant runs CG in both panels
    forced = list(f5.METHODS).index("robust_cg")
    for c in range(len(f5.CONDS)):
        k = f5_data["conv_n_iter"][c, forced]
        assert np.max(f5_data["conv_steps"][c, forced, 1:k]) > 0
        assert np.mean(f5_data["conv_cholesky"][c, forced, 1:k]) < 0.5
    phase = f5_data["phase_methods"].index("robust_cg")
    assert np.nanmean(f5_data["phase_cholesky"][phase]) < 0.9


def test_f5_recovery_needs_enough_samples(f5_data):
    success = f5_data["phase_success"]
    assert np.all(success[..., 0] == 0) and np.all(success[..., -1] >= 0.5)


def test_f5_same_seed_gives_identical_data(f5_data, seed1_run):
    again = f5.run("tiny", rng=0)
    for key in ("conv_error", "conv_steps", "phase_error", "phase_sweeps"):
        np.testing.assert_array_equal(again[key], f5_data[key])
    other = seed1_run(f5)[0]
    assert not np.array_equal(other["conv_error"], f5_data["conv_error"], equal_nan=True)


def test_f5_to_rows(f5_data):
    rows = f5.to_rows(f5_data)
    conv = [row for row in rows if row["panel"] == "convergence"]
    phase = [row for row in rows if row["panel"] == "phase"]
    assert len(conv) == int(f5_data["conv_n_iter"].sum())
    assert len(phase) == int(np.prod(f5_data["phase_success"].shape))
    assert len({tuple(row) for row in rows}) == 1  # one set of columns for the CSV
    assert all(0 <= row["success_rate"] <= 1 for row in phase)
    assert all(row["rel_error"] > 0 for row in conv)


def test_f5_plot_returns_a_figure(f5_data):
    figure = pytest.importorskip("matplotlib.figure")
    fig = f5.plot(f5_data)
    assert isinstance(fig, figure.Figure)
    assert len(fig.axes) == len(f5.CONDS) + 1
    assert all(ax.get_yscale() == "log" for ax in fig.axes[:-1])
    assert len(fig.axes[-1].get_lines()) == (f5_data["phase_ranks"].size
                                             * len(f5_data["phase_methods"]))
    # every panel has its own label: (a1), (a2), ..., then (b)
    labels = [ax.get_title().split(")")[0] + ")" for ax in fig.axes]
    assert len(set(labels)) == len(labels)
    assert labels[-1] == "(b)"
