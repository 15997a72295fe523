"""F6: time of the subspace power method against the tensor's side (SPM paper, Fig. 2).

Noiseless symmetric tensors ``T = sum_i a_i^{(x) m}`` with ``A = randn(d, r) / sqrt(d)``
and unit weights (:func:`lowrank.testing.symmetric_cp_problem` with ``weights="ones"``,
which returns unit factors and absorbs their norms into the weights), decomposed by

- :func:`lowrank.tensor.subspace_power_method` with its defaults;
- tensorly's ALS, ``parafac(T, r, init="random", n_iter_max=5000, tol=1e-12,
  linesearch=True)`` (``papers/tensor_spm.md``, B1; it ignores the symmetry);
- tensorly's ``symmetric_parafac_power_iteration(T, r)`` with its defaults, the naive
  deflation baseline: unshifted power iterations on the full tensor, deflated by
  subtracting each found term (meant for orthogonally decomposable tensors, so it is
  expected to fail for ``r >= d``).

Two panels: (a) order 3 with ``r = d``, SPM given the rank; (b) order 4 with
``r = floor(d^2 / 3)``, SPM *not* given the rank (it estimates it from the flattening's
spectrum; ``rank_found`` records the estimate).  A run succeeds when
``||T - T_hat||_F / ||T||_F < 1e-8``.  Times are the median and the 20-80 % band over the
trials (the same tensors for every method), all on one thread (Numba and BLAS), after a
warm-up run of each method off the clock.

A method is dropped at the first size where its median time exceeds the scale's cap
(the paper's rule, 100 s, at the ``paper`` scale; a few seconds at ``small``); within a
size it stops as soon as more than half of its trials took longer than the cap (the
median is then above it whatever the others give).  A tensorly ``parafac`` run is also
cut at the cap (through its ``callback``): a cut run counts as a failure with its time.
tensorly is optional: without it its curves are skipped and ``data["note"]`` says so.

At the ``paper`` scale the sizes are those of the paper (d up to 300 for order 3, up to
55 for order 4, 20 trials): hours on 2 cores, mostly in the competitors until they are
dropped.
"""

import logging
import math
import time
import warnings

import numpy as np

from .._rng import check_rng, kernel_seed
from .._threads import single_threaded
from .._validation import check_option
from ..tensor import subspace_power_method
from ..testing import symmetric_cp_problem
from ._common import prepare_figure
from ._tensor_common import (
    TENSORLY_MISSING,
    band,
    load_tensorly,
    run_parafac,
    run_symmetric_power_iteration,
    trial_rng,
)

__all__ = ["n_steps", "plot", "rank_of", "run", "to_rows"]

logger = logging.getLogger(__name__)

FIGURE_ID = "F6"
TITLE = "tensor: SPM time vs side d (order 3, r = d; order 4, r = d²/3) vs tensorly"
#: Size of the figure in inches.
FIGURE_SIZE = (12, 8.5)

METHODS = ("spm", "parafac", "naive_power")
LABELS = {"spm": "SPM (lowrank)",
          "parafac": "tensorly parafac (ALS)",
          "naive_power": "tensorly naive deflation (symmetric power iteration)"}
COLORS = {"spm": "tab:blue", "parafac": "tab:orange", "naive_power": "tab:green"}
MARKERS = {"spm": "o", "parafac": "s", "naive_power": "^"}
#: A run succeeds when its relative error is below this.
SUCCESS = 1e-8
#: tensorly parafac's options (B1 of ``papers/tensor_spm.md``).
PARAFAC_OPTIONS = {"init": "random", "n_iter_max": 5000, "tol": 1e-12, "linesearch": True}
#: Columns of the CSV computed from wall-clock times (they differ from run to run).
TIMING_COLUMNS = ("time_median", "time_q20", "time_q80")

