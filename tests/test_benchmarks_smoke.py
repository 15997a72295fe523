"""The benchmark scripts run in quick mode and produce rows with the expected fields.

No timing assertions: benchmarks report numbers, tests check that they can be produced.
"""

import pathlib

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmarks_on_path(monkeypatch):
    # The scripts import their shared helpers as `_common`, as they do when run directly.
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def _check_result(result, row_fields, name):
    assert result["name"] == name
    assert result["rows"], "no rows"
    for row in result["rows"]:
        assert set(row_fields) <= set(row), set(row_fields) - set(row)
        assert row["time_s"] > 0
        assert len(row["times_s"]) == 1
    for target in result["targets"]:
        assert set(target) == {"target", "value", "passed"}
    assert result["machine"]["numba_threads"] >= 1
    assert isinstance(result["machine"]["threadpools"], list)


def test_bench_lstsq_quick(benchmarks_on_path):
    import bench_lstsq

    result = bench_lstsq.main(quick=True, repeats=1, log=None)
    _check_result(result, bench_lstsq.ROW_FIELDS, "lstsq")
    solvers = {row["solver"] for row in result["rows"]}
    assert bench_lstsq.REFERENCE in solvers
    assert {f"lowrank {m}" for m in bench_lstsq.LOWRANK_METHODS} <= solvers
    # two right-hand sides and one block of them, each with every solver
    assert len(result["rows"]) == 3 * len(solvers)
    block = [r for r in result["rows"] if r["problem"].endswith("right-hand sides")]
    assert all(r["accurate"] for r in block if r["solver"] == "lowrank auto")
    assert len(result["targets"]) == 2 * 3 * len(bench_lstsq.TARGET_METHODS)
    assert "| lowrank auto |" in bench_lstsq.to_markdown(result)


def test_bench_sketch_quick(benchmarks_on_path):
    import bench_sketch

    result = bench_sketch.main(quick=True, repeats=1, log=None)
    _check_result(result, bench_sketch.ROW_FIELDS, "sketch")
    groups = {row["group"] for row in result["rows"]}
    assert groups == {"srht", "sparse_sign", "gaussian"}
    assert sum(row["peer"] for row in result["rows"]) == len(groups)
    assert len(result["targets"]) == 2
    assert "SRHTSketch" in bench_sketch.to_markdown(result)


def test_bench_sampling_quick(benchmarks_on_path):
    import bench_sampling

    result = bench_sampling.main(quick=True, repeats=1, log=None)
    _check_result(result, bench_sampling.ROW_FIELDS, "sampling")
    groups = {row["group"] for row in result["rows"]}
    assert groups == {"leverage", "lewis", "lp_regression"}
    leverage = [row for row in result["rows"] if row["group"] == "leverage"]
    assert {bench_sampling.EXACT, bench_sampling.SKETCHED} <= {r["solver"] for r in leverage}
    assert all(0 <= row["max_rel_error"] < 1 for row in leverage)
    lewis = [row for row in result["rows"] if row["group"] == "lewis"
             and row["n_iter"] is not None]
    assert len(lewis) == len(bench_sampling.QUICK["lewis_p"]) and all(
        row["converged"] for row in lewis)
    lp = [row for row in result["rows"] if row["group"] == "lp_regression"]
    assert all(row["excess_median"] >= -1e-8 for row in lp)
    # two dense problems, two targets each
    assert len(result["targets"]) == 2 * len(bench_sampling.LEVERAGE_KINDS)
    markdown = bench_sampling.to_markdown(result)
    assert "lowrank sketched" in markdown and "lowrank lewis m=" in markdown


