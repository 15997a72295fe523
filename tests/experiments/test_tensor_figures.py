"""Tests of the tensor figures F6-F9 (SPM and MSPM) and their ``lowrank figures`` output.

Everything runs at the private ``"tiny"`` scale (seconds), once per module (the
fixtures).  The substantive checks are properties the figures are meant to show, on the
fixed seed 0 with wide margins: SPM recovers the noiseless tiny tensors (and their rank
when it is not given), the refinement never fits the noisy tensor worse than SPM, the
landscape's outcome fractions sum to one and the private path of F8 is SPM's own.
tensorly is optional: the figures are also run without it (monkeypatched away).
Wall-clock times differ from run to run; the CSV comparison leaves out each module's
``TIMING_COLUMNS``.
"""


import numpy as np
import pytest

from lowrank.experiments import FIGURES, _tensor_common
from lowrank.experiments import mspm_scatter as f9
from lowrank.experiments import spm_landscape as f8
from lowrank.experiments import spm_noise as f7
from lowrank.experiments import spm_time_vs_size as f6
from lowrank.testing import symmetric_cp_problem

MODULES = {"F6": f6, "F7": f7, "F8": f8, "F9": f9}
HAVE_TENSORLY = _tensor_common.load_tensorly() is not None


def _tiny(module):
    counts = []
    return module.run("tiny", rng=0, progress=counts.append), counts


@pytest.fixture(scope="module")
def tiny_runs():
    """``tiny_runs(module) -> (data, progress counts)``: each figure's tiny run at rng=0,
    made once for all the tests of this file."""
    cache = {}

    def get(module):
        if module not in cache:
            cache[module] = _tiny(module)
        return cache[module]

    return get


@pytest.fixture(scope="module")
def f6_data(tiny_runs):
    return tiny_runs(f6)[0]


@pytest.fixture(scope="module")
def f7_data(tiny_runs):
    return tiny_runs(f7)[0]


@pytest.fixture(scope="module")
def f8_data(tiny_runs):
    return tiny_runs(f8)[0]


@pytest.fixture(scope="module")
def f9_data(tiny_runs):
    return tiny_runs(f9)[0]


def _one_set_of_columns(rows):
    return len({tuple(row) for row in rows}) == 1


# ------------------------------------------------------------------- all four


def test_registry_has_the_tensor_figures():
    assert {fid: FIGURES[fid] for fid in MODULES} == MODULES
    assert list(FIGURES)[5:9] == list(MODULES)
    for module in MODULES.values():
        assert isinstance(module.TITLE, str) and module.TITLE.startswith("tensor:")
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
    module = MODULES[fid]
    fig = module.plot(request.getfixturevalue(f"{fid.lower()}_data"))
    assert isinstance(fig, figure.Figure)
    assert len(fig.axes) == {"F6": 4, "F7": 4, "F8": 2, "F9": 3}[fid]
    assert fig._suptitle.get_text().startswith(fid)


def test_cli_writes_png_and_csv(cli_matches_fixtures):
    # the CSV is the to_rows of the same seed's run (the fixtures), timings aside
    cli_matches_fixtures(tuple(MODULES))


# ------------------------------------------------------------------- F6: time vs size


def test_f6_shapes_and_keys(f6_data):
    assert f6_data["figure"] == "F6" and f6_data["methods"] == list(f6.METHODS)
    assert [p["order"] for p in f6_data["panels"]] == [3, 4]
    for panel in f6_data["panels"]:
        n = panel["dims"].size
        shape = (len(f6.METHODS), n, f6_data["n_trials"])
        for key in ("time", "rel_error", "cut"):
            assert panel[key].shape == shape
        for key in ("median_time", "time_q20", "time_q80", "success_rate", "n_run",
                    "status"):
            assert panel[key].shape == shape[:2]
        np.testing.assert_array_equal(
            panel["ranks"], [f6.rank_of(int(d), panel["order"]) for d in panel["dims"]])
        assert panel["rank_given"] == (panel["order"] == 3)
        ran = np.isfinite(panel["median_time"])          # NaN where a method did not run
        assert np.all(panel["time_q20"][ran] <= panel["median_time"][ran])
        assert np.all(panel["median_time"][ran] <= panel["time_q80"][ran])
    if HAVE_TENSORLY:
        assert f6_data["note"] == "" and f6_data["tensorly"]
        for panel in f6_data["panels"]:  # the tiny cap (60 s) drops nothing
            assert np.all(panel["status"] == "ran") and not panel["cut"].any()
            assert np.all(np.isfinite(panel["rel_error"]))


def test_f6_spm_recovers_the_noiseless_tensors_and_their_rank(f6_data):
    spm = f6_data["methods"].index("spm")
    for panel in f6_data["panels"]:
        assert np.all(panel["rel_error"][spm] < f6.SUCCESS)
        assert np.all(panel["success_rate"][spm] == 1.0)
        # order 4: SPM was not given the rank and estimated it exactly
        np.testing.assert_array_equal(panel["rank_found"],
                                      np.repeat(panel["ranks"][:, None],
                                                f6_data["n_trials"], axis=1))


