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

(c) real: the Harwell-Boeing least-squares matrix illc1850 (1850 x 712, 8636 nonzeros,
    condition number about 1.4e3, 32 rows of leverage 1), as SciPy's wheel ships it in
    its test data (``scipy/sparse/linalg/tests/propack_test_data.npz``, key
    ``A_real``).  Its right-hand side rhs1 does not ship with SciPy, so ``b = A x0 + e``
    is planted: ``x0 ~ N(0, I)`` and Gaussian noise ``e`` with ``||e|| ~ 0.1 ||A x0||``
    (``x* = A^+ b`` by the direct solve).  R_inf and R_2 depend on ``b`` only through
    ``r`` (``x' - x* = (S A)^+ S r``) except where a row sample is rank deficient.
    As ``n = 2.6 d``, the sketch sizes are ``m / d`` in 1.25 ... 2.5 (``m <= n``), fewer
    trials are drawn, and the dense sketches above ``n / 2`` rows (where
    :func:`~lowrank.regression.linf_lstsq` solves exactly instead) are drawn by
    :func:`~lowrank.regression.lstsq`'s sketch-and-solve, the same computation.  When
    SciPy was installed without its tests the panel is skipped with a warning.

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
import warnings

import numpy as np

from .._rng import check_rng
from .._threads import single_threaded
from .._validation import check_option
from ..exceptions import LowrankWarning
from . import _linf_trials
from ._common import CLIPPED_LABEL, clipped_handle, mark_clipped, prepare_figure
from ._linf_trials import (
    BLOCK_SIZE,
    FAMILIES,
    family_trials,
    make_instance,
    summary_columns,
)

__all__ = ["gaussian_rate", "n_steps", "paper_rate", "plot", "run", "summarize", "to_rows"]

logger = logging.getLogger(__name__)

#: Size of a two-column figure in inches (F2's; F1 has a third column, PLOT_SIZE).
FIGURE_SIZE = (12, 8.5)
#: Size of F1 in inches.
PLOT_SIZE = (17, 8.5)

FIGURE_ID = "F1"
TITLE = "l_inf error of sketch-and-solve vs sketch size"

#: Failure probability of the two overlay curves, matching the top of the 5-95 % band.
DELTA = 0.05
#: The synthetic panels (a) and (b), sized by the scale (F2 uses them too).
PANELS = ("generic", "block_spike")
PANEL_TITLES = {
    "generic": "(a) generic: Haar U, V, κ = 10³, r ⊥ range(A)",
    "block_spike": f"(b) block (k = {BLOCK_SIZE}) + spike r = e_(n-1)",
    "illc1850": "(c) real: illc1850 (Harwell–Boeing, 1850 × 712), b = A x₀ + noise",
}
#: The panel (c) on a real matrix (fixed size), and the matrix each panel uses (CSV).
REAL_PANEL = "illc1850"
MATRICES = {"generic": "synthetic_haar", "block_spike": "synthetic_block_spike",
            "illc1850": "illc1850"}

_SCALES = {
    # "tiny" is for the test suite only: seconds, too few trials to read anything off.
    "tiny": {"n": 1024, "d": 16, "n_trials": 20, "ratios": (2, 4, 16),
             "real_trials": 1, "real_ratios": (1.25, 2.5)},
    "small": {"n": 4096, "d": 32, "n_trials": 40, "ratios": (2, 4, 8, 16, 32, 64),
              "real_trials": 3, "real_ratios": (1.25, 1.75, 2.5)},
    "paper": {"n": 16384, "d": 32, "n_trials": 100,
              "ratios": (2, 4, 8, 16, 32, 64, 128, 256),
              "real_trials": 100, "real_ratios": (1.25, 1.5, 1.75, 2.0, 2.25, 2.5)},
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
    3423
    """
    sizes = _sizes(scale)
    synthetic = len(PANELS) * len(sizes["ratios"]) * sizes["n_trials"]
    real = len(sizes["real_ratios"]) * sizes["real_trials"]  # reported also when skipped
    return len(FAMILIES) * (synthetic + real)


def _real_sketch_sizes(d, ratios):
    return np.rint(np.asarray(ratios, dtype=float) * d).astype(np.int64)


def _real_panel(sizes, panel_rng, progress):
    """Panel (c): the trials on illc1850, or why it was skipped."""
    ratios = np.asarray(sizes["real_ratios"], dtype=float)
    n_trials = sizes["real_trials"]
    n, d = _linf_trials.ILLC1850_SHAPE
    panel = {"panel": REAL_PANEL, "matrix": MATRICES[REAL_PANEL], "n": n, "d": d,
             "nnz": _linf_trials.ILLC1850_NNZ, "noise_level": _linf_trials.REAL_NOISE_LEVEL,
             "n_trials": n_trials, "ratios": ratios,
             "sketch_sizes": _real_sketch_sizes(d, ratios)}
    instance_rng, sketch_rng = panel_rng.spawn(2)
    try:
        instance = make_instance(REAL_PANEL, n, d, instance_rng)
    except (OSError, KeyError, ValueError) as exc:
        message = f"panel (c) skipped: illc1850 could not be loaded ({exc})"
        warnings.warn(f"F1: {message}.", LowrankWarning, stacklevel=3)
        if progress is not None:  # the trials are part of n_steps: complete the total
            progress(len(FAMILIES) * ratios.size * n_trials)
        return {**panel, "available": False, "message": message,
                "r_inf": None, "r_2": None}
    shape = (len(FAMILIES), ratios.size, n_trials)
    r_inf, r_2 = np.empty(shape), np.empty(shape)
    for f, (family, family_rng) in enumerate(
            zip(FAMILIES, sketch_rng.spawn(len(FAMILIES)), strict=True)):
        for i, ratio_rng in enumerate(family_rng.spawn(ratios.size)):
            r_inf[f, i], r_2[f, i] = family_trials(
                instance, family, int(panel["sketch_sizes"][i]), n_trials, ratio_rng,
                progress)
    return {**panel, "available": True, "message": "", "r_inf": r_inf, "r_2": r_2}


def run(scale="small", rng=0, progress=None):
    """Measure R_inf and R_2 of sketch-and-solve for every family and sketch size.

    Parameters
    ----------
    scale : {"small", "paper"}
        ``"small"`` (n = 4096, d = 32, 40 trials, m/d = 2 ... 64; illc1850: 3 trials,
        m/d = 1.25, 1.75, 2.5) takes about 30 s on 2 cores; ``"paper"`` (n = 16384,
        d = 32, 100 trials, m/d = 2 ... 256; illc1850: 100 trials, m/d = 1.25 ... 2.5)
        about 30 minutes, mostly drawing Gaussian sketches.  ``"tiny"`` exists for the
        test suite only.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.  Each (instance, family, sketch size, trial) draws from its
        own sub-stream, so the same ``rng`` gives identical data.
    progress : callable, optional
        Called with the number of trials just completed (e.g. ``tqdm.update``); the
        total is :func:`n_steps` (a skipped panel (c) reports its trials at once).

    Returns
    -------
    dict
        ``"figure"``, ``"scale"``, ``"n"``, ``"d"``, ``"block_size"``, ``"delta"``,
        ``"n_trials"``; ``"ratios"`` (m/d) and ``"sketch_sizes"`` (m) as int arrays;
        ``"panels"`` (the synthetic panels (a) and (b)), ``"families"`` and ``"labels"``
        as lists of strings; ``"r_inf"`` and ``"r_2"`` as float arrays of shape
        (panels, families, ratios, trials).  ``"real"``: panel (c), a dict with
        ``"panel"``, ``"matrix"``, ``"n"``, ``"d"``, ``"nnz"``, ``"noise_level"``,
        ``"n_trials"``, ``"ratios"`` (float), ``"sketch_sizes"``, ``"available"``,
        ``"message"`` (why it was skipped, else empty) and ``"r_inf"``, ``"r_2"`` of
        shape (families, ratios, trials), ``None`` when skipped.

    Warns
    -----
    LowrankWarning
        When illc1850 cannot be loaded (SciPy installed without its tests): panel (c)
        is skipped.

    Examples
    --------
    >>> from lowrank.experiments import linf_error_vs_sketch_size as f1
    >>> data = f1.run("tiny", rng=0)
    >>> data["r_inf"].shape, data["real"]["r_inf"].shape
    ((2, 7, 3, 20), (7, 2, 1))
    """
    sizes = _sizes(scale)
    n, d, n_trials = sizes["n"], sizes["d"], sizes["n_trials"]
    ratios = np.asarray(sizes["ratios"], dtype=np.int64)
    root = check_rng(rng)
    shape = (len(PANELS), len(FAMILIES), ratios.size, n_trials)
    r_inf, r_2 = np.empty(shape), np.empty(shape)
    start = time.perf_counter()
    logger.info("F1 (%s): n=%d, d=%d, %d trials, m/d in %s; illc1850: %d trials, m/d in "
                "%s", scale, n, d, n_trials, ratios.tolist(), sizes["real_trials"],
                list(sizes["real_ratios"]))
    # One stream per panel: (a) and (b) draw as they did before (c) existed.
    *synthetic_rngs, real_rng = root.spawn(len(PANELS) + 1)
    with single_threaded():
        for p, (panel, panel_rng) in enumerate(zip(PANELS, synthetic_rngs, strict=True)):
            instance_rng, sketch_rng = panel_rng.spawn(2)
            instance = make_instance(panel, n, d, instance_rng)
            for f, (family, family_rng) in enumerate(
                    zip(FAMILIES, sketch_rng.spawn(len(FAMILIES)), strict=True)):
                for i, ratio_rng in enumerate(family_rng.spawn(ratios.size)):
                    r_inf[p, f, i], r_2[p, f, i] = family_trials(
                        instance, family, int(ratios[i] * d), n_trials, ratio_rng, progress)
        real = _real_panel(sizes, real_rng, progress)
    logger.info("F1 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {
        "figure": FIGURE_ID, "scale": scale, "n": n, "d": d, "block_size": BLOCK_SIZE,
        "delta": DELTA, "n_trials": n_trials, "ratios": ratios, "sketch_sizes": ratios * d,
        "panels": list(PANELS), "families": [fam.key for fam in FAMILIES],
        "labels": [fam.label for fam in FAMILIES], "r_inf": r_inf, "r_2": r_2,
        "real": real,
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


def _row(panel, family, n, d, m, ratio, n_trials, s_inf, s_2, idx):
    return {
        "panel": panel, "matrix": MATRICES[panel], "family": family, "n": n, "d": d,
        "m": m, "m_over_d": ratio, "n_trials": n_trials,
        **summary_columns(s_inf, s_2, idx),
    }


def to_rows(data):
    """One CSV row per (panel, family, sketch size) with the R_inf and R_2 summaries.

    The ``matrix`` column names the matrix of the panel (``synthetic_haar``,
    ``synthetic_block_spike``, ``illc1850``); a skipped panel (c) has no rows.

    Examples
    --------
    >>> from lowrank.experiments import linf_error_vs_sketch_size as f1
    >>> rows = f1.to_rows(f1.run("tiny", rng=0))
    >>> len(rows), sorted(rows[0])[:3], rows[-1]["matrix"]
    (56, ['d', 'family', 'm'], 'illc1850')
    """
    s_inf, s_2 = summarize(data["r_inf"]), summarize(data["r_2"])
    rows = []
    for p, panel in enumerate(data["panels"]):
        for f, family in enumerate(data["families"]):
            for i, ratio in enumerate(data["ratios"]):
                rows.append(_row(panel, family, data["n"], data["d"],
                                 int(data["sketch_sizes"][i]), int(ratio), data["n_trials"],
                                 s_inf, s_2, (p, f, i)))
    real = data.get("real")
    if real is not None and real["available"]:
        s_inf, s_2 = summarize(real["r_inf"]), summarize(real["r_2"])
        for f, family in enumerate(data["families"]):
            for i, ratio in enumerate(real["ratios"]):
                rows.append(_row(real["panel"], family, real["n"], real["d"],
                                 int(real["sketch_sizes"][i]), float(ratio),
                                 real["n_trials"], s_inf, s_2, (f, i)))
    return rows


def _draw_family(ax, x, values, key, label):
    s = summarize(values)
    color = COLORS[key]
    ax.plot(x, np.maximum(s["median"], _PLOT_FLOOR), marker="o", ms=3.5, lw=1.4,
            color=color, label=label)
    ax.fill_between(x, np.maximum(s["q05"], _PLOT_FLOOR), np.maximum(s["q95"], _PLOT_FLOOR),
                    color=color, alpha=0.12, lw=0)
    return s


def _draw_panel(top, bottom, ratios, r_inf, r_2, data, n, d, title):
    """Draw one column: R_inf (top) and R_2 (bottom); True when a value was clipped."""
    delta = data["delta"]
    m = ratios * d
    fine_ratio = np.geomspace(ratios[0], ratios[-1], 100)
    summaries = []
    for f, key in enumerate(data["families"]):
        summaries.append((key, _draw_family(top, ratios, r_inf[f], key, data["labels"][f]),
                          _draw_family(bottom, ratios, r_2[f], key, data["labels"][f])))
    top.plot(fine_ratio, gaussian_rate(d, fine_ratio * d, delta), "k--", lw=1,
             label=f"Gaussian rate √(2d ln(4d/δ)/m), δ = {delta:g}")
    top.plot(fine_ratio, paper_rate(n, d, fine_ratio * d, delta), "k:", lw=1.2,
             label="paper rate √(d log³(n/δ)/m)")
    top.axhline(1.0, color="0.6", lw=0.8)
    top.set_title(title, fontsize=10, pad=8)  # room for the marks at the top edge
    top.set_ylim(_PLOT_FLOOR * 0.8, 1.2 * float(paper_rate(n, d, m[0], delta)))
    bottom.set_ylim(_PLOT_FLOOR * 0.8, None)
    # R_2 <= R_inf: the R_inf axis also bounds the R_2 axis (a singular row sample on
    # illc1850 errs by 1e10 and more).
    bottom.set_ylim(top=min(bottom.get_ylim()[1], top.get_ylim()[1]))
    bottom.set_xlabel("m / d")
    for ax in (top, bottom):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ratios, [f"{r:g}" for r in ratios])
        ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
        ax.grid(True, which="major", alpha=0.3)
    clipped = False
    middle = (len(summaries) - 1) / 2
    for f, (key, s_inf, s_2) in enumerate(summaries):  # the limits are final: mark
        for ax, s in ((top, s_inf), (bottom, s_2)):  # what lies above them
            for stat, filled in (("median", True), ("q95", False)):
                values = s[stat] if filled else np.where(s["median"] > ax.get_ylim()[1],
                                                         np.nan, s[stat])
                clipped |= mark_clipped(ax, ratios, values, color=COLORS[key],
                                        filled=filled, shift=5.0 * (f - middle)) is not None
    return clipped


def _draw_skipped(top, bottom, real):
    top.set_title(PANEL_TITLES[real["panel"]], fontsize=10)
    top.text(0.5, 0.5, "Panel (c) skipped:\n" + real["message"].replace(
        "panel (c) skipped: ", "", 1), transform=top.transAxes, ha="center",
        va="center", fontsize=9, wrap=True)
    for ax in (top, bottom):
        ax.set_xticks([])
        ax.set_yticks([])


def plot(data, *, fig=None):
    """Draw F1: R_inf (top row) and R_2 (bottom row) against m/d, one column per panel.

    Lines are medians, shaded bands the 5-95 % range over the trials; values below
    1e-3 (exact recoveries) are drawn at 1e-3, and medians (filled triangles) or 95th
    percentiles (open triangles) above the axis at its top edge.  Panel (c) (illc1850)
    has its own m/d axis; when it was skipped, its column says why.

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
    6
    """
    fig = prepare_figure(fig, PLOT_SIZE)
    real = data.get("real")
    n_columns = len(data["panels"]) + (real is not None)
    axes = fig.subplots(2, n_columns, sharex="col", squeeze=False)
    ratios = np.asarray(data["ratios"], dtype=float)
    n, d = data["n"], data["d"]
    clipped = False
    for p, panel in enumerate(data["panels"]):
        clipped |= _draw_panel(axes[0, p], axes[1, p], ratios, data["r_inf"][p],
                               data["r_2"][p], data, n, d, PANEL_TITLES.get(panel, panel))
    caption = ""
    if real is not None and real["available"]:
        title = (f"{PANEL_TITLES[real['panel']]}\n‖e‖ ≈ {real['noise_level']:g}‖A x₀‖, "
                 f"n = {real['n']}, d = {real['d']}, {real['n_trials']} trials")
        clipped |= _draw_panel(axes[0, -1], axes[1, -1],
                               np.asarray(real["ratios"], dtype=float), real["r_inf"],
                               real["r_2"], data, real["n"], real["d"], title)
        caption = f"; (c): {real['n_trials']} trials, m ≤ n"
    elif real is not None:
        _draw_skipped(axes[0, -1], axes[1, -1], real)
        caption = "; (c) skipped"
    axes[0, 0].set_ylabel("R∞ = √d ‖x′ − x*‖∞ / (‖r‖ ‖A⁺‖)")
    axes[1, 0].set_ylabel("R₂ = ‖x′ − x*‖₂ / (‖r‖ ‖A⁺‖)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if clipped:
        handles.append(clipped_handle(f"{CLIPPED_LABEL} (▲ median, △ 95th percentile)"))
        labels.append(handles[-1].get_label())
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle(f"F1: sketch-and-solve error vs sketch size ((a), (b): n = {n}, d = {d}, "
                 f"{data['n_trials']} trials{caption}; median and 5-95 % band; exact "
                 "recoveries drawn at 10⁻³)", fontsize=11)
    return fig
