"""Robust recovery: ``lowrank.robust.subgradient_recovery`` against principal component
pursuit, on robust PCA, tall robust PCA, robust completion and Gaussian sensing.

(papers/completion_altmin.md, RB2 and RB3; issue 13.)  Five groups:

1. **Robust PCA** (RB3): a fully observed ``n x n`` matrix ``L = P diag(s) Q^T`` (Haar
   ``P, Q``, ``r = 10``, ``s`` geometric from 1 to ``1/kappa``) plus sparse outliers: 10 %
   of the entries get ``10 max|L| U[-1, 1]`` added.  Methods:

   - ours: ``subgradient_recovery(EntryMeasurements(rows, cols, shape), y, r,
     symmetric=False, rng=0)`` with defaults (building the operator from the matrix is
     timed with it).  "to 1e-6": the same run stopped at the first iteration whose
     error is at most ``1e-6`` (found in an untimed run with ``X_true``; the schedule
     does not depend on ``maxiter``, so the stopped run is the same trajectory);
   - tensorly ``robust_pca(Y, reg_E=1/sqrt(n), verbose=0)``: the defaults
     (``n_iter_max=100``), then "to 1e-6": ``n_iter_max`` set to the first iteration at
     which an untimed traced run's singular-value-thresholded iterate was within
     ``1e-6`` (tensorly's ``svd_thresholding`` wrapped to record it), lengthened by 10 %
     until the returned low-rank part is within ``1e-6``;
   - PCP by the inexact augmented Lagrangian method of Candes, Li, Ma, Wright (J. ACM
     2011, Algorithm 1; the scheme of dganguli/robust-pca): ``lambda = 1/sqrt(max(n1,
     n2))``, ``mu = n1 n2 / (4 ||Y||_1)``, stopped at ``||Y - L - S||_F <= 1e-7
     ||Y||_F`` or after ``pcp_budget_s``, written here in NumPy; one run, whose clock
     (stopped while its error is evaluated) gives both its time to the end and to 1e-6.

   Error: ``||L_hat - L||_F / ||L||_F``.  Ours: medians of ``rpca_trials`` timed runs;
   the peers: one run each (they are deterministic); all after a warm-up at a small
   size.  Target (SPEC 6): ours reaches 1e-6 faster than tensorly.
2. **Tall robust PCA**: the same model, one run per case with its peak resident memory
   (``VmHWM`` after a reset): ours at ``200,000 x 375`` for ``tall_iterations``
   iterations (time per iteration and memory; a run to convergence takes about 3,000
   iterations, measured at ``20,000 x 375``), ours and PCP (economic SVDs, under a time
   budget) to convergence at ``20,000 x 375``, and tensorly's ``robust_pca`` for 2
   iterations at smaller heights: its full SVDs keep ``n x n`` left singular vectors,
   which grow with the square of the height (tensorly issue #36).
3. **Robust completion** (RB2): ``800 x 800``, ``r = 5``, ``kappa = 2``,
   ``|Omega| = 8 r (n1 + n2 - r)`` entries drawn uniformly (at least ``r`` per row and
   column), 5 % of them with ``U[-max|L|, max|L|]`` added.  Ours on
   ``EntryMeasurements`` against ``lowrank.completion.altmin`` (l2 loss, which outliers
   break) on the corrupted and on the clean entries.
4. **Sensing** at the scaled sub-gradient paper's configuration (ScaledGD ``matrix_l1``):
   ``n = 100``, ``r = 10``, ``kappa = 10``, ``m = 8 n r`` Gaussian measurements (dense
   storage), a fraction in ``sensing_fractions`` corrupted by ``10 ||y||_inf U[-1, 1]``;
   asymmetric recovery with defaults: iterations and time to ``1e-6`` and at the end.
5. **Time per iteration** (median over ``SCALING_ITERATIONS`` iterations, from
   ``history["time"]``): symmetric Gaussian sensing against ``d`` and ``r'``, robust PCA
   against ``n``.

``--quick`` shrinks every problem (seconds).

Run: ``python benchmarks/bench_robust.py [--quick] [--repeats N]``.
"""

import math
import os
import statistics
import sys
import time
import warnings

import numpy as np
from _common import (
    fmt,
    load_phrase,
    machine_info,
    markdown_table,
    reset_peak_memory,
    run_cli,
    status_mb,
    targets_markdown,
)

