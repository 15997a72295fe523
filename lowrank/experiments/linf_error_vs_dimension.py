"""F2: growth of the l_inf error of sketch-and-solve with the dimension d at m = 16 d.

The normalized error ``R_inf = sqrt(d) ||x' - x*||_inf / (||r|| ||A^+||)`` of F1, at a
fixed ratio m / d = 16, for d from 32 to 512, on the same two instances (generic and
"block + spike") and the same sketch families.  Expected: flat for dense sketches (the
Gaussian rate ``sqrt(2 d ln(4 d / delta) / m)`` grows only like ``sqrt(ln d)`` at fixed
m / d), while on the adversarial instance CountSketch fails with a d-independent
probability (about ``1 - exp(-k / 16)``, 0.4 for k = 8) and, when it fails, by about
``sqrt(d / k)``: its median stays 0 and its upper percentile grows like ``sqrt(d)``.
See ``papers/sketching_regression.md`` (F2).
"""

import logging
import time

import numpy as np

from .._rng import check_rng
from .._threads import single_threaded
from .._validation import check_option
from ._common import prepare_figure
from ._linf_trials import (
    BLOCK_SIZE,
    FAMILIES,
    family_trials,
    make_instance,
    summary_columns,
)
from .linf_error_vs_sketch_size import (
    COLORS,
    DELTA,
    FIGURE_SIZE,
    PANEL_TITLES,
    PANELS,
    gaussian_rate,
    summarize,
)

__all__ = ["n_steps", "plot", "run", "to_rows"]

logger = logging.getLogger(__name__)

FIGURE_ID = "F2"
TITLE = "l_inf error of sketch-and-solve vs dimension at m = 16 d"

#: The fixed ratio m / d.
RATIO = 16

# Values below this are drawn at this height on the log axes (exact recoveries give 0).
_PLOT_FLOOR = 1e-2

