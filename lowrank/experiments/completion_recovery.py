"""F5: recovery by alternating minimization, robust versus exact.

Synthetic incoherent rank-k matrices ``M = U diag(s) V^T`` (Haar ``U``, ``V``, singular
values geometric from 1 to ``1/κ``), observed on entries drawn uniformly without
duplicates (:func:`~lowrank.experiments.completion_sweep_time.incoherent_factors`,
:func:`~lowrank.experiments.completion_sweep_time.sample_entries`).  The error is always
measured on held-out entries of ``M`` drawn the same way, disjoint from the observed ones:
``‖P_T(U V^T − M)‖ / ‖P_T(M)‖`` over a sample ``T``.  It is never obtained by expanding
``‖U V^T − M‖_F`` in factored form, which loses accuracy to cancellation near 1e-13.

(a) Relative error against the sweep for ``method="exact"`` and ``method="robust"`` at
    κ = 3 and κ = 100, with ``|Ω| = 4 n k ln n`` (``papers/completion_altmin.md``, F-G2):
    the robust method's inexact row solves (CG to 1e-3 of the warm start's residual) must
    follow the exact iterates down to the same accuracy.  The robust method solves a row
    by Cholesky when that is predicted cheaper than its CG steps, which at
    ``|Ω_i| = 4 k ln n`` is the case for every row below k of about 30; the rank of (a)
    is chosen above that (k = 32 at the ``small`` scale), so that CG does the work; a
    third curve forces CG on every row (``cg_rows="all"``, the paper's algorithm).
(b) Phase transition (F-G4, without the analysis' sample splitting and clipping): the
    fraction of trials with held-out relative error at most 1e-6 against the samples per
    row divided by ``k ln n``, for several ranks k (κ = 3), for the default robust
    method and with CG forced on every row.  Near the transition the rows have so few
    observations that the default solves nearly all of them by Cholesky, i.e. it runs
    the exact iteration (the share is
    recorded and printed on the panel).  A trial whose sample leaves a row or column with
    fewer than k observations cannot determine its factors (``altmin`` refuses it without
    a ridge) and counts as a failure.
"""

import logging
import math
import time
import warnings

import numpy as np

from .._rng import check_rng
from .._threads import single_threaded
from .._validation import check_option
from ..completion import altmin
from ..exceptions import ConvergenceWarning
from ._common import prepare_figure
from .completion_sweep_time import factor_entries, incoherent_factors, sample_entries

__all__ = ["n_steps", "plot", "relative_error", "run", "to_rows"]

logger = logging.getLogger(__name__)

#: Size of the figure in inches.
FIGURE_SIZE = (15, 5.2)

FIGURE_ID = "F5"
TITLE = "matrix completion: error vs sweep and recovery phase transition, robust vs exact"

#: "robust" is the default hybrid (a row by Cholesky when predicted cheaper than CG);
#: "robust_cg" forces CG on every row (``cg_rows="all"``), the paper's algorithm.
METHODS = ("exact", "robust", "robust_cg")
#: Methods of panel (b): near the transition every row has so few observations that the
#: default robust method solves each one by Cholesky (predicted cheaper than CG), which
#: gives the exact method's iterates, so exact itself is left out; the forced-CG curve
#: shows whether inexact updates recover from as few samples.
PHASE_METHODS = ("robust", "robust_cg")
_OPTIONS = {"exact": {"method": "exact"}, "robust": {"method": "robust"},
            "robust_cg": {"method": "robust", "cg_rows": "all"}}
LABELS = {"exact": "exact", "robust": "robust (default)", "robust_cg": "robust, CG forced"}
COLORS = {"exact": "black", "robust": "tab:blue", "robust_cg": "tab:orange"}
MARKERS = {"exact": "s", "robust": "o", "robust_cg": "^"}
LINESTYLES = {"exact": "--", "robust": "-", "robust_cg": ":"}
#: Condition numbers of panel (a).
CONDS = (3.0, 100.0)
#: Condition number of panel (b).
PHASE_COND = 3.0
#: A trial of panel (b) succeeds when its held-out relative error is at most this.
SUCCESS = 1e-6
#: Stopping tolerances of ``altmin`` (observed relative residual) in panels (a) and (b).
TOL = 1e-12
PHASE_TOL = 1e-10
#: Errors below this are drawn at it.
_PLOT_FLOOR = 1e-16
#: CSV columns holding wall-clock times.
TIMING_COLUMNS = ("sweep_time",)