FULL = {
    "rpca_problems": ((500, 1.0), (500, 5.0), (500, 10.0), (500, 20.0), (1000, 1.0)),
    "rpca_trials": 2,
    "pcp_budget_s": 150.0,
    "tensorly_max_iter": 600,
    "tall_shape": (200_000, 375),
    "tall_iterations": 300,
    "tall_full_shape": (20_000, 375),
    "tall_peer_heights": (5_000, 10_000),
    "tall_pcp_budget_s": 120.0,
    "completion_n": 800,
    "sensing_n": 100,
    "sensing_fractions": (0.1, 0.3),
    "scaling_sensing": ((25, 5), (50, 5), (100, 5), (50, 10), (50, 25), (50, 50)),
    "scaling_rpca": (250, 500, 1000, 2000),
}
QUICK = {
    "rpca_problems": ((60, 1.0),),
    "rpca_trials": 1,
    "pcp_budget_s": 10.0,
    "tensorly_max_iter": 300,
    "tall_shape": (4000, 100),
    "tall_iterations": 20,
    "tall_full_shape": (1000, 100),
    "tall_peer_heights": (300,),
    "tall_pcp_budget_s": 5.0,
    "completion_n": 80,
    "sensing_n": 12,
    "sensing_fractions": (0.1,),
    "scaling_sensing": ((10, 2), (20, 2)),
    "scaling_rpca": (50, 100),
}
DATA_SEED = 20261208
RANK = 10
OUTLIERS = 0.1
TARGET = 1e-6
TENSORLY_DEFAULT_ITER = 100
PCP_TOL = 1e-7
PCP_MAXITER = 1000
COMPLETION_RANK, COMPLETION_KAPPA, COMPLETION_OUTLIERS = 5, 2.0, 0.05
SENSING_RANK, SENSING_KAPPA, SENSING_FACTOR = 10, 10.0, 8
SCALING_ITERATIONS = 30

ROW_FIELDS = ("group", "problem", "solver", "time_s", "times_s", "error")
OURS = "lowrank subgradient_recovery"
OURS_TO_TARGET = "lowrank subgradient_recovery, to 1e-6"
TENSORLY = "tensorly robust_pca, defaults"
TENSORLY_TO_TARGET = "tensorly robust_pca, to 1e-6"
PCP = "PCP (inexact ALM, NumPy)"
PCP_TO_TARGET = "PCP (inexact ALM, NumPy), to 1e-6"


def _robust():
    import lowrank.robust as robust

    return robust


# ---------------------------------------------------------------- problems and methods


def low_rank(shape, r, kappa, rng):
    """``P diag(s) Q^T`` with Haar ``P, Q`` and ``s`` geometric from 1 to ``1/kappa``."""
    P = np.linalg.qr(rng.standard_normal((shape[0], r)))[0]
    Q = np.linalg.qr(rng.standard_normal((shape[1], r)))[0]
    return (P * np.geomspace(1.0, 1.0 / kappa, r)) @ Q.T


def rpca_problem(shape, r, kappa, rng):
    """``(Y, L)``: ``L`` of :func:`low_rank` with ``10 max|L| U[-1, 1]`` added to 10 % of
    the entries."""
    L = low_rank(shape, r, kappa, rng)
    y = _robust().corrupt(L.ravel(), OUTLIERS, magnitude=10 * float(np.abs(L).max()),
                          rng=rng)
    return y.reshape(shape), L


def relative_error(L_hat, L):
    return float(np.linalg.norm(L_hat - L) / np.linalg.norm(L))


def ours_rpca(Y, r, *, maxiter=10_000, X_true=None):
    """Our robust PCA of the dense ``Y``: every entry, in row-major order."""
    robust = _robust()
    rows, cols = np.divmod(np.arange(Y.size), Y.shape[1])
    A = robust.EntryMeasurements(rows, cols, Y.shape)
    return robust.subgradient_recovery(A, Y.ravel(), r, symmetric=False, rng=0,
                                       maxiter=maxiter, X_true=X_true)