_SCALES = {
    # "tiny" is for the test suite only: seconds, too few trials to read anything off.
    "tiny": {"n": 1024, "dims": (16, 32), "n_trials": 10},
    "small": {"n": 4096, "dims": (32, 64, 128), "n_trials": 30},
    "paper": {"n": 16384, "dims": (32, 64, 128, 256, 512), "n_trials": 100},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def n_steps(scale="small"):
    """Number of sketch-and-solve trials :func:`run` performs (the progress total).

    Examples
    --------
    >>> from lowrank.experiments.linf_error_vs_dimension import n_steps
    >>> n_steps("small")
    1260
    """
    sizes = _sizes(scale)
    return len(PANELS) * len(FAMILIES) * len(sizes["dims"]) * sizes["n_trials"]


def run(scale="small", rng=0, progress=None):
    """Measure R_inf and R_2 at m = 16 d for every family and dimension d.

    Parameters
    ----------
    scale : {"small", "paper"}
        ``"small"`` (n = 4096, d = 32, 64, 128, 30 trials) takes about 20 s on
        2 cores; ``"paper"`` (n = 16384, d = 32 ... 512, 100 trials) about 40 minutes,
        mostly the Gaussian sketches at d = 512.  ``"tiny"`` exists for the test suite
        only.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.  Each (dimension, instance, family, trial) draws from its
        own sub-stream, so the same ``rng`` gives identical data.
    progress : callable, optional
        Called with the number of trials just completed (e.g. ``tqdm.update``); the
        total is :func:`n_steps`.

    Returns
    -------
    dict
        ``"figure"``, ``"scale"``, ``"n"``, ``"ratio"``, ``"block_size"``, ``"delta"``,
        ``"n_trials"``; ``"dims"`` (d) and ``"sketch_sizes"`` (m) as int arrays;
        ``"panels"``, ``"families"`` and ``"labels"`` as lists of strings; ``"r_inf"`` and
        ``"r_2"`` as float arrays of shape (panels, families, dims, trials).

    Examples
    --------
    >>> from lowrank.experiments import linf_error_vs_dimension as f2
    >>> data = f2.run("tiny", rng=0)
    >>> data["r_inf"].shape
    (2, 7, 2, 10)
    """
    sizes = _sizes(scale)
    n, n_trials = sizes["n"], sizes["n_trials"]
    dims = np.asarray(sizes["dims"], dtype=np.int64)
    root = check_rng(rng)
    shape = (len(PANELS), len(FAMILIES), dims.size, n_trials)
    r_inf, r_2 = np.empty(shape), np.empty(shape)
    start = time.perf_counter()
    logger.info("F2 (%s): n=%d, m=%dd, d in %s, %d trials", scale, n, RATIO, dims.tolist(),
                n_trials)
    with single_threaded():
        for i, (d, dim_rng) in enumerate(
                zip(dims.tolist(), root.spawn(dims.size), strict=True)):
            for p, (panel, panel_rng) in enumerate(
                    zip(PANELS, dim_rng.spawn(len(PANELS)), strict=True)):
                instance_rng, sketch_rng = panel_rng.spawn(2)
                instance = make_instance(panel, n, d, instance_rng)
                for f, (family, family_rng) in enumerate(
                        zip(FAMILIES, sketch_rng.spawn(len(FAMILIES)), strict=True)):
                    r_inf[p, f, i], r_2[p, f, i] = family_trials(
                        instance, family, RATIO * d, n_trials, family_rng, progress)
    logger.info("F2 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {
        "figure": FIGURE_ID, "scale": scale, "n": n, "ratio": RATIO,
        "block_size": BLOCK_SIZE, "delta": DELTA, "n_trials": n_trials, "dims": dims,
        "sketch_sizes": RATIO * dims, "panels": list(PANELS),
        "families": [fam.key for fam in FAMILIES], "labels": [fam.label for fam in FAMILIES],
        "r_inf": r_inf, "r_2": r_2,
    }


def to_rows(data):
    """One CSV row per (panel, family, dimension) with the R_inf and R_2 summaries.

    Examples
    --------
    >>> from lowrank.experiments import linf_error_vs_dimension as f2
    >>> rows = f2.to_rows(f2.run("tiny", rng=0))
    >>> len(rows), rows[0]["m"]
    (28, 256)
    """
    s_inf, s_2 = summarize(data["r_inf"]), summarize(data["r_2"])
    rows = []
    for p, panel in enumerate(data["panels"]):
        for f, family in enumerate(data["families"]):
            for i, d in enumerate(data["dims"]):
                idx = (p, f, i)
                rows.append({
                    "panel": panel, "family": family, "n": data["n"], "d": int(d),
                    "m": int(data["sketch_sizes"][i]), "m_over_d": data["ratio"],
                    "n_trials": data["n_trials"],
                    **summary_columns(s_inf, s_2, idx),
                })
    return rows


def plot(data, *, fig=None):
    """Draw F2: the median (top row) and 95th percentile (bottom row) of R_inf against d.

    One column per instance; the overlays are the Gaussian rate at m = 16 d and, on the
    adversarial instance, the CountSketch failure size ``sqrt(d / k)``.  Values below
    1e-2 (exact recoveries) are drawn at 1e-2.

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
    >>> from lowrank.experiments import linf_error_vs_dimension as f2
    >>> fig = f2.plot(f2.run("tiny", rng=0))
    >>> len(fig.axes)
    4
    """
    fig = prepare_figure(fig, FIGURE_SIZE)
    axes = fig.subplots(2, len(data["panels"]), sharex=True, sharey="row", squeeze=False)
    dims = np.asarray(data["dims"], dtype=float)
    ratio, delta, block = data["ratio"], data["delta"], data["block_size"]
    for p, panel in enumerate(data["panels"]):
        for row, stat in enumerate(("median", "q95")):
            ax = axes[row, p]
            for f, key in enumerate(data["families"]):
                values = summarize(data["r_inf"][p, f])[stat]
                ax.plot(dims, np.maximum(values, _PLOT_FLOOR), marker="o", ms=3.5, lw=1.4,
                        color=COLORS[key], label=data["labels"][f])
            ax.plot(dims, gaussian_rate(dims, ratio * dims, delta), "k--", lw=1,
                    label=f"Gaussian rate √(2d ln(4d/δ)/m), δ = {delta:g}")
            if panel == "block_spike":
                ax.plot(dims, np.sqrt(dims / block), color="tab:red", ls=":", lw=1.5,
                        label=f"CountSketch failure size √(d/k), k = {block}")
            ax.axhline(1.0, color="0.6", lw=0.8)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(dims, [f"{d:g}" for d in dims])
            ax.grid(True, which="major", alpha=0.3)
        axes[0, p].set_title(PANEL_TITLES.get(panel, panel), fontsize=10)
        axes[1, p].set_xlabel("d")
    for row in axes:
        row[0].set_ylim(_PLOT_FLOOR * 0.8, None)
    axes[0, 0].set_ylabel("median R∞")
    axes[1, 0].set_ylabel("95th percentile of R∞")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle(f"F2: R∞ = √d ‖x′ − x*‖∞ / (‖r‖ ‖A⁺‖) at m = {ratio} d (n = {data['n']}, "
                 f"{data['n_trials']} trials; exact recoveries drawn at 10⁻²)", fontsize=11)
    return fig