_SCALES = {
    # for the test suite only: seconds, nothing to read off
    "tiny": {"dims": {3: (5, 7), 4: (7,)}, "trials": 1, "cap": 60.0, "parafac_iter": 300},
    # about a minute on 2 cores: the competitors drop out after a size or two
    "small": {"dims": {3: (10, 18, 31, 55), 4: (10, 13, 18)}, "trials": 3, "cap": 2.0,
              "parafac_iter": PARAFAC_OPTIONS["n_iter_max"]},
    # papers/tensor_spm.md, Fig. 2a/2b: hours
    "paper": {"dims": {3: (10, 13, 18, 23, 31, 41, 55, 73, 97, 128, 170, 226, 300),
                       4: (10, 12, 13, 15, 18, 20, 23, 27, 31, 36, 41, 48, 55)},
              "trials": 20, "cap": 100.0, "parafac_iter": PARAFAC_OPTIONS["n_iter_max"]},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def rank_of(d, order):
    """The rank of the panel: ``d`` for order 3, ``floor(d^2 / 3)`` for order 4.

    Examples
    --------
    >>> from lowrank.experiments.spm_time_vs_size import rank_of
    >>> rank_of(31, 3), rank_of(10, 4), rank_of(55, 4)
    (31, 33, 1008)
    """
    return d if order == 3 else d * d // 3


def n_steps(scale="small"):
    """Number of (size, trial, method) units :func:`run` reports (dropped or skipped
    methods report theirs too).

    Examples
    --------
    >>> from lowrank.experiments.spm_time_vs_size import n_steps
    >>> n_steps("small")
    63
    """
    sizes = _sizes(scale)
    return sum(len(d) for d in sizes["dims"].values()) * sizes["trials"] * len(METHODS)


def _warm_up(tl):
    """Compile SPM's kernels (both orders) and load tensorly's code off the clock."""
    for order, d in ((3, 5), (4, 5)):
        p = symmetric_cp_problem(d, 4, order, rng=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            subspace_power_method(p.tensor, 4, rng=0)
    if tl is not None:
        p = symmetric_cp_problem(4, 3, 3, rng=0)
        run_parafac(tl, p.tensor, 3, init="random", n_iter_max=5, tol=1e-12, seed=0)
        run_symmetric_power_iteration(tl, p.tensor, 3, seed=0)


def _run_spm(T, rank, rng):
    """SPM on ``T`` (``rank=None``: estimated); ``(estimate, seconds, rank found)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a failed run shows in its error
        start = time.perf_counter()
        res = subspace_power_method(T, rank, rng=rng)
        elapsed = time.perf_counter() - start
    return res.to_tensor(), elapsed, res.rank


def _one(method, tl, T, rank, rank_given, seed, sizes):
    """``(estimate, seconds, cut, rank found)`` of one method on one tensor."""
    if method == "spm":
        estimate, elapsed, found = _run_spm(T, rank if rank_given else None, seed)
        return estimate, elapsed, False, found
    if method == "parafac":
        out = run_parafac(tl, T, rank, init=PARAFAC_OPTIONS["init"],
                          n_iter_max=sizes["parafac_iter"], tol=PARAFAC_OPTIONS["tol"],
                          linesearch=PARAFAC_OPTIONS["linesearch"], seed=seed,
                          time_limit=sizes["cap"])
        return out.estimate, out.time, out.cut, rank
    estimate, _, _, elapsed = run_symmetric_power_iteration(tl, T, rank, seed=seed)
    return estimate, elapsed, False, rank


def _panel(order, dims, sizes, tl, seed, progress):
    """Every method's runs at every side of one panel.

    The trials of a side run one tensor at a time (each method on it in turn), so that
    only one tensor is held (216 MB at d = 300).
    """
    n_trials, cap = sizes["trials"], sizes["cap"]
    shape = (len(METHODS), len(dims), n_trials)
    times, errors = np.full(shape, np.nan), np.full(shape, np.nan)
    cut = np.zeros(shape, dtype=bool)
    rank_found = np.full((len(dims), n_trials), -1, dtype=np.int64)
    status = np.full((len(METHODS), len(dims)), "ran", dtype=object)
    active = [m == "spm" or tl is not None for m in METHODS]
    for i, d in enumerate(dims):
        r = rank_of(d, order)
        for j in range(len(METHODS)):
            if not active[j]:
                missing = tl is None and METHODS[j] != "spm"
                status[j, i] = "unavailable" if missing else "dropped"
        running = list(active)
        for t in range(n_trials):
            T = symmetric_cp_problem(d, r, order, weights="ones",
                                     rng=trial_rng(seed, order, d, t)).tensor
            norm = np.linalg.norm(T)
            for j, method in enumerate(METHODS):
                if running[j]:
                    estimate, elapsed, was_cut, found = _one(
                        method, tl, T, r, order == 3,
                        kernel_seed(trial_rng(seed, order, d, t, j)), sizes)
                    times[j, i, t], cut[j, i, t] = elapsed, was_cut
                    errors[j, i, t] = np.linalg.norm(estimate - T) / norm
                    if method == "spm":
                        rank_found[i, t] = found
                    del estimate
                    # more than half the trials above the cap: so is the median
                    running[j] = 2 * int(np.sum(times[j, i] > cap)) <= n_trials
                if progress is not None:
                    progress(1)
            del T
        for j, method in enumerate(METHODS):
            if active[j] and np.nanmedian(times[j, i]) > cap:
                active[j] = False
                logger.info("F6: %s dropped after order %d, d = %d (median %.1f s > %g s)",
                            method, order, d, np.nanmedian(times[j, i]), cap)
    return {"order": order, "dims": np.asarray(dims),
            "ranks": np.array([rank_of(d, order) for d in dims]), "rank_given": order == 3,
            "time": times, "rel_error": errors, "cut": cut, "rank_found": rank_found,
            "status": status.astype(str)}


def run(scale="small", rng=0, progress=None):
    """Run F6: every method on ``trials`` random tensors per side and panel.

    Parameters
    ----------
    scale : {"small", "paper"}
        Problem sizes (see the module docstring).
    rng : None, int or numpy.random.Generator
        Seed of the tensors and of every method's random starts.
    progress : callable, optional
        Called with the number of (size, trial, method) units done, :func:`n_steps` in
        all.

    Returns
    -------
    dict
        ``panels``: one dict per panel with ``order``, ``dims``, ``ranks``,
        ``rank_given``, ``time`` and ``rel_error`` (``methods x sides x trials``, NaN
        where a method did not run), ``cut`` (parafac stopped at the cap),
        ``rank_found`` (SPM's rank, ``sides x trials``), ``status`` (``"ran"``,
        ``"dropped"`` or ``"unavailable"`` per method and side), ``median_time``,
        ``time_q20``, ``time_q80``, ``success_rate`` and ``n_run`` (``methods x
        sides``); and ``methods``, ``cap``, ``n_trials``, ``success_threshold``,
        ``tensorly`` (its version, ``""`` if missing), ``note``.
    """
    sizes = _sizes(scale)
    tl = load_tensorly()
    seed = kernel_seed(check_rng(rng))
    start = time.perf_counter()
    with single_threaded():
        _warm_up(tl)
        panels = [_panel(order, dims, sizes, tl, seed, progress)
                  for order, dims in sizes["dims"].items()]
    for panel in panels:
        panel["median_time"], panel["time_q20"], panel["time_q80"] = band(panel["time"])
        ran = np.isfinite(panel["rel_error"])
        panel["n_run"] = ran.sum(axis=-1)
        success = np.where(ran, panel["rel_error"] < SUCCESS, False).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            panel["success_rate"] = np.where(panel["n_run"] > 0,
                                             success / panel["n_run"], np.nan)
    logger.info("F6 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {"figure": FIGURE_ID, "scale": scale, "methods": list(METHODS),
            "n_trials": sizes["trials"], "cap": sizes["cap"], "success_threshold": SUCCESS,
            "parafac_options": {**PARAFAC_OPTIONS, "n_iter_max": sizes["parafac_iter"]},
            "tensorly": "" if tl is None else tl.__version__,
            "note": TENSORLY_MISSING if tl is None else "", "panels": panels}


def to_rows(data):
    """One CSV row per (panel, method, side)."""
    rows = []
    for panel in data["panels"]:
        for j, method in enumerate(data["methods"]):
            for i, d in enumerate(panel["dims"]):
                errors = panel["rel_error"][j, i]
                ran = np.isfinite(errors)
                found = panel["rank_found"][i][panel["rank_found"][i] >= 0]
                rows.append({
                    "order": panel["order"], "d": int(d), "rank": int(panel["ranks"][i]),
                    "rank_given_to_spm": panel["rank_given"], "method": method,
                    "status": str(panel["status"][j, i]), "n_run": int(panel["n_run"][j, i]),
                    "success_rate": float(panel["success_rate"][j, i]),
                    "rel_error_median": float(np.median(errors[ran])) if ran.any()
                    else math.nan,
                    "rel_error_max": float(np.max(errors[ran])) if ran.any() else math.nan,
                    "cut_runs": int(panel["cut"][j, i].sum()),
                    "spm_rank_found": (" ".join(str(int(k)) for k in found)
                                       if method == "spm" else ""),
                    "time_median": float(panel["median_time"][j, i]),
                    "time_q20": float(panel["time_q20"][j, i]),
                    "time_q80": float(panel["time_q80"][j, i]),
                })
    return rows


def _panel_title(panel, letter):
    if panel["order"] == 3:
        return f"({letter}) order 3, r = d, SPM given r"
    return f"({letter}) order 4, r = ⌊d²/3⌋, SPM estimates r"


def plot(data, *, fig=None):
    """Draw F6: time against d (log-log, median and 20-80 % band) on the top row, the
    success rate against d on the bottom row, one column per order.

    Parameters
    ----------
    data : dict
        The output of :func:`run`.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into; a new one (no pyplot state) by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = prepare_figure(fig, FIGURE_SIZE)
    axes = fig.subplots(2, len(data["panels"]), squeeze=False)
    cap = data["cap"]
    for a, panel in enumerate(data["panels"]):
        top, bottom = axes[0, a], axes[1, a]
        dims = panel["dims"].astype(float)
        for j, method in enumerate(data["methods"]):
            med = panel["median_time"][j]
            if not np.any(np.isfinite(med)):
                continue
            color, marker = COLORS.get(method), MARKERS.get(method, "o")
            rate = panel["success_rate"][j]
            overall = np.nansum(rate * panel["n_run"][j]) / max(panel["n_run"][j].sum(), 1)
            label = f"{LABELS.get(method, method)}: {100 * overall:.0f} % success"
            dropped = np.flatnonzero(panel["status"][j] == "dropped")
            if dropped.size and dropped[0] > 0:
                label += f", dropped after d = {int(dims[dropped[0] - 1])}"
            top.plot(dims, med, marker=marker, color=color, lw=1.5, label=label)
            top.fill_between(dims, panel["time_q20"][j], panel["time_q80"][j], color=color,
                             alpha=0.2, lw=0)
            bottom.plot(dims, 100 * rate, marker=marker, color=color, lw=1.5, label=label)
        top.axhline(cap, color="0.4", ls="--", lw=1)
        top.annotate(f"cap {cap:g} s: a method is dropped once its median exceeds it",
                     (0.01, cap), xycoords=("axes fraction", "data"),
                     textcoords="offset points", xytext=(0, 3), fontsize=8, color="0.3")
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.set_xticks(dims, [f"{int(d)}" for d in dims])
            ax.minorticks_off()
            ax.grid(True, alpha=0.3)
        top.set_yscale("log")
        top.set_title(_panel_title(panel, "ab"[a] if a < 2 else str(a)), fontsize=10)
        top.set_ylabel("time (s): median, 20-80 % band")
        bottom.set_ylim(-5, 105)
        bottom.set_xlabel("side d")
        bottom.set_ylabel(f"success (%): ‖T − T̂‖/‖T‖ < {data['success_threshold']:g}")
        bottom.legend(loc="center left", fontsize=8)
        if data["note"]:
            bottom.text(0.02, 0.62, data["note"], transform=bottom.transAxes, fontsize=8,
                        bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    trials = f"{data['n_trials']} trial" + ("s" if data["n_trials"] != 1 else "")
    fig.suptitle(
        f"F6: SPM vs tensorly on noiseless symmetric tensors (A = randn(d, r)/√d, unit "
        f"weights)\n{trials} per d, the same tensors for every method, one thread",
        fontsize=10.5)
    return fig
