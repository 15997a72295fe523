"""Row sampling: leverage scores, Lewis weights and l_p regression on a sample.

Three groups (SPEC section 6; papers/sensitivity_sampling.md, P1-P3), each timed
side by side: one warm-up call per case (Numba compilation excluded), then the median of
``repeats`` calls taken round-robin over the cases of a problem.

1. **Leverage scores** (P3): ``leverage_scores(A, method="sketched")`` (sparse sign
   sketch of max(20 d, 64 ln n) rows; a different ``rng`` per repeat, accuracy = worst repeat) vs
   ``method="exact"`` (thin Householder QR) vs ``scipy.linalg.qr(A, mode="economic")``
   plus row norms, on 2^18 x 128 dense matrices with Gaussian and Student-t(1) entries
   (``--quick``: 2^13 x 32); and sketched vs exact on a 10^6 x 100 CSR matrix of
   density 1 % (``--quick``: 2 10^4 x 50, 2 %).  Accuracy: ``max_i |tau^_i / tau_i - 1|``
   over the rows with ``tau_i > 0`` against the exact scores (SciPy's QR for dense,
   ``method="exact"`` for sparse).  Target (SPEC 6): sketched >= 3x faster than exact at
   max relative error <= 0.3 on the dense 2^18 x 128 matrices.  pylspack (a named peer)
   is compared when it is importable.
2. **Lewis weights** (P2): ``lewis_weights(A, p)`` for n in {10^4, 10^5}, d in {20, 100},
   p in {1, 3} on Student-t(1.5) rows (``--quick``: 2000 x 10): total time, iterations,
   time per iteration (median spacing of ``history["time"]``) and its ratio to one
   ``scipy.linalg.qr(A, mode="r")``.
3. **l_p regression** (P1): ``lp_regression(A, b, p, method="lewis", n_samples=m)`` for
   m = 5, 20, 50 times (d + 1) vs ``method="exact"`` on the full data, 20,000 x 20,
   Gaussian and Student-t(1.5) rows, ``b = A x0 + `` Student-t(2) noise, p in
   {1, 1.5, 3, 4} (``--quick``: 2000 x 5, p in {1, 3}, m = 20 (d + 1)).  Accuracy:
   relative excess objective ``f(x_m) / f(x*) - 1`` (median and worst repeat), and the
   l_p distortion of the first repeat's sample of ``[A b]``
   (``subspace_embedding_distortion``, a lower bound).

Run: ``python benchmarks/bench_sampling.py [--quick] [--repeats N]``.
"""

import statistics
import sys
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse
from _common import (
    fmt,
    machine_info,
    markdown_table,
    run_cli,
    targets_markdown,
    time_interleaved,
)

FULL = {
    "leverage_dense": ((2**18, 128),),
    "leverage_sparse": (10**6, 100, 0.01),
    "lewis_n": (10**4, 10**5),
    "lewis_d": (20, 100),
    "lewis_p": (1.0, 3.0),
    "lp_size": (20_000, 20),
    "lp_p": (1.0, 1.5, 3.0, 4.0),
    "lp_samples_per_column": (5, 20, 50),
}
QUICK = {
    "leverage_dense": ((2**13, 32),),
    "leverage_sparse": (2 * 10**4, 50, 0.02),
    "lewis_n": (2000,),
    "lewis_d": (10,),
    "lewis_p": (1.0, 3.0),
    "lp_size": (2000, 5),
    "lp_p": (1.0, 3.0),
    "lp_samples_per_column": (20,),
}
DATA_SEED = 20240607
LEVERAGE_KINDS = ("gaussian", "student_t1")
LP_KINDS = ("gaussian", "student_t1.5")
NOISE_DF = 2.0
SPEEDUP_TARGET = 3.0
ERROR_TARGET = 0.3

SCIPY_QR = "scipy.linalg.qr (economic) + row norms"
EXACT = "lowrank exact"
SKETCHED = "lowrank sketched"
PYLSPACK = "pylspack ls_via_sketched_svd"

ROW_FIELDS = ("group", "problem", "solver", "time_s", "times_s", "ratio")