_SCALES = {
    # "tiny" is for the test suite only: seconds, too small to read anything off.
    "tiny": {"conv": {"n": 300, "rank": 4, "factor": 4.0, "n_test": 2000, "maxiter": 30},
             "phase": {"n": 150, "ranks": (2, 4), "ratios": (0.5, 1.0, 2.0), "trials": 2,
                       "n_test": 1000, "maxiter": 30}},
    # about 40 s on 2 cores (one thread)
    # k = 32 in (a): below about 30 the robust method finds Cholesky cheaper than CG on
    # every row at |Ω_i| = 4 k ln n, and the comparison would be empty
    "small": {"conv": {"n": 2000, "rank": 32, "factor": 4.0, "n_test": 20000,
                       "maxiter": 40},
              "phase": {"n": 800, "ranks": (2, 4, 8, 16),
                        "ratios": (0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0), "trials": 5,
                        "n_test": 5000, "maxiter": 50}},
    # papers/completion_altmin.md (F-G2) has n = 4000, k = 20; k = 48 here (see "small")
    "paper": {"conv": {"n": 4000, "rank": 48, "factor": 4.0, "n_test": 20000,
                       "maxiter": 60},
              "phase": {"n": 2000, "ranks": (2, 4, 8, 16, 32),
                        "ratios": (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0),
                        "trials": 10, "n_test": 10000, "maxiter": 60}},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def relative_error(result, rows, cols, values):
    """``‖P_T(U V^T − M)‖ / ‖P_T(M)‖`` on the held-out entries ``values = M[rows, cols]``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.completion import altmin
    >>> from lowrank.experiments.completion_recovery import relative_error
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((60, 2)) @ rng.standard_normal((2, 50))
    >>> mask = rng.random(M.shape) < 0.5
    >>> res = altmin(np.where(mask, M, np.nan), 2, rng=0)
    >>> rows, cols = np.nonzero(~mask)
    >>> bool(relative_error(res, rows, cols, M[rows, cols]) < 1e-8)
    True
    """
    return float(np.linalg.norm(result.predict(rows, cols) - values)
                 / np.linalg.norm(values))


def _problem(n, rank, cond, n_observed, n_test, rng):
    """Observed and held-out entries of an incoherent n x n rank-``rank`` matrix."""
    factor_rng, sample_rng = rng.spawn(2)
    L, R = incoherent_factors((n, n), rank, cond, factor_rng)
    rows, cols = sample_entries((n, n), n_observed + n_test, sample_rng)
    values = factor_entries(L, R, rows, cols)
    seen = slice(0, n_observed)
    order = np.argsort(rows[seen] * n + cols[seen])  # row-major: as_observations' fast path
    observed = (rows[seen][order], cols[seen][order], values[seen][order])
    held_out = (rows[n_observed:], cols[n_observed:], values[n_observed:])
    return observed, held_out, np.linalg.norm(L, axis=0)


def _cholesky_fraction(res, method, n_solved):
    """Per sweep, the fraction of rows and columns solved by Cholesky (1 for exact)."""
    if method == "exact":
        return np.ones(res.n_iter)
    return np.asarray(res.history["exact_rows"], dtype=float) / n_solved


def _altmin(observed, n, rank, method, maxiter, tol, validation=None):

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the errors tell the story
        return altmin(observed, rank, shape=(n, n), maxiter=maxiter, tol=tol,
                      validation=validation, rng=0, **_OPTIONS[method])


def n_steps(scale="small"):
    """Number of ``altmin`` runs :func:`run` performs (the progress total).

    Examples
    --------
    >>> from lowrank.experiments.completion_recovery import n_steps
    >>> n_steps("small")
    326
    """
    sizes = _sizes(scale)
    phase = sizes["phase"]
    cells = len(phase["ranks"]) * len(phase["ratios"]) * phase["trials"]
    return len(METHODS) * len(CONDS) + len(PHASE_METHODS) * cells


def _convergence(cfg, root, progress):
    n, rank, maxiter = cfg["n"], cfg["rank"], cfg["maxiter"]
    n_observed = round(cfg["factor"] * n * rank * math.log(n))
    shape = (len(CONDS), len(METHODS), maxiter)
    out = {key: np.full(shape, np.nan) for key in ("error", "sweep_time", "steps",
                                                   "solver_tol", "cholesky")}
    n_iter = np.zeros((len(CONDS), len(METHODS)), dtype=np.int64)
    spectra = np.empty((len(CONDS), rank))
    for c, (cond, cond_rng) in enumerate(zip(CONDS, root.spawn(len(CONDS)), strict=True)):
        observed, held_out, spectra[c] = _problem(n, rank, cond, n_observed, cfg["n_test"],
                                                  cond_rng)
        scale = math.sqrt(float(np.mean(held_out[2] ** 2)))
        for j, method in enumerate(METHODS):
            res = _altmin(observed, n, rank, method, maxiter, TOL, validation=held_out)
            h = res.history
            n_iter[c, j] = res.n_iter
            out["error"][c, j, :res.n_iter] = np.asarray(h["validation_rmse"]) / scale
            out["sweep_time"][c, j, :res.n_iter] = h["sweep_time"]
            out["steps"][c, j, :res.n_iter] = h["mean_inner_steps"]
            out["solver_tol"][c, j, :res.n_iter] = h["solver_tol"]
            out["cholesky"][c, j, :res.n_iter] = _cholesky_fraction(res, method, 2 * n)
            logger.info("F5 (a) kappa=%g %s: %d sweeps, final error %.2e", cond, method,
                        res.n_iter, out["error"][c, j, res.n_iter - 1])
            if progress is not None:
                progress(1)
    return {"conv_n": n, "conv_rank": rank, "conv_n_observed": n_observed,
            "conv_n_test": cfg["n_test"], "conv_error": out["error"],
            "conv_sweep_time": out["sweep_time"], "conv_steps": out["steps"],
            "conv_solver_tol": out["solver_tol"], "conv_cholesky": out["cholesky"],
            "conv_n_iter": n_iter,
            "conv_singular_values": spectra}


def _phase(cfg, root, progress):
    n, ranks, ratios = cfg["n"], cfg["ranks"], cfg["ratios"]
    trials, maxiter = cfg["trials"], cfg["maxiter"]
    shape = (len(PHASE_METHODS), len(ranks), len(ratios), trials)
    error = np.full(shape, np.inf)
    cholesky = np.full(shape, np.nan)
    sweeps = np.zeros(shape, dtype=np.int64)
    undetermined = np.zeros(shape, dtype=bool)
    per_row = np.empty((len(ranks), len(ratios)), dtype=np.int64)
    for i, (rank, rank_rng) in enumerate(zip(ranks, root.spawn(len(ranks)), strict=True)):
        for r, (ratio, ratio_rng) in enumerate(zip(ratios, rank_rng.spawn(len(ratios)),
                                                   strict=True)):
            n_observed = round(ratio * rank * math.log(n) * n)
            per_row[i, r] = round(n_observed / n)
            for t, trial_rng in enumerate(ratio_rng.spawn(trials)):
                observed, held_out, _ = _problem(n, rank, PHASE_COND, n_observed,
                                                 cfg["n_test"], trial_rng)
                for j, method in enumerate(PHASE_METHODS):
                    try:
                        res = _altmin(observed, n, rank, method, maxiter, PHASE_TOL)
                    except ValueError:  # a row or column with fewer than k observations
                        undetermined[j, i, r, t] = True
                    else:
                        error[j, i, r, t] = relative_error(res, *held_out)
                        sweeps[j, i, r, t] = res.n_iter
                        cholesky[j, i, r, t] = np.mean(_cholesky_fraction(res, method,
                                                                          2 * n))
                    if progress is not None:
                        progress(1)
            logger.info("F5 (b) k=%d, ratio %g: success %s", rank, ratio,
                        np.mean(error[:, i, r] <= SUCCESS, axis=-1).tolist())
    return {"phase_methods": list(PHASE_METHODS), "phase_n": n,
            "phase_ranks": np.asarray(ranks, dtype=np.int64),
            "phase_ratios": np.asarray(ratios, dtype=float), "phase_trials": trials,
            "phase_per_row": per_row, "phase_error": error, "phase_sweeps": sweeps,
            "phase_undetermined": undetermined, "phase_cholesky": cholesky,
            "phase_success": np.mean(error <= SUCCESS, axis=-1)}


def run(scale="small", rng=0, progress=None):
    """Measure the error per sweep (panel a) and the recovery rate (panel b).

    Parameters
    ----------
    scale : {"small", "paper"}
        ``"small"``: (a) n = m = 2000, k = 32, ``|Ω| = 4 n k ln n``; (b) n = m = 800,
        k in {2, 4, 8, 16}, 8 sample sizes, 5 trials each (about 40 s on 2 cores).
        ``"paper"``: (a) n = m = 4000, k = 48; (b) n = m = 2000, k up to 32, 9 sample
        sizes, 10 trials (tens of minutes).  ``"tiny"`` exists for the test suite only.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness: each κ of (a) and each (k, sample size, trial) of (b) has
        its own sub-stream, so the same ``rng`` gives identical data (except the times).
        Both methods of (a) see the same problem.
    progress : callable, optional
        Called with 1 after each ``altmin`` run; the total is :func:`n_steps`.

    Returns
    -------
    dict
        ``"figure"``, ``"scale"``, ``"methods"``, ``"conds"``, ``"phase_cond"``,
        ``"success_threshold"``, ``"tol"``.  Panel (a): ``"conv_n"``, ``"conv_rank"``,
        ``"conv_n_observed"``, ``"conv_n_test"``; ``"conv_error"`` (held-out relative
        error), ``"conv_sweep_time"``, ``"conv_steps"`` (mean CG steps per row solved
        by CG), ``"conv_cholesky"`` (fraction of rows and columns solved by Cholesky) and
        ``"conv_solver_tol"`` of shape (conds, methods, maxiter), NaN after the last
        sweep; ``"conv_n_iter"`` (conds, methods); ``"conv_singular_values"`` (conds,
        rank).  Panel (b): ``"phase_methods"`` (:data:`PHASE_METHODS`), ``"phase_n"``,
        ``"phase_ranks"``, ``"phase_ratios"`` (samples per row / (k ln n)),
        ``"phase_trials"``, ``"phase_per_row"`` (ranks, ratios); ``"phase_error"`` (inf
        when undetermined), ``"phase_sweeps"``, ``"phase_cholesky"`` (NaN when
        undetermined) and ``"phase_undetermined"`` of shape (phase methods, ranks,
        ratios, trials); ``"phase_success"`` (phase methods, ranks, ratios).

    Examples
    --------
    >>> from lowrank.experiments import completion_recovery as f5
    >>> data = f5.run("tiny", rng=0)
    >>> data["conv_error"].shape, data["phase_success"].shape
    ((2, 3, 30), (2, 2, 3))
    """
    sizes = _sizes(scale)
    conv_rng, phase_rng = check_rng(rng).spawn(2)
    start = time.perf_counter()
    with single_threaded():
        conv = _convergence(sizes["conv"], conv_rng, progress)
        phase = _phase(sizes["phase"], phase_rng, progress)
    logger.info("F5 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {"figure": FIGURE_ID, "scale": scale, "methods": list(METHODS),
            "conds": np.asarray(CONDS), "phase_cond": PHASE_COND,
            "success_threshold": SUCCESS, "tol": TOL, **conv, **phase}


_ROW_KEYS = ("panel", "method", "cond", "n", "rank", "n_observed", "per_row",
             "samples_ratio", "sweep", "rel_error", "sweep_time", "mean_cg_steps",
             "cholesky_fraction", "solver_tol", "trials", "success_rate",
             "median_rel_error", "undetermined", "median_sweeps")


def to_rows(data):
    """CSV rows: one per (κ, method, sweep) of panel (a) (``panel = "convergence"``) and
    one per (method, k, sample size) of panel (b) (``panel = "phase"``); the columns of
    the other panel are NaN.

    Examples
    --------
    >>> from lowrank.experiments import completion_recovery as f5
    >>> data = f5.run("tiny", rng=0)
    >>> rows = f5.to_rows(data)
    >>> sorted({row["panel"] for row in rows}), len({tuple(row) for row in rows})
    (['convergence', 'phase'], 1)
    """
    nan = math.nan
    rows = []
    for c, cond in enumerate(data["conds"]):
        for j, method in enumerate(data["methods"]):
            for s in range(int(data["conv_n_iter"][c, j])):
                rows.append(dict.fromkeys(_ROW_KEYS, nan) | {
                    "panel": "convergence", "method": method, "cond": float(cond),
                    "n": data["conv_n"], "rank": data["conv_rank"],
                    "n_observed": data["conv_n_observed"],
                    "per_row": data["conv_n_observed"] / data["conv_n"],
                    "samples_ratio": data["conv_n_observed"] / (
                        data["conv_n"] * data["conv_rank"] * math.log(data["conv_n"])),
                    "sweep": s + 1, "rel_error": float(data["conv_error"][c, j, s]),
                    "sweep_time": float(data["conv_sweep_time"][c, j, s]),
                    "mean_cg_steps": float(data["conv_steps"][c, j, s]),
                    "cholesky_fraction": float(data["conv_cholesky"][c, j, s]),
                    "solver_tol": float(data["conv_solver_tol"][c, j, s]),
                })
    n = data["phase_n"]
    for j, method in enumerate(data["phase_methods"]):
        for i, rank in enumerate(data["phase_ranks"]):
            for r, ratio in enumerate(data["phase_ratios"]):
                err = data["phase_error"][j, i, r]
                rows.append(dict.fromkeys(_ROW_KEYS, nan) | {
                    "panel": "phase", "method": method, "cond": data["phase_cond"], "n": n,
                    "rank": int(rank), "n_observed": int(data["phase_per_row"][i, r]) * n,
                    "per_row": float(data["phase_per_row"][i, r]),
                    "samples_ratio": float(ratio), "trials": data["phase_trials"],
                    "success_rate": float(data["phase_success"][j, i, r]),
                    "median_rel_error": float(np.median(err)),
                    "undetermined": int(np.sum(data["phase_undetermined"][j, i, r])),
                    "median_sweeps": float(np.median(data["phase_sweeps"][j, i, r])),
                    "cholesky_fraction": float(np.nanmean(data["phase_cholesky"][j, i, r]))
                    if np.any(np.isfinite(data["phase_cholesky"][j, i, r])) else nan,
                })
    return rows


def _draw_convergence(ax, data, c):
    cond = float(data["conds"][c])
    for j, method in enumerate(data["methods"]):
        k = int(data["conv_n_iter"][c, j])
        err = np.maximum(data["conv_error"][c, j, :k], _PLOT_FLOOR)
        per_sweep = 1e3 * float(np.median(data["conv_sweep_time"][c, j, 1:k]))
        label = f"{LABELS[method]}: {k} sweeps, {per_sweep:.0f} ms/sweep"
        if method != "exact":
            chol = float(np.mean(data["conv_cholesky"][c, j, 1:k]))
            steps = data["conv_steps"][c, j, 1:k]
            label += (f",\n  {np.mean(steps):.1f} CG steps/row" if chol < 1
                      else ",\n  every row by Cholesky")
            if 0.005 <= chol < 1:
                label += f", {100 * chol:.0f}% of rows by Cholesky"
        ax.semilogy(np.arange(1, k + 1), err, color=COLORS[method], marker=MARKERS[method],
                    ms=6 if method == "exact" else 4, ls=LINESTYLES[method], lw=1.4,
                    mfc="none" if method == "exact" else None, label=label)
    ax.axhline(SUCCESS, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("sweep")
    n, k = data["conv_n"], data["conv_rank"]
    ax.set_title(f"(a{c + 1}) κ = {cond:g}: n = m = {n:,}, k = {k}, |Ω| = 4 n k ln n = "
                 f"{data['conv_n_observed']:,}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8.5)


def _draw_phase(ax, data):
    from matplotlib.lines import Line2D  # here: Matplotlib is needed by plot() only

    ratios = np.asarray(data["phase_ratios"], dtype=float)
    colors = ("tab:purple", "tab:green", "tab:orange", "tab:red", "tab:brown", "tab:cyan")
    methods = data["phase_methods"]
    for i in range(len(data["phase_ranks"])):
        color = colors[i % len(colors)]
        for j, method in enumerate(methods):
            ax.plot(ratios, data["phase_success"][j, i], color=color, ls=LINESTYLES[method],
                    marker=MARKERS[method], ms=4, lw=1.1 if method == "exact" else 1.4,
                    mfc="none" if method == "exact" else None)
    ax.set_xscale("log", base=2)
    ax.set_xticks(ratios, [f"{x:g}" for x in ratios])
    ax.set_ylim(-0.04, 1.04)
    ax.set_xlabel("samples per row / (k ln n)")
    ax.set_ylabel(f"P(held-out relative error ≤ {SUCCESS:g})")
    ax.set_title(f"(b) recovery: n = m = {data['phase_n']:,}, κ = {data['phase_cond']:g}, "
                 f"{data['phase_trials']} trials per point", fontsize=10)
    ax.grid(True, alpha=0.3)
    handles = [Line2D([], [], color=colors[i % len(colors)], lw=2, label=f"k = {int(k)}")
               for i, k in enumerate(data["phase_ranks"])]
    if len(methods) > 1:
        handles += [Line2D([], [], color="0.3", ls=LINESTYLES[m], marker=MARKERS[m],
                           mfc="none" if m == "exact" else None, label=LABELS[m])
                    for m in methods]
    ax.legend(handles=handles, loc="center left", fontsize=8.5)
    lines = []
    for j, method in enumerate(methods):
        chol = data["phase_cholesky"][j]
        if method != "exact" and np.any(np.isfinite(chol)):
            lines.append(f"{LABELS[method]}: {100 * np.nanmean(chol):.0f}%")
    if lines:
        ax.text(0.97, 0.03, "rows solved by Cholesky\n" + "\n".join(lines),
                transform=ax.transAxes, va="bottom", ha="right", fontsize=8.5,
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})


def plot(data, *, fig=None):
    """Draw F5: error per sweep at each κ (panels a) and the recovery rate (panel b).

    Parameters
    ----------
    data : dict
        The output of :func:`run`.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into; a new :class:`matplotlib.figure.Figure` (no pyplot state)
        by default.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from lowrank.experiments import completion_recovery as f5
    >>> fig = f5.plot(f5.run("tiny", rng=0))
    >>> len(fig.axes)
    3
    """
    fig = prepare_figure(fig, FIGURE_SIZE)
    axes = fig.subplots(1, len(data["conds"]) + 1, squeeze=False)[0]
    for c in range(len(data["conds"])):
        _draw_convergence(axes[c], data, c)
    axes[0].set_ylabel("held-out relative error ‖P_T(UVᵀ − M)‖ / ‖P_T(M)‖")
    _draw_phase(axes[-1], data)
    fig.suptitle(
        "F5: AltMin on incoherent rank-k matrices with a geometric spectrum, entries sampled "
        f"uniformly without duplicates\n(a) error on {data['conv_n_test']:,} held-out entries "
        f"per sweep, tol = {data['tol']:g}; (b) success = held-out relative error ≤ "
        f"{data['success_threshold']:g}\nrobust = QR-preconditioned CG to 1e-3 of the warm "
        "start's residual per row (default: Cholesky where cheaper; forced: CG on every row)",
        fontsize=10.5)
    return fig