def test_f6_to_rows(f6_data):
    rows = f6.to_rows(f6_data)
    n_sizes = sum(p["dims"].size for p in f6_data["panels"])
    assert len(rows) == len(f6.METHODS) * n_sizes and _one_set_of_columns(rows)
    spm_rows = [row for row in rows if row["method"] == "spm"]
    assert all(row["success_rate"] == 1.0 and row["n_run"] == 1 for row in spm_rows)
    assert {row["rank_given_to_spm"] for row in rows if row["order"] == 4} == {False}


def test_f6_drops_a_method_above_the_cap(monkeypatch):
    # a cap no run can meet: every method runs its first trial at the first side only;
    # tensorly's parafac is cut by its deadline after one iteration
    sizes = {**f6._SCALES["tiny"], "cap": 1e-9, "dims": {3: (4, 5), 4: (5,)}}
    monkeypatch.setitem(f6._SCALES, "tiny", sizes)
    counts = []
    data = f6.run("tiny", rng=0, progress=counts.append)
    assert sum(counts) == f6.n_steps("tiny")
    order3 = data["panels"][0]
    available = np.array([m == "spm" or HAVE_TENSORLY for m in f6.METHODS])
    np.testing.assert_array_equal(order3["n_run"][:, 0], available.astype(int))
    np.testing.assert_array_equal(order3["status"][:, 1],
                                  np.where(available, "dropped", "unavailable"))
    assert np.all(np.isnan(order3["time"][:, 1]))
    if HAVE_TENSORLY:
        assert order3["cut"][f6.METHODS.index("parafac"), 0, 0]


@pytest.mark.parametrize("module", [f6, f7, f9], ids=["F6", "F7", "F9"])
def test_figures_skip_tensorly_when_it_is_missing(module, monkeypatch):
    monkeypatch.setattr(module, "load_tensorly", lambda: None)
    if module is f6:
        monkeypatch.setitem(f6._SCALES, "tiny", {**f6._SCALES["tiny"],
                                                 "dims": {3: (5,), 4: (6,)}})
    counts = []
    data = module.run("tiny", rng=0, progress=counts.append)
    assert sum(counts) == module.n_steps("tiny")
    assert data["note"] == _tensor_common.TENSORLY_MISSING and data["tensorly"] == ""
    rows = module.to_rows(data)
    assert rows and _one_set_of_columns(rows)
    if module is f6:
        for panel in data["panels"]:
            assert list(panel["status"][:, 0]) == ["ran", "unavailable", "unavailable"]
            assert np.all(panel["success_rate"][0] == 1.0)
    elif module is f7:
        assert np.all(np.isnan(data["min_error"][:, f7.METHODS.index("parafac")]))
        assert np.all(np.isfinite(data["min_error"][:, f7.METHODS.index("spm")]))
    else:
        assert {row["method"] for row in rows} == {"mspm"}
    figure = pytest.importorskip("matplotlib.figure")
    fig = module.plot(data)
    assert isinstance(fig, figure.Figure)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("tensorly is not installed" in t for t in texts)


# ------------------------------------------------------------------- F7: noise


def test_f7_shapes_and_keys(f7_data):
    assert f7_data["figure"] == "F7" and f7_data["methods"] == list(f7.METHODS)
    np.testing.assert_allclose(f7_data["sigmas"], f7.sigmas("tiny"))
    tries = max(p["tries"] for p in f7_data["panels"])
    shape = (len(f7_data["panels"]), len(f7.METHODS), f7_data["sigmas"].size, tries)
    for key in ("error", "fit", "time", "converged"):
        assert f7_data[key].shape == shape
    assert f7_data["min_error"].shape == f7_data["median_time"].shape == shape[:3]
    assert f7_data["error_over_sigma"].shape == shape[:2]
    if HAVE_TENSORLY:
        assert np.all(np.isfinite(f7_data["min_error"]))


def test_f7_refinement_never_fits_worse_than_spm(f7_data):
    # refine=True starts from the same seed's SPM answer and only accepts decreasing
    # steps of ||T - T_hat||
    spm, refine = f7.METHODS.index("spm"), f7.METHODS.index("spm_refine")
    fit = f7_data["fit"]
    ran = np.isfinite(fit[:, spm])
    assert np.all(fit[:, refine][ran] <= fit[:, spm][ran] * (1 + 1e-9))
    # at the smallest sigma both are consistent estimators: error ~ sigma
    small = f7_data["min_error"][:, [spm, refine], 0]
    assert np.all(small < 5 * f7_data["sigmas"][0])
    assert np.all(f7_data["min_error"][:, refine, 0] <= f7_data["min_error"][:, spm, 0])
    assert np.all(f7_data["converged"][:, [spm, refine], 0])


def test_f7_to_rows(f7_data):
    rows = f7.to_rows(f7_data)
    assert len(rows) == (len(f7_data["panels"]) * len(f7.METHODS)
                         * f7_data["sigmas"].size)
    assert _one_set_of_columns(rows)
    first = rows[0]
    assert first["error_over_sigma"] == pytest.approx(first["min_abs_error"] / first["sigma"])


# ------------------------------------------------------------------- F8: landscape


