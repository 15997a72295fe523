"""F1: l_inf error of sketch-and-solve least squares versus the sketch size.

For ``x* = argmin ||A x - b||`` with residual ``r = b - A x*`` and the sketch-and-solve
solution ``x' = argmin ||S (A x - b)||``, the figure shows the normalized coordinate-wise
error

    R_inf = sqrt(d) ||x' - x*||_inf / (||r|| ||A^+||)

(the l_inf guarantee of Song, Ye, Yin and Zhang (ICML 2023) reads ``R_inf <= eps``) and
the l_2 error ``R_2 = ||x' - x*||_2 / (||r|| ||A^+||)`` against ``m / d``, for Gaussian,
SRHT, sparse sign (k = 1 i.e. CountSketch, k = 4, k = 8), uniform row sampling and exact
leverage-score row sampling, on two instances:

(a) generic: ``A = U diag(s) V^T`` with Haar ``U``, ``V``, condition number 10^3 and
    ``r`` orthogonal to range(A);
(b) adversarial "block + spike": column j of A equals ``1/sqrt(k)`` on rows
    ``jk, ..., (j+1)k - 1`` and ``r = e_{n-1}``, a residual spike outside the support,
    with ``x* = (1, ..., 1) / sqrt(d)`` so that ``||A x*|| = ||r|| = 1``.

Dense sketches follow ``R_inf ~ sqrt(d / m)``; CountSketch fails on (b) with probability
about ``1 - exp(-d k / m)`` (the spike shares a bucket with the support), with an error
about ``sqrt(d / k)`` that does not shrink with m; row samplers on (b) are exact unless
they miss a block, which costs ``R_inf = 1``.  The overlays are the Gaussian rate
``sqrt(2 d ln(4 d / delta) / m)`` (the leading term of the proven bound) and the
paper's rate ``sqrt(d log^3(n / delta) / m)``.  See ``papers/sketching_regression.md``
(F1).
"""

import logging
import time

import numpy as np

from .._rng import check_rng
from .._threads import single_threaded
from .._validation import check_option
from ._common import prepare_figure
from ._linf_trials import BLOCK_SIZE, FAMILIES, family_trials, make_instance

__all__ = ["gaussian_rate", "n_steps", "paper_rate", "plot", "run", "summarize", "to_rows"]

logger = logging.getLogger(__name__)

#: Size of the figure in inches.
FIGURE_SIZE = (12, 8.5)

FIGURE_ID = "F1"
TITLE = "l_inf error of sketch-and-solve vs sketch size"

#: Failure probability of the two overlay curves, matching the top of the 5-95 % band.
DELTA = 0.05
PANELS = ("generic", "block_spike")
PANEL_TITLES = {
    "generic": "(a) generic: Haar U, V, κ = 10³, r ⊥ range(A)",
    "block_spike": f"(b) block (k = {BLOCK_SIZE}) + spike r = e_(n-1)",
}

_SCALES = {
    # "tiny" is for the test suite only: seconds, too few trials to read anything off.
    "tiny": {"n": 1024, "d": 16, "n_trials": 20, "ratios": (2, 4, 16)},
    "small": {"n": 4096, "d": 32, "n_trials": 40, "ratios": (2, 4, 8, 16, 32, 64)},
    "paper": {"n": 16384, "d": 32, "n_trials": 100,
              "ratios": (2, 4, 8, 16, 32, 64, 128, 256)},
}


#: Line colours, one per family key, shared with F2.
COLORS = {
    "gaussian": "black",
    "srht": "tab:blue",
    "countsketch": "tab:red",
    "sparse_sign_k4": "tab:orange",
    "sparse_sign_k8": "tab:green",
    "uniform": "tab:purple",
    "leverage": "tab:brown",
}

# Values below this are drawn at this height on the log axes (exact recoveries give 0).
_PLOT_FLOOR = 1e-3


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def gaussian_rate(d, m, delta=DELTA):
    """The Gaussian sketch's R_inf rate ``sqrt(2 d ln(4 d / delta) / m)``.

    The leading term of the proven bound: with probability >= 1 - delta, an m x n
    Gaussian sketch gives ``R_inf <= gaussian_rate(d, m, delta) / (1 - sqrt(d / m) -
    sqrt(2 ln(2 / delta) / m))`` (``papers/sketching_regression.md``).

    Parameters
    ----------
    d : int or ndarray
        Number of unknowns.
    m : float or ndarray
        Sketch size(s).
    delta : float
        Failure probability.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> from lowrank.experiments.linf_error_vs_sketch_size import gaussian_rate
    >>> round(float(gaussian_rate(32, 512)), 3)
    0.99
    """
    return np.sqrt(2 * d * np.log(4 * d / delta) / np.asarray(m, dtype=float))