def test_bench_completion_quick(benchmarks_on_path):
    import bench_completion

    result = bench_completion.main(quick=True, repeats=1, log=None)
    _check_result(result, bench_completion.ROW_FIELDS, "completion")
    rows = result["rows"]
    assert {row["group"] for row in rows} == {"scaling", "preconditioner", "large",
                                              "movielens"}
    scaling = [row for row in rows if row["group"] == "scaling"]
    ranks = bench_completion.QUICK["scaling_ranks"]
    assert len(scaling) == 2 * len(ranks) * len(bench_completion.SCALING_VARIANTS)
    forced = [row for row in scaling if row["cg_rows"] == "all"]
    assert forced and all(row["mean_cg_steps"] > 0 for row in forced)
    assert all(0 <= row["cholesky_fraction"] <= 1 for row in scaling)
    precond = [row for row in rows if row["group"] == "preconditioner"]
    assert len(precond) == 2 * len(bench_completion.QUICK["preconditioner_ranks"])
    assert all(row["preconditioner"] == "sketch" and row["qr_speedup"] > 0 for row in precond)
    large = [row for row in rows if row["group"] == "large"]
    assert {row["method"] for row in large} == set(bench_completion.METHODS)
    assert all(row["prep_s"] > 0 and row["prep_peak_mb"] > 0 for row in large)
    movielens = {row["solver"]: row for row in rows if row["group"] == "movielens"}
    assert {"training mean", "lowrank altmin exact", "lowrank altmin robust"} <= set(movielens)
    # the reference split: the global-mean baseline of papers/completion_altmin.md
    assert movielens["training mean"]["rmse"] == pytest.approx(1.0386, abs=5e-4)
    assert movielens["lowrank altmin exact"]["rmse"] < movielens["training mean"]["rmse"] - 0.1
    assert result["movielens"]["n_test"] == 20302
    markdown = bench_completion.to_markdown(result)
    assert "| lowrank altmin exact |" in markdown and "fancyimpute" in markdown


def test_bench_tensor_quick(benchmarks_on_path):
    import bench_tensor

    result = bench_tensor.main(quick=True, repeats=1, log=None)
    _check_result(result, bench_tensor.ROW_FIELDS, "tensor")
    rows = result["rows"]
    assert {row["group"] for row in rows} == {"spm", "mspm", "moments"}
    spm = [row for row in rows if row["group"] == "spm"]
    for order, _, r, _ in bench_tensor.QUICK["spm_problems"]:
        ours = {row["solver"]: row for row in spm if row["order"] == order}
        for name in (bench_tensor.SPM_GIVEN, bench_tensor.SPM_ESTIMATED):
            assert ours[name]["success"] == 1.0 and ours[name]["error_max"] < 1e-8
            assert ours[name]["ranks"] == [r]
        if result["peers"]["tensorly"].startswith("tensorly"):  # a peer, not a dependency
            assert {bench_tensor.PARAFAC_RANDOM, bench_tensor.PARAFAC_DEFAULT,
                    bench_tensor.POWER_ITERATION} <= set(ours)
            assert all(0 < row["error_median"] < 1 for row in ours.values()
                       if not row["solver"].startswith("lowrank"))
    assert result["peers"]["pyttb"] == "left out in --quick"
    mspm = {row["solver"]: row for row in rows if row["group"] == "mspm"}
    for name in (bench_tensor.MSPM_DEFAULT, bench_tensor.MSPM_LOOSE):
        # 1 % noise: the error against the clean tensor stays below the noise level
        assert mspm[name]["error_clean"] < bench_tensor.NOISE and mspm[name]["fms"] > 0.99
    moments = [row for row in rows if row["group"] == "moments"]
    assert {row["solver"] for row in moments} == {bench_tensor.IMPLICIT, bench_tensor.FORMED}
    assert len(moments) == 2 * len(bench_tensor.QUICK["moment_cases"])
    assert all(row["fms"] > 1 - 1e-8 and row["error"] < 1e-8 for row in moments)
    # every quick target is a success test of SPM or a comparison with parafac
    assert len(result["targets"]) >= 4
    markdown = bench_tensor.to_markdown(result)
    assert "| lowrank SPM, r given |" in markdown and "MomentTensor" in markdown