def test_f8_shapes_and_fractions(f8_data):
    ranks, n = f8_data["ranks"], f8_data["n_trials"]
    for key in ("outcome", "iterations", "objective", "max_cosine"):
        assert f8_data[key].shape == (ranks.size, n)
    assert f8_data["fractions"].shape == (ranks.size, len(f8.OUTCOMES))
    np.testing.assert_allclose(f8_data["fractions"].sum(axis=1), 1.0)
    assert f8_data["limit"] == 190 and f8_data["practical"] == 152
    np.testing.assert_array_equal(f8_data["private"], ranks > 190)
    assert np.all((f8_data["iterations"] >= 1) & (f8_data["iterations"] <= f8.MAXITER))
    assert np.all(f8_data["max_cosine"] <= 1 + 1e-12)


def test_f8_outcomes_follow_the_rank(f8_data):
    # far below the limit every start finds a component
    first = list(f8_data["ranks"]).index(120)
    assert f8_data["fractions"][first, f8.OUTCOMES.index("component")] == 1.0
    assert np.all(f8_data["max_cosine"][first] > 1 - f8.COMPONENT_TOL)
    # the outcomes are what classify says of the recorded numbers
    for i in range(f8_data["ranks"].size):
        for t in range(f8_data["n_trials"]):
            assert f8_data["outcome"][i, t] == f8.classify(
                f8_data["max_cosine"][i, t], f8_data["iterations"][i, t],
                f8_data["objective"][i, t])


def test_f8_private_path_is_spms_own():
    # below the limit both paths draw the same numbers: the same iterate
    p = symmetric_cp_problem(8, 20, 4, rng=3)
    public = f8.first_component(p.tensor, 20, np.random.default_rng(7), private=False)
    private = f8.first_component(p.tensor, 20, np.random.default_rng(7), private=True)
    assert public[1] == private[1] and public[2] == private[2]
    assert abs(abs(public[0] @ private[0]) - 1) < 1e-12
    with pytest.raises(ValueError, match="rank"):  # why the private path exists
        f8.first_component(p.tensor, 29, np.random.default_rng(7), private=False)
    x, iterations, objective = f8.first_component(p.tensor, 29, np.random.default_rng(7))
    assert x.shape == (8,) and 1 <= iterations <= f8.MAXITER and objective <= 1 + 1e-12


def test_f8_to_rows(f8_data):
    rows = f8.to_rows(f8_data)
    assert len(rows) == f8_data["ranks"].size and _one_set_of_columns(rows)
    for row in rows:
        total = sum(row[f"fraction_{name}"] for name in f8.OUTCOMES)
        assert total == pytest.approx(1.0)
        assert row["spm_path"] == ("private" if row["rank"] > 190 else "public")


def test_f8_same_seed_gives_identical_data(f8_data):
    again = f8.run("tiny", rng=0)
    for key in ("outcome", "iterations", "objective", "max_cosine"):
        np.testing.assert_array_equal(again[key], f8_data[key])


# ------------------------------------------------------------------- F9: MSPM


def test_f9_shapes_and_accuracy(f9_data):
    shape = (len(f9_data["cases"]), len(f9.METHODS), f9_data["n_trials"])
    for key in ("rel_error", "fit", "time", "score", "converged"):
        assert f9_data[key].shape == shape
    assert [c["name"] for c in f9_data["cases"]] == list(f9.CASES)
    mspm = f9.METHODS.index("mspm")
    # MSPM, told the symmetry, finds the planted decomposition within the noise
    assert np.all(f9_data["rel_error"][:, mspm] < 2 * f9.NOISE)
    assert np.all(f9_data["score"][:, mspm] > 0.99)
    assert np.all(f9_data["converged"][:, mspm])
    # the noise has the prescribed size: ||T - T_clean|| = 0.01 ||T_clean||, so the fit
    # to T of an answer that close to T_clean is about the noise level
    assert np.all(np.abs(f9_data["fit"][:, mspm] - f9.NOISE) < f9.NOISE)
    if HAVE_TENSORLY:
        assert np.all(np.isfinite(f9_data["rel_error"]))


def test_f9_noise_has_the_symmetry():
    rng = np.random.default_rng(0)
    N = f9.group_symmetric_noise((3, 3, 3, 3, 2), (0, 0, 0, 0, 1), rng)
    assert np.linalg.norm(N) == pytest.approx(1.0)
    for perm in ((1, 0, 2, 3, 4), (0, 2, 1, 3, 4), (3, 1, 2, 0, 4)):
        np.testing.assert_allclose(N, N.transpose(perm), atol=1e-15)
    plain = f9.group_symmetric_noise((3, 3, 3), (0, 1, 2), rng)
    assert not np.allclose(plain, plain.transpose(1, 0, 2))


def test_f9_to_rows(f9_data):
    rows = f9.to_rows(f9_data)
    assert len(rows) == int(np.isfinite(f9_data["time"]).sum()) and _one_set_of_columns(rows)
    for row in rows:
        assert row["log10_rel_error"] == pytest.approx(np.log10(row["rel_error"]))
        assert 0 <= row["factor_score"] <= 1 + 1e-12