def paper_rate(n, d, m, delta=DELTA):
    """The rate ``sqrt(d log^3(n / delta) / m)`` of SYYZ23 (natural logarithm).

    Parameters
    ----------
    n, d : int
        Shape of A.
    m : float or ndarray
        Sketch size(s).
    delta : float
        Failure probability.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> from lowrank.experiments.linf_error_vs_sketch_size import paper_rate
    >>> bool(paper_rate(4096, 32, 512) > 1)
    True
    """
    return np.sqrt(d * np.log(n / delta) ** 3 / np.asarray(m, dtype=float))


def n_steps(scale="small"):
    """Number of sketch-and-solve trials :func:`run` performs (the progress total).

    Examples
    --------
    >>> from lowrank.experiments.linf_error_vs_sketch_size import n_steps
    >>> n_steps("small")
    3360
    """
    sizes = _sizes(scale)
    return len(PANELS) * len(FAMILIES) * len(sizes["ratios"]) * sizes["n_trials"]


def run(scale="small", rng=0, progress=None):
    """Measure R_inf and R_2 of sketch-and-solve for every family and sketch size.

    Parameters
    ----------
    scale : {"small", "paper"}
        ``"small"`` (n = 4096, d = 32, 40 trials, m/d = 2 ... 64) takes about 20 s on
        2 cores; ``"paper"`` (n = 16384, d = 32, 100 trials, m/d = 2 ... 256) about
        20 minutes, mostly drawing Gaussian sketches.  ``"tiny"`` exists for the test
        suite only.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.  Each (instance, family, sketch size, trial) draws from its
        own sub-stream, so the same ``rng`` gives identical data.
    progress : callable, optional
        Called with the number of trials just completed (e.g. ``tqdm.update``); the
        total is :func:`n_steps`.

    Returns
    -------
    dict
        ``"figure"``, ``"scale"``, ``"n"``, ``"d"``, ``"block_size"``, ``"delta"``,
        ``"n_trials"``; ``"ratios"`` (m/d) and ``"sketch_sizes"`` (m) as int arrays;
        ``"panels"``, ``"families"`` and ``"labels"`` as lists of strings; ``"r_inf"`` and
        ``"r_2"`` as float arrays of shape (panels, families, ratios, trials).

    Examples
    --------
    >>> from lowrank.experiments import linf_error_vs_sketch_size as f1
    >>> data = f1.run("tiny", rng=0)
    >>> data["r_inf"].shape
    (2, 7, 3, 20)
    """
    sizes = _sizes(scale)
    n, d, n_trials = sizes["n"], sizes["d"], sizes["n_trials"]
    ratios = np.asarray(sizes["ratios"], dtype=np.int64)
    root = check_rng(rng)
    shape = (len(PANELS), len(FAMILIES), ratios.size, n_trials)
    r_inf, r_2 = np.empty(shape), np.empty(shape)
    start = time.perf_counter()
    logger.info("F1 (%s): n=%d, d=%d, %d trials, m/d in %s", scale, n, d, n_trials,
                ratios.tolist())
    with single_threaded():
        for p, (panel, panel_rng) in enumerate(
                zip(PANELS, root.spawn(len(PANELS)), strict=True)):
            instance_rng, sketch_rng = panel_rng.spawn(2)
            instance = make_instance(panel, n, d, instance_rng)
            for f, (family, family_rng) in enumerate(
                    zip(FAMILIES, sketch_rng.spawn(len(FAMILIES)), strict=True)):
                for i, ratio_rng in enumerate(family_rng.spawn(ratios.size)):
                    r_inf[p, f, i], r_2[p, f, i] = family_trials(
                        instance, family, int(ratios[i] * d), n_trials, ratio_rng, progress)
    logger.info("F1 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {
        "figure": FIGURE_ID, "scale": scale, "n": n, "d": d, "block_size": BLOCK_SIZE,
        "delta": DELTA, "n_trials": n_trials, "ratios": ratios, "sketch_sizes": ratios * d,
        "panels": list(PANELS), "families": [fam.key for fam in FAMILIES],
        "labels": [fam.label for fam in FAMILIES], "r_inf": r_inf, "r_2": r_2,
    }


def summarize(values):
    """Median, 5th and 95th percentiles and the fraction above 1 over the last axis.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.linf_error_vs_sketch_size import summarize
    >>> s = summarize(np.array([[0.5, 1.5, 2.0], [0.1, 0.2, 0.3]]))
    >>> s["median"].tolist(), s["frac_above_1"].round(2).tolist()
    ([1.5, 0.2], [0.67, 0.0])
    """
    q05, median, q95 = np.percentile(values, [5, 50, 95], axis=-1)
    return {"median": median, "q05": q05, "q95": q95,
            "frac_above_1": np.mean(values > 1.0, axis=-1)}