def _matrix(kind, n, d, rng):
    if kind == "gaussian":
        return rng.standard_normal((n, d))
    df = float(kind.removeprefix("student_t"))
    return rng.standard_t(df, size=(n, d))


def _exact_from_qr(A):
    Q = scipy.linalg.qr(A, mode="economic", check_finite=False)[0]
    return np.einsum("ij,ij->i", Q, Q)


def _max_rel_error(estimate, exact):
    keep = exact > 0
    return float(np.max(np.abs(np.asarray(estimate)[keep] / exact[keep] - 1.0)))


def _pylspack():
    """pylspack's sketched leverage scores, or None when it is not installed."""
    try:
        from pylspack.leverage_scores import ls_via_sketched_svd
    except ImportError:
        return None

    def scores(A, i):
        d = A.shape[1]
        # Its defaults (CountSketch 5(d^2 + d) rows, Gaussian 10 d rows) without the JL
        # step: it raises ValueError when r2 >= rank, and its default r2 = 32 ceil(ln n)
        # exceeds d here (papers/sensitivity_sampling.md, "Leverage scores").
        return ls_via_sketched_svd(A, m=10 * d, r1=5 * (d**2 + d), r2=0)

    return scores


# ------------------------------------------------------------------- leverage scores


def _leverage_rows(problem, A, with_scipy, log, repeats):
    from lowrank.sampling import leverage_scores

    fns = {}
    if with_scipy:
        fns[SCIPY_QR] = lambda i: _exact_from_qr(A)
    fns[EXACT] = lambda i: leverage_scores(A, method="exact").scores
    fns[SKETCHED] = lambda i: leverage_scores(A, method="sketched", rng=i + 1)
    peer = _pylspack()  # dense (C-contiguous) and CSR input
    if peer is not None:
        fns[PYLSPACK] = lambda i: peer(A, i)
    if log:
        print(f"[bench_sampling] leverage {problem}: {len(fns)} solvers x "
              f"(1 + {repeats}) calls", file=log, flush=True)
    timed = time_interleaved(fns, repeats)
    exact = np.asarray(timed[SCIPY_QR if with_scipy else EXACT][2][0], dtype=np.float64)
    t_exact = timed[EXACT][0]
    rows = []
    for name, (median, times, outputs) in timed.items():
        scores = [np.asarray(getattr(out, "scores", out)) for out in outputs]
        first = outputs[0]
        rows.append({
            "group": "leverage", "problem": problem, "solver": name, "time_s": median,
            "times_s": times, "ratio": t_exact / median,
            "speedup_vs_scipy": (timed[SCIPY_QR][0] / median) if with_scipy else None,
            "max_rel_error": max(_max_rel_error(s, exact) for s in scores),
            "sketch_size": getattr(first, "sketch_size", None),
            "jl_size": getattr(first, "jl_size", None),
        })
    return rows


def _leverage(cfg, repeats, log):
    rng = np.random.default_rng(DATA_SEED)
    rows = []
    for n, d in cfg["leverage_dense"]:
        for kind in LEVERAGE_KINDS:
            A = _matrix(kind, n, d, rng)
            rows += _leverage_rows(f"{n}x{d} {kind.replace('_', '-')}", A, True, log,
                                   repeats)
            del A
    n, d, density = cfg["leverage_sparse"]
    A = scipy.sparse.random(n, d, density=density, format="csr", random_state=rng,
                            data_rvs=rng.standard_normal)
    rows += _leverage_rows(f"{n}x{d} CSR, density {density:g}", A, False, log, repeats)
    return rows


# --------------------------------------------------------------------- Lewis weights