def pcp(M, *, maxiter=PCP_MAXITER, tol=PCP_TOL, L_true=None, budget_s=None):
    """Principal component pursuit by the inexact augmented Lagrangian method (Candes, Li,
    Ma, Wright 2011, Algorithm 1): ``(L, iterations, converged, errors, seconds)``.
    ``errors[k]`` is ``||L_k - L_true||_F / ||L_true||_F`` and ``seconds[k]`` the time
    spent until iteration ``k`` ends, without the error evaluations (when ``L_true`` is
    given); stops early (not converged) after ``budget_s`` such seconds."""
    n1, n2 = M.shape
    lam = 1.0 / math.sqrt(max(n1, n2))
    mu = n1 * n2 / (4.0 * float(np.abs(M).sum()))
    S, Y = np.zeros_like(M), np.zeros_like(M)
    bound, errors, seconds, spent = tol * float(np.linalg.norm(M)), [], [], 0.0
    L, converged = np.zeros_like(M), False
    for _ in range(maxiter):
        t0 = time.perf_counter()
        P, s, Qt = np.linalg.svd(M - S + Y / mu, full_matrices=False)
        keep = s > 1.0 / mu
        L = (P[:, keep] * (s[keep] - 1.0 / mu)) @ Qt[keep]
        T = M - L + Y / mu
        S = np.sign(T) * np.maximum(np.abs(T) - lam / mu, 0.0)
        Z = M - L - S
        Y += mu * Z
        converged = float(np.linalg.norm(Z)) <= bound
        spent += time.perf_counter() - t0
        seconds.append(spent)
        if L_true is not None:
            errors.append(relative_error(L, L_true))
        if converged or (budget_s is not None and spent > budget_s):
            break
    return L, len(seconds), converged, errors, seconds


def tensorly_rpca(Y, n_iter_max, *, L_true=None):
    """tensorly's ``robust_pca`` (PCP, ``reg_E = 1/sqrt(n)``): the low-rank part; with
    ``L_true``, also the error of its singular-value-thresholded iterate ``J`` per
    iteration (recorded by wrapping tensorly's ``svd_thresholding``; untimed use only)."""
    import tensorly.decomposition.robust_decomposition as module

    errors, original = [], module.svd_thresholding

    def traced(matrix, threshold):
        out = original(matrix, threshold)
        if out.shape == L_true.shape and (len(errors) % 2 == 0 or out.shape[0] !=
                                          out.shape[1]):
            errors.append(relative_error(out, L_true))
        else:
            errors.append(None)
        return out

    if L_true is not None:
        module.svd_thresholding = traced
    try:
        D, _ = module.robust_pca(Y, reg_E=1.0 / math.sqrt(max(Y.shape)),
                                 n_iter_max=n_iter_max, verbose=0)
    finally:
        module.svd_thresholding = original
    return D if L_true is None else (D, [e for e in errors if e is not None])


def _tensorly_status():
    try:
        import tensorly
        from tensorly.decomposition import robust_pca  # noqa: F401
    except ImportError as exc:
        return None, f"not installed ({exc})"
    return tensorly, f"tensorly {tensorly.__version__} (backend {tensorly.get_backend()})"


def _first_below(errors, target=TARGET):
    """The 1-based iteration at which ``errors`` first reaches ``target`` (None if never)."""
    hits = np.flatnonzero(np.asarray(errors) <= target)
    return int(hits[0]) + 1 if hits.size else None


def _timed(trials, fn, *args, **kwargs):
    """``(median seconds, times, last output)`` of ``trials`` calls ``fn(*args, **kwargs)``
    (ConvergenceWarnings silenced: the tables show errors and iteration counts)."""
    from lowrank.exceptions import ConvergenceWarning

    times, out = [], None
    for _ in range(trials):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def _row(group, problem, solver, timing, error, **extra):
    seconds, times, _ = timing
    return {"group": group, "problem": problem, "solver": solver, "time_s": seconds,
            "times_s": times, "error": error, **extra}


def _say(log, text):
    if log is not None:
        print(text, file=log, flush=True)


# ---------------------------------------------------------------- 1. robust PCA