def to_rows(data):
    """One CSV row per (panel, family, sketch size) with the R_inf and R_2 summaries.

    Examples
    --------
    >>> from lowrank.experiments import linf_error_vs_sketch_size as f1
    >>> rows = f1.to_rows(f1.run("tiny", rng=0))
    >>> len(rows), sorted(rows[0])[:3]
    (42, ['d', 'family', 'm'])
    """
    s_inf, s_2 = summarize(data["r_inf"]), summarize(data["r_2"])
    rows = []
    for p, panel in enumerate(data["panels"]):
        for f, family in enumerate(data["families"]):
            for i, ratio in enumerate(data["ratios"]):
                idx = (p, f, i)
                rows.append({
                    "panel": panel, "family": family, "n": data["n"], "d": data["d"],
                    "m": int(data["sketch_sizes"][i]), "m_over_d": int(ratio),
                    "n_trials": data["n_trials"],
                    "r_inf_median": float(s_inf["median"][idx]),
                    "r_inf_q05": float(s_inf["q05"][idx]),
                    "r_inf_q95": float(s_inf["q95"][idx]),
                    "r_inf_frac_above_1": float(s_inf["frac_above_1"][idx]),
                    "r_2_median": float(s_2["median"][idx]),
                    "r_2_q05": float(s_2["q05"][idx]),
                    "r_2_q95": float(s_2["q95"][idx]),
                })
    return rows


def _draw_family(ax, x, values, key, label):
    s = summarize(values)
    color = COLORS[key]
    ax.plot(x, np.maximum(s["median"], _PLOT_FLOOR), marker="o", ms=3.5, lw=1.4,
            color=color, label=label)
    ax.fill_between(x, np.maximum(s["q05"], _PLOT_FLOOR), np.maximum(s["q95"], _PLOT_FLOOR),
                    color=color, alpha=0.12, lw=0)


def plot(data, *, fig=None):
    """Draw F1: R_inf (top row) and R_2 (bottom row) against m/d for both instances.

    Lines are medians, shaded bands the 5-95 % range over the trials; values below
    1e-3 (exact recoveries) are drawn at 1e-3.

    Parameters
    ----------
    data : dict
        The output of :func:`run`.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (e.g. one made by ``pyplot.figure`` to display it); a new
        :class:`matplotlib.figure.Figure` (no pyplot state) by default.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from lowrank.experiments import linf_error_vs_sketch_size as f1
    >>> fig = f1.plot(f1.run("tiny", rng=0))
    >>> len(fig.axes)
    4
    """
    fig = prepare_figure(fig, FIGURE_SIZE)
    axes = fig.subplots(2, len(data["panels"]), sharex=True, squeeze=False)
    ratios = np.asarray(data["ratios"], dtype=float)
    m = np.asarray(data["sketch_sizes"], dtype=float)
    n, d, delta = data["n"], data["d"], data["delta"]
    fine_ratio = np.geomspace(ratios[0], ratios[-1], 100)
    for p, panel in enumerate(data["panels"]):
        top, bottom = axes[0, p], axes[1, p]
        for f, key in enumerate(data["families"]):
            _draw_family(top, ratios, data["r_inf"][p, f], key, data["labels"][f])
            _draw_family(bottom, ratios, data["r_2"][p, f], key, data["labels"][f])
        top.plot(fine_ratio, gaussian_rate(d, fine_ratio * d, delta), "k--", lw=1,
                 label=f"Gaussian rate √(2d ln(4d/δ)/m), δ = {delta:g}")
        top.plot(fine_ratio, paper_rate(n, d, fine_ratio * d, delta), "k:", lw=1.2,
                 label="paper rate √(d log³(n/δ)/m)")
        top.axhline(1.0, color="0.6", lw=0.8)
        top.set_title(PANEL_TITLES.get(panel, panel), fontsize=10)
        top.set_ylim(_PLOT_FLOOR * 0.8, 1.2 * float(paper_rate(n, d, m[0], delta)))
        bottom.set_ylim(_PLOT_FLOOR * 0.8, None)
        bottom.set_xlabel("m / d")
        for ax in (top, bottom):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(ratios, [f"{r:g}" for r in ratios])
            ax.grid(True, which="major", alpha=0.3)
    axes[0, 0].set_ylabel("R∞ = √d ‖x′ − x*‖∞ / (‖r‖ ‖A⁺‖)")
    axes[1, 0].set_ylabel("R₂ = ‖x′ − x*‖₂ / (‖r‖ ‖A⁺‖)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle(f"F1: sketch-and-solve error vs sketch size (n = {n}, d = {d}, "
                 f"{data['n_trials']} trials; median and 5-95 % band; exact recoveries drawn at "
                 "10⁻³)", fontsize=11)
    return fig