def _lewis(cfg, repeats, log):
    from lowrank.sampling import lewis_weights

    rng = np.random.default_rng(DATA_SEED + 1)
    rows = []
    for n in cfg["lewis_n"]:
        for d in cfg["lewis_d"]:
            A = rng.standard_t(1.5, size=(n, d))
            problem = f"{n}x{d} student-t1.5"
            fns = {"scipy.linalg.qr (mode='r')":
                   lambda i, A=A: scipy.linalg.qr(A, mode="r", check_finite=False)}
            for p in cfg["lewis_p"]:
                fns[f"lowrank lewis_weights p={p:g}"] = (
                    lambda i, A=A, p=p: lewis_weights(A, p))
            if log:
                print(f"[bench_sampling] lewis {problem}: {len(fns)} cases x "
                      f"(1 + {repeats}) calls", file=log, flush=True)
            timed = time_interleaved(fns, repeats)
            t_qr = timed["scipy.linalg.qr (mode='r')"][0]
            for name, (median, times, outputs) in timed.items():
                row = {"group": "lewis", "problem": problem, "solver": name,
                       "time_s": median, "times_s": times, "ratio": None, "p": None,
                       "n_iter": None, "time_per_iter_s": None, "converged": None,
                       "weight_sum_error": None}
                if name.startswith("lowrank"):
                    res = outputs[0]
                    steps = [float(np.median(np.diff(out.history["time"])))
                             for out in outputs if len(out.history["time"]) > 1]
                    per_iter = statistics.median(steps) if steps else median / res.n_iter
                    row.update(p=res.p, n_iter=res.n_iter, time_per_iter_s=per_iter,
                               ratio=per_iter / t_qr, converged=bool(res.converged),
                               weight_sum_error=abs(float(np.sum(res.weights)) - res.rank))
                else:
                    row["ratio"] = 1.0
                rows.append(row)
            del A
    return rows


# ------------------------------------------------------------------- l_p regression