def _warm_up(tensorly):
    Y, L = rpca_problem((40, 30), 2, 1.0, np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours_rpca(Y, 2, maxiter=50)
        pcp(Y, maxiter=5, L_true=L)
        if tensorly is not None:
            tensorly_rpca(Y, 5, L_true=L)


def _rpca_group(cfg, log, tensorly):
    rows = []
    trials = cfg["rpca_trials"]
    for n, kappa in cfg["rpca_problems"]:
        problem = f"n={n}, κ={kappa:g}"
        Y, L = rpca_problem((n, n), RANK, kappa, np.random.default_rng([DATA_SEED, n,
                                                                        int(kappa)]))
        traced = ours_rpca(Y, RANK, X_true=L)
        reach = _first_below(traced.history["error"])
        timing = _timed(trials, ours_rpca, Y, RANK)
        rows.append(_row("rpca", problem, OURS, timing, relative_error(timing[2].X, L),
                         iterations=timing[2].n_iter))
        if reach is not None:
            timing = _timed(trials, ours_rpca, Y, RANK, maxiter=reach)
            rows.append(_row("rpca", problem, OURS_TO_TARGET, timing,
                             relative_error(timing[2].X, L), iterations=reach))
        rows += _pcp_rows(Y, L, problem, cfg["pcp_budget_s"])
        if tensorly is not None:
            rows += _tensorly_rows(Y, L, problem, cfg["tensorly_max_iter"])
        _say(log, f"robust: RPCA {problem} done")
    for row in rows:
        ref = [r for r in rows if r["problem"] == row["problem"]
               and r["solver"] == (OURS_TO_TARGET if "1e-6" in row["solver"] else OURS)]
        row["ratio"] = row["time_s"] / ref[0]["time_s"] if ref else None
    return rows


def _pcp_rows(Y, L, problem, budget_s):
    """One traced PCP run: its end, and its time to 1e-6 from its own clock."""
    L_hat, iterations, converged, errors, seconds = pcp(Y, L_true=L, budget_s=budget_s)
    note = None if converged else (
        f"not converged in {iterations} iterations" if iterations == PCP_MAXITER else
        f"stopped by its {budget_s:g} s budget")
    rows = [_row("rpca", problem, PCP, (seconds[-1], [seconds[-1]], None),
                 relative_error(L_hat, L), iterations=iterations, note=note)]
    reach = _first_below(errors)
    if reach is not None:
        at = seconds[reach - 1]
        rows.append(_row("rpca", problem, PCP_TO_TARGET, (at, [at], None), errors[reach - 1],
                         iterations=reach))
    return rows


def _tensorly_rows(Y, L, problem, max_iter):
    """tensorly with its defaults, then run to the first iteration whose iterate an untimed
    traced run found within 1e-6 (its low-rank part checked, and the run lengthened by
    10 % until it is)."""
    timing = _timed(1, tensorly_rpca, Y, TENSORLY_DEFAULT_ITER)
    rows = [_row("rpca", problem, TENSORLY, timing, relative_error(timing[2], L),
                 iterations=TENSORLY_DEFAULT_ITER)]
    reach = _first_below(tensorly_rpca(Y, max_iter, L_true=L)[1])
    for _ in range(5):
        if reach is None or reach > max_iter:
            break
        timing = _timed(1, tensorly_rpca, Y, reach)
        error = relative_error(timing[2], L)
        if error <= TARGET:
            rows.append(_row("rpca", problem, TENSORLY_TO_TARGET, timing, error,
                             iterations=reach))
            break
        reach = math.ceil(1.1 * reach)
    if len(rows) == 1:
        rows[0]["note"] = f"not within 1e-6 in {max_iter} iterations"
    return rows


# ---------------------------------------------------------------- 2. tall robust PCA


def _tall_group(cfg, log, tensorly):
    rows = []
    shape = cfg["tall_shape"]
    Y, L = rpca_problem(shape, RANK, 1.0, np.random.default_rng([DATA_SEED, *shape]))
    rows.append(_tall_run(f"{shape[0]}x{shape[1]}, κ=1", OURS + f", {cfg['tall_iterations']}"
                          " iterations", Y, L, ours_rpca, Y, RANK,
                          maxiter=cfg["tall_iterations"]))
    del Y, L
    _say(log, "robust: tall, ours at full height done")
    shape = cfg["tall_full_shape"]
    problem = f"{shape[0]}x{shape[1]}, κ=1"
    Y, L = rpca_problem(shape, RANK, 1.0, np.random.default_rng([DATA_SEED, *shape]))
    rows.append(_tall_run(problem, OURS, Y, L, ours_rpca, Y, RANK))
    budget = cfg["tall_pcp_budget_s"]
    row = _tall_run(problem, PCP, Y, L, pcp, Y, budget_s=budget)
    if not row.pop("converged"):
        row["note"] = (f"not converged in {row['iterations']} iterations"
                       if row["iterations"] == PCP_MAXITER else
                       f"stopped by its {budget:g} s budget")
    rows.append(row)
    del Y, L
    _say(log, "robust: tall, convergence runs done")
    if tensorly is not None:
        for height in cfg["tall_peer_heights"]:
            Y, L = rpca_problem((height, shape[1]), RANK, 1.0,
                                np.random.default_rng([DATA_SEED, height]))
            rows.append(_tall_run(f"{height}x{shape[1]}, κ=1",
                                  "tensorly robust_pca, 2 iterations", Y, L,
                                  tensorly_rpca, Y, 2))
        _say(log, "robust: tall, tensorly done")
    return rows


def _tall_run(problem, solver, Y, L, fn, *args, **kwargs):
    """One timed call with its peak resident memory (VmHWM after a reset)."""
    start = status_mb("VmRSS")
    reset = reset_peak_memory()
    timing = _timed(1, fn, *args, **kwargs)
    out = timing[2]
    if isinstance(out, np.ndarray):                       # tensorly: the low-rank part
        L_hat, iterations, converged = out, kwargs.get("n_iter_max", args[-1]), None
    elif isinstance(out, tuple):                          # pcp
        L_hat, iterations, converged = out[:3]
    else:
        L_hat, iterations, converged = out.X, out.n_iter, out.converged
    return _row("tall", problem, solver, timing, relative_error(L_hat, L),
                iterations=iterations, converged=converged,
                peak_mb=status_mb("VmHWM") if reset else None, start_mb=start,
                input_mb=Y.nbytes / 2**20)


# ---------------------------------------------------------------- 3. robust completion


def completion_problem(n, rng):
    """``(rows, cols, y, y_clean, L)``: RB2's sample with 5 % outliers."""
    L = low_rank((n, n), COMPLETION_RANK, COMPLETION_KAPPA, rng)
    count = 8 * COMPLETION_RANK * (2 * n - COMPLETION_RANK)
    while True:
        flat = rng.choice(n * n, size=count, replace=False)
        rows, cols = np.divmod(np.sort(flat), n)
        if (np.bincount(rows, minlength=n).min() >= COMPLETION_RANK
                and np.bincount(cols, minlength=n).min() >= COMPLETION_RANK):
            break
    clean = L[rows, cols]
    top = float(np.abs(L).max())
    y = clean.copy()
    hit = rng.choice(count, size=round(COMPLETION_OUTLIERS * count), replace=False)
    y[hit] += rng.uniform(-top, top, size=hit.size)
    return rows, cols, y, clean, L


def _completion_group(cfg, repeats, log):
    from lowrank.completion import altmin

    robust = _robust()
    n = cfg["completion_n"]
    rows_, cols_, y, clean, L = completion_problem(n, np.random.default_rng([DATA_SEED, n]))
    problem = f"{n}x{n}, r={COMPLETION_RANK}, |Ω|={rows_.size}, 5 % outliers"

    def ours():
        A = robust.EntryMeasurements(rows_, cols_, (n, n))
        return robust.subgradient_recovery(A, y, COMPLETION_RANK, symmetric=False, rng=0)

    def l2(values):
        return lambda: altmin((rows_, cols_, values), COMPLETION_RANK, shape=(n, n), rng=0)

    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solver, fn in ((OURS, ours), ("lowrank altmin (l2), corrupted", l2(y)),
                           ("lowrank altmin (l2), clean entries", l2(clean))):
            fn()                                                     # warm-up
            timing = _timed(repeats, fn)
            res = timing[2]
            X = res.U @ res.V.T
            out.append(_row("completion", problem, solver, timing, relative_error(X, L),
                            iterations=getattr(res, "n_iter", None)))
    _say(log, "robust: completion done")
    return out


# ---------------------------------------------------------------- 4. sensing


def _sensing_group(cfg, log):
    robust = _robust()
    n = cfg["sensing_n"]
    m = SENSING_FACTOR * n * SENSING_RANK
    out = []
    for fraction in cfg["sensing_fractions"]:
        rng = np.random.default_rng([DATA_SEED, n, round(100 * fraction)])
        L = low_rank((n, n), SENSING_RANK, SENSING_KAPPA, rng)
        A = robust.GaussianMeasurements(n, m, rng=rng, storage="dense")
        y0 = A(L)
        y = robust.corrupt(y0, fraction, magnitude=10 * float(np.abs(y0).max()), rng=rng)
        problem = f"n={n}, r={SENSING_RANK}, κ={SENSING_KAPPA:g}, m={m}, {fraction:.0%} outliers"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            robust.subgradient_recovery(A, y, SENSING_RANK, symmetric=False, rng=0,
                                        maxiter=20)                  # warm-up
            timing = _timed(1, robust.subgradient_recovery, A, y, SENSING_RANK,
                            symmetric=False, rng=0, X_true=L)
        res = timing[2]
        errors = np.asarray(res.history["error"])
        reach = _first_below(errors)
        out.append(_row("sensing", problem, OURS, timing, relative_error(res.X, L),
                        iterations=res.n_iter, reach_iterations=reach,
                        reach_s=None if reach is None else float(res.history["time"][reach - 1])))
        _say(log, f"robust: sensing {problem} done")
    return out


# ---------------------------------------------------------------- 5. time per iteration


def _per_iteration(res):
    return float(np.median(np.diff(np.asarray(res.history["time"]))))


def _scaling_group(cfg, log):
    robust = _robust()
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d, rank in cfg["scaling_sensing"]:
            rng = np.random.default_rng([DATA_SEED, d, rank])
            X = low_rank((d, d), 3, 1.0, rng)
            X = (X + X.T) / 2
            A = robust.GaussianMeasurements(d, 20 * d * 3, rng=rng)
            y = robust.corrupt(A(X), OUTLIERS, rng=rng)
            res = robust.subgradient_recovery(A, y, rank, rng=0, maxiter=SCALING_ITERATIONS)
            seconds = _per_iteration(res)
            out.append(_row("scaling", f"sensing d={d}, m={20 * d * 3}", f"{OURS}, r'={rank}",
                            (seconds, [seconds], res), None, storage=A.storage))
        for n in cfg["scaling_rpca"]:
            Y, _ = rpca_problem((n, n), RANK, 1.0, np.random.default_rng([DATA_SEED, n, 0]))
            res = ours_rpca(Y, RANK, maxiter=SCALING_ITERATIONS)
            seconds = _per_iteration(res)
            out.append(_row("scaling", f"RPCA n={n}", f"{OURS}, r'={RANK}",
                            (seconds, [seconds], res), None))
    _say(log, "robust: scaling done")
    return out


# ---------------------------------------------------------------- driver and report


def _targets(rows):
    targets = []
    for problem in dict.fromkeys(r["problem"] for r in rows if r["group"] == "rpca"):
        by = {r["solver"]: r for r in rows if r["problem"] == problem}
        ours, peer = by.get(OURS_TO_TARGET), by.get(TENSORLY_TO_TARGET)
        if ours is None:
            targets.append({"target": f"RPCA {problem}: ours reaches 1e-6",
                            "value": f"{by[OURS]['error']:.1e}", "passed": False})
        elif peer is not None:
            ratio = peer["time_s"] / ours["time_s"]
            targets.append({"target": f"RPCA {problem}: ours reaches 1e-6 faster than "
                                      "tensorly robust_pca",
                            "value": f"{ours['time_s']:.2f} s vs {peer['time_s']:.2f} s, "
                                     f"{ratio:.1f}x", "passed": ratio > 1.0})
    return targets


def main(quick=False, repeats=5, log=sys.stderr):
    """Run the benchmark; return ``{"name", "config", "rows", "peers", "targets",
    "machine", "load_average_start"}``.  Each row has the keys in ``ROW_FIELDS`` plus its
    group's columns; ``ratio`` (robust PCA) is the row's median time over ours (to 1e-6
    over ours to 1e-6)."""
    cfg = QUICK if quick else FULL
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    t_start = time.perf_counter()
    tensorly, tensorly_status = _tensorly_status()
    _warm_up(tensorly)
    rows = _rpca_group(cfg, log, tensorly)
    rows += _tall_group(cfg, log, tensorly)
    rows += _completion_group(cfg, repeats, log)
    rows += _sensing_group(cfg, log)
    rows += _scaling_group(cfg, log)
    return {
        "name": "robust",
        "config": {**{k: ([list(v) if isinstance(v, tuple) else v for v in val]
                          if isinstance(val, tuple) else val) for k, val in cfg.items()},
                   "repeats": repeats, "data_seed": DATA_SEED, "quick": quick,
                   "seconds": time.perf_counter() - t_start},
        "rows": rows,
        "peers": {"tensorly": tensorly_status},
        "targets": _targets(rows),
        "machine": machine_info(),
        "load_average_start": load_start,
    }


def _iterations(r):
    return fmt(r.get("iterations"))


def to_markdown(result):
    """Markdown tables + target list of a :func:`main` result."""
    c, rows = result["config"], result["rows"]
    group = {g: [r for r in rows if r["group"] == g]
             for g in ("rpca", "tall", "completion", "sensing", "scaling")}
    load = result.get("load_average_start")
    parts = [
        f"**robust: robust PCA** (RB3): n x n, r = {RANK}, singular values geometric from 1 "
        f"to 1/κ, {OUTLIERS:.0%} of the entries + 10 max|L| U[−1, 1]; ours: median of "
        f"{c['rpca_trials']} run(s), peers: one run, after a warm-up at a small size. \"to "
        "1e-6\": ours and tensorly run to the first iteration within 1e-6 (found in an "
        "untimed traced run; tensorly's by its thresholded iterate J, lengthened by 10 % "
        "until its output is within 1e-6); PCP: its own clock at that iteration (error "
        f"evaluations excluded; stopped at {c['pcp_budget_s']:g} s). Peer: "
        f"{result['peers']['tensorly']}, reg_E = 1/√n. time / ours: over ours (to 1e-6 over "
        "ours to 1e-6).",
        markdown_table(
            ["problem", "method", "median time (s)", "time / ours", "error", "iterations",
             "s / iteration", "note"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".2f"), fmt(r["ratio"], ".1f") + "x",
              fmt(r["error"], ".1e"), _iterations(r), fmt(r["time_s"] / r["iterations"], ".3f"),
              r.get("note") or "–"] for r in group["rpca"]]),
        "**robust: tall robust PCA**: one run each; peak = VmHWM after a reset before the "
        "call (the input and everything resident count); resident at start = VmRSS before "
        f"it. Ours at {c['tall_shape'][0]:,} rows for {c['tall_iterations']} iterations "
        "(time and memory per iteration; not converged), to convergence at "
        f"{c['tall_full_shape'][0]:,} rows; tensorly: 2 iterations at smaller heights, to "
        "show its memory growth.",
        markdown_table(
            ["problem", "method", "time (s)", "error", "iterations", "s / iteration",
             "input (MB)", "resident at start (MB)", "peak (MB)", "note"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".1f"), fmt(r["error"], ".1e"),
              _iterations(r), fmt(r["time_s"] / r["iterations"], ".3f"),
              fmt(r["input_mb"], ".0f"), fmt(r["start_mb"], ".0f"),
              fmt(r["peak_mb"], ".0f"), r.get("note") or "–"] for r in group["tall"]]),
        f"**robust: robust completion** (RB2): r = {COMPLETION_RANK}, κ = "
        f"{COMPLETION_KAPPA:g}, |Ω| = 8r(2n − r) uniform (≥ r per row and column), "
        f"{COMPLETION_OUTLIERS:.0%} of them + U[−max|L|, max|L|]; median of {c['repeats']} "
        "runs after a warm-up. RGNMR (eilon96/RGNMR) is not on PyPI: not run.",
        markdown_table(
            ["problem", "method", "median time (s)", "error", "iterations"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".2f"), fmt(r["error"], ".1e"),
              _iterations(r)] for r in group["completion"]]),
        "**robust: sensing** (ScaledGD `matrix_l1` configuration), asymmetric recovery with "
        "defaults, one run with `X_true` (the error in the history costs one n x n product "
        "per iteration, included in the time).",
        markdown_table(
            ["problem", "time (s)", "final error", "iterations", "iterations to 1e-6",
             "time to 1e-6 (s)"],
            [[r["problem"], fmt(r["time_s"], ".1f"), fmt(r["error"], ".1e"), _iterations(r),
              fmt(r.get("reach_iterations")), fmt(r.get("reach_s"), ".1f")]
             for r in group["sensing"]]),
        f"**robust: time per iteration** (median over {SCALING_ITERATIONS} iterations): "
        "symmetric Gaussian sensing (m = 60 d, 10 % outliers, storage as chosen by `auto`) "
        "and robust PCA.",
        markdown_table(
            ["problem", "method", "ms / iteration", "storage"],
            [[r["problem"], r["solver"], fmt(1e3 * r["time_s"], ".2f"), r.get("storage", "–")]
             for r in group["scaling"]]),
        (f"Run time {c['seconds']:.0f} s"
         + load_phrase(load) + "."),
        "Targets (SPEC 6):\n\n" + targets_markdown(result["targets"]),
    ]
    return "\n\n".join(parts)


if __name__ == "__main__":
    run_cli(__doc__, main, to_markdown)