def test_bench_factorization_quick(benchmarks_on_path):
    import bench_factorization as bf

    result = bf.main(quick=True, repeats=1, log=None)
    _check_result(result, bf.ROW_FIELDS, "factorization")
    rows = result["rows"]
    assert {row["group"] for row in rows} == {"svd", "eigh", "qr", "cholesky", "rpcholesky"}
    svd = [row for row in rows if row["group"] == "svd"]
    assert {bf.JSVD_RANDOM, bf.JSVD_CYCLIC, bf.DGEJSV, bf.GESDD} <= {r["solver"] for r in svd}
    assert all(row["converged"] for row in svd if row["solver"].startswith("lowrank"))
    gaussian = [row for row in svd if not row["graded"] and row["solver"] != bf.GESDD]
    assert all(row["max_rel_error"] < 1e-12 for row in gaussian)
    graded = {row["solver"]: row for row in svd if row["graded"]}
    assert graded[bf.JSVD_RANDOM]["max_rel_error"] < 1e-13
    assert graded[bf.DGEJSV]["max_rel_error"] < 1e-13
    eigh = [row for row in rows if row["group"] == "eigh"]
    ours = [row for row in eigh if row["solver"].startswith("lowrank")]
    assert ours and all(row["max_rel_error"] < 1e-13 and row["converged"] for row in ours)
    qr = [row for row in rows if row["group"] == "qr"]
    assert len(qr) == len(bf.QUICK["qr_conds"]) * (len(bf.QR_VARIANTS) + 2)
    assert all(row["residual"] < 1e-13 for row in qr)
    cholesky = [row for row in rows if row["group"] == "cholesky"]
    assert all(row["residual"] < 1e-13 for row in cholesky)
    rp = [row for row in rows if row["group"] == "rpcholesky" and row["k"] is not None]
    assert len(rp) == 6 * len(bf.QUICK["rp_ranks"])
    for row in rp:
        assert row["rank"] == row["k"] and 0 < row["trace_error_median"] < 1
    dpstrf = {row["k"]: row for row in rp if row["solver"] == bf.RP_DPSTRF}
    greedy = {row["k"]: row for row in rp if row["solver"] == bf.RP_GREEDY}
    for k, row in dpstrf.items():  # the tol stops dpstrf where lowrank's greedy stops
        assert row["same_pivots_as_greedy"]
        assert row["trace_error_median"] == pytest.approx(greedy[k]["trace_error_median"],
                                                          rel=1e-8)
    # the quick run lists accuracy targets only (no timing targets); Jacobi's hold at any size
    jacobi = [t for t in result["targets"] if "jacobi" in t["target"]]
    assert jacobi and all(t["passed"] for t in jacobi)
    assert not any("faster" in t["target"] for t in result["targets"])
    markdown = bf.to_markdown(result)
    assert "| lowrank jacobi_svd, random |" in markdown and "dpstrf stopped" in markdown

def test_bench_robust_quick(benchmarks_on_path):
    import bench_robust

    result = bench_robust.main(quick=True, repeats=1, log=None)
    _check_result(result, bench_robust.ROW_FIELDS, "robust")
    rows = result["rows"]
    by = {(row["group"], row["solver"]): row for row in rows}
    assert by[("rpca", bench_robust.OURS)]["error"] < 1e-6
    assert by[("rpca", bench_robust.OURS_TO_TARGET)]["error"] <= bench_robust.TARGET
    assert {"rpca", "tall", "completion", "sensing", "scaling"} == {r["group"] for r in rows}
    assert by[("completion", bench_robust.OURS)]["error"] < 1e-6
    # the l2 loss is broken by the outliers, not by the sample
    assert by[("completion", "lowrank altmin (l2), corrupted")]["error"] > 1e-3
    assert by[("completion", "lowrank altmin (l2), clean entries")]["error"] < 1e-6
    assert all(row["peak_mb"] is None or row["peak_mb"] > 0
               for row in rows if row["group"] == "tall")
    markdown = bench_robust.to_markdown(result)
    assert "| lowrank subgradient_recovery |" in markdown and "Targets" in markdown


def test_run_all_replaces_only_the_results_section(benchmarks_on_path):
    import run_all

    text = f"intro\n{run_all.START}\nold\n{run_all.END}\noutro\n"
    new = run_all.replace_results(text, "NEW")
    assert new == f"intro\n{run_all.START}\nNEW\n{run_all.END}\noutro\n"
    with pytest.raises(ValueError, match="must contain"):
        run_all.replace_results("no markers", "NEW")


def test_run_all_replaces_one_benchmark_section(benchmarks_on_path):
    import run_all

    text = f"intro\n{run_all.START}\nold\n{run_all.END}\noutro\n"
    added = run_all.replace_section(text, "robust", "R1")
    assert added == (f"intro\n{run_all.START}\nold\n<!-- robust:start -->\nR1\n"
                     f"<!-- robust:end -->\n{run_all.END}\noutro\n")
    replaced = run_all.replace_section(added, "robust", "R2")
    assert replaced == added.replace("R1", "R2")
    assert run_all.benchmark_name(run_all.bench_robust) == "robust"