def _lp(cfg, repeats, log):
    from lowrank.regression import lp_regression
    from lowrank.sampling import subspace_embedding_distortion

    n, d = cfg["lp_size"]
    rng = np.random.default_rng(DATA_SEED + 2)
    rows = []
    for kind in LP_KINDS:
        A = _matrix(kind, n, d, rng)
        b = A @ rng.standard_normal(d) + rng.standard_t(NOISE_DF, size=n)
        M = np.column_stack([A, b])
        for p in cfg["lp_p"]:
            problem = f"{n}x{d} {kind.replace('_', '-')}, p={p:g}"
            fns = {"lowrank exact": lambda i, A=A, b=b, p=p: lp_regression(
                A, b, p, method="exact")}
            for c in cfg["lp_samples_per_column"]:
                m = c * (d + 1)
                fns[f"lowrank lewis m={m}"] = (
                    lambda i, A=A, b=b, p=p, m=m: lp_regression(
                        A, b, p, method="lewis", n_samples=m, rng=i + 1))
            if log:
                print(f"[bench_sampling] lp_regression {problem}: {len(fns)} cases x "
                      f"(1 + {repeats}) calls", file=log, flush=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # rank-deficient samples are reported
                timed = time_interleaved(fns, repeats)
            t_exact, _, exact_out = timed["lowrank exact"]
            optimum = min(out.objective for out in exact_out)
            for name, (median, times, outputs) in timed.items():
                excess = [out.objective / optimum - 1.0 for out in outputs]
                first = outputs[0]
                sample = first.sample
                distortion = None if sample is None else subspace_embedding_distortion(
                    M, sample, p, rng=0).distortion
                rows.append({
                    "group": "lp_regression", "problem": problem, "solver": name,
                    "time_s": median, "times_s": times, "ratio": t_exact / median,
                    "n_samples": first.n_samples,
                    "realised_size": None if sample is None else int(statistics.median(
                        out.sample.size for out in outputs)),
                    "excess_median": float(np.median(excess)),
                    "excess_max": float(np.max(excess)),
                    "distortion": distortion,
                })
        del A, b, M
    return rows


# ---------------------------------------------------------------------------- main


def _targets(rows):
    targets = []
    dense = [r for r in rows if r["group"] == "leverage" and r["speedup_vs_scipy"] is not None
             and r["solver"] == SKETCHED]
    for r in dense:
        targets += [
            {"target": f"{r['problem']}: sketched leverage scores >= {SPEEDUP_TARGET:g}x "
                       "faster than exact",
             "value": f"{r['ratio']:.2f}x", "passed": r["ratio"] >= SPEEDUP_TARGET},
            {"target": f"{r['problem']}: sketched max relative error <= {ERROR_TARGET:g}",
             "value": f"{r['max_rel_error']:.3f}",
             "passed": r["max_rel_error"] <= ERROR_TARGET},
        ]
    return targets


def main(quick=False, repeats=5, log=sys.stderr):
    """Run the benchmark; return ``{"name", "config", "rows", "targets", "machine"}``.

    Each row has the keys in ``ROW_FIELDS`` plus its group's columns; ``ratio`` is the
    speed-up over ``lowrank exact`` (leverage scores, l_p regression) or the time per
    Lewis iteration over one ``scipy.linalg.qr(A, mode="r")``.
    """
    cfg = QUICK if quick else FULL
    rows = _leverage(cfg, repeats, log) + _lewis(cfg, repeats, log) + _lp(cfg, repeats, log)
    return {
        "name": "sampling",
        "config": {**{k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
                   "repeats": repeats, "data_seed": DATA_SEED,
                   "pylspack": _pylspack() is not None},
        "rows": rows,
        "targets": _targets(rows),
        "machine": machine_info(),
    }


def to_markdown(result):
    """Markdown tables + target list of a :func:`main` result."""
    c = result["config"]
    rows = result["rows"]
    lev = [r for r in rows if r["group"] == "leverage"]
    lew = [r for r in rows if r["group"] == "lewis"]
    lp = [r for r in rows if r["group"] == "lp_regression"]
    peer = ("pylspack compared" if c["pylspack"] else
            "pylspack not installed (not on the package index this machine can reach), "
            "so not compared")
    parts = [
        f"**sampling: leverage scores**, median of {c['repeats']} runs after a warm-up; "
        "max relative error over the rows with a nonzero score, worst repeat, against "
        f"SciPy's QR (dense) or the exact method (sparse); {peer}.",
        markdown_table(
            ["problem", "solver", "median time (s)", "speed-up vs lowrank exact",
             "speed-up vs SciPy QR", "max relative error of τ̂", "sketch rows", "JL columns"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".3f"), fmt(r["ratio"], ".2f") + "x",
              "–" if r["speedup_vs_scipy"] is None else fmt(r["speedup_vs_scipy"], ".2f") + "x",
              fmt(r["max_rel_error"], ".3g"), fmt(r["sketch_size"]), fmt(r["jl_size"])]
             for r in lev]),
        f"**sampling: Lewis weights** (Student-t(1.5) rows, tol 1e-10), median of "
        f"{c['repeats']} runs; per iteration = median spacing of `history[\"time\"]`.",
        markdown_table(
            ["problem", "case", "median time (s)", "iterations", "time / iteration (s)",
             "iteration / QR(mode='r')", "converged", "abs(Σw − rank)"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".4f"), fmt(r["n_iter"]),
              fmt(r["time_per_iter_s"], ".2e"),
              fmt(r["ratio"], ".2f") if r["p"] is not None else "1 (reference)",
              fmt(r["converged"]), fmt(r["weight_sum_error"], ".1e")] for r in lew]),
        f"**sampling: l_p regression** on a Lewis-weight sample of [A b] vs the exact "
        f"solve, b = A x0 + Student-t({NOISE_DF:g}) noise, median of {c['repeats']} runs "
        "(a different sample each); excess = f(x)/f(x*) − 1 on the full data; distortion "
        "of the first repeat's sample (a lower bound).",
        markdown_table(
            ["problem", "solver", "median time (s)", "speed-up vs exact", "rows sampled",
             "excess (median)", "excess (worst)", "distortion"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".3f"), fmt(r["ratio"], ".2f") + "x",
              fmt(r["realised_size"]), fmt(r["excess_median"]), fmt(r["excess_max"]),
              fmt(r["distortion"], ".3f")] for r in lp]),
        "Targets (SPEC 6):\n\n" + targets_markdown(result["targets"]),
    ]
    return "\n\n".join(parts)


if __name__ == "__main__":
    run_cli(__doc__, main, to_markdown)
