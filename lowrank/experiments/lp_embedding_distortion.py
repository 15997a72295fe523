"""F3: l_p subspace-embedding distortion of row sampling versus the expected sample count.

Rows of an ``n x d`` matrix ``M`` are kept independently with the probabilities of
:func:`lowrank.sampling.sampling_probabilities` (expected count ``m``) and rescaled by
``q_i^{-1/p}`` (:func:`lowrank.sampling.sample_rows`).  The top row of panels shows the
distortion ``sup_x |‖S M x‖_p / ‖M x‖_p − 1|`` as estimated by
:func:`lowrank.sampling.subspace_embedding_distortion` (random, structured and refined
directions: a lower bound on the true worst case); the bottom row shows the relative
excess cost ``(f(x_m) − f(x*)) / f(x*)`` of l_p regression on a sample,
``f(x) = ‖A x − b‖_p^p``, with ``x_m`` from :func:`lowrank.regression.lp_regression`
(which samples ``[A b]``) and ``x*`` its ``method="exact"`` solution on the full data;
``b = A x0 + e`` with Student-t(2) noise ``e``.

One line per sampling scheme: uniform, leverage scores, root leverage scores
(``p < 2`` only), Lewis weights, sensitivities and the combined (leverage +
sensitivity) scheme, for ``p`` in {1, 1.5, 3, 4} and two matrices per ``p``, one with a
small and one with a large total sensitivity ``𝔖`` (``papers/sensitivity_sampling.md``,
F3):

- ``p < 2``: small ``𝔖`` = Gaussian rows, large ``𝔖`` = Student-t(1.5) rows;
- ``p > 2`` the roles swap: small ``𝔖`` = block-diagonal with 2-D Gaussian blocks,
  large ``𝔖`` = Gaussian rows.  Sensitivity sampling can beat Lewis weights only when
  ``𝔖 < d^{p²/(4(p−1))}`` (Woodruff-Yasuda 2023); the block matrix is chosen for that.

Each matrix's total sensitivity is reported (data and panel titles), computed by the one
call site :func:`sensitivities`; the same values drive the "sensitivity" and "combined"
lines of the distortion panels.  In the regression panels ``lp_regression`` scores the
rows of ``[A b]`` itself (upper bounds for these two schemes).  Regression needs more
sampled rows than the ``d + 1`` columns of ``[A b]``: it is not run at ``m <= d + 1``,
and trials whose sample has a lower rank than ``A`` (``x`` not determined) are left out
(NaN; the CSV counts the trials measured).
"""

import logging
import math
import time
import warnings

import numpy as np

from .._rng import check_rng
from .._threads import single_threaded
from .._validation import check_option
from ..regression import lp_regression
from ..sampling import (
    lp_sensitivities,
    sample_rows,
    sampling_probabilities,
    subspace_embedding_distortion,
)
from ._common import CLIPPED_LABEL, clipped_handle, mark_clipped, prepare_figure

__all__ = ["make_matrix", "matrix_kind", "methods_for", "n_steps", "plot", "run",
           "sensitivities", "summarize", "to_rows"]

logger = logging.getLogger(__name__)

#: Size of the figure in inches.
FIGURE_SIZE = (17, 13)

FIGURE_ID = "F3"
TITLE = "l_p subspace-embedding distortion vs expected sample count"

P_VALUES = (1.0, 1.5, 3.0, 4.0)
#: Total-sensitivity roles of the two matrices of each p.
ROLES = ("small", "large")
#: Sampling schemes (``sampling_probabilities`` methods), in drawing order.
METHODS = ("uniform", "leverage", "root_leverage", "lewis", "sensitivity", "combined")
LABELS = {
    "uniform": "uniform",
    "leverage": "leverage τ",
    "root_leverage": "root leverage τ^(p/2)",
    "lewis": "Lewis weights",
    "sensitivity": "sensitivities",
    "combined": r"combined ($\tau/d + \mathfrak{s}/\mathfrak{S}$)",
}
COLORS = {
    "uniform": "tab:purple",
    "leverage": "tab:brown",
    "root_leverage": "tab:olive",
    "lewis": "tab:blue",
    "sensitivity": "tab:red",
    "combined": "black",
}
MATRIX_LABELS = {
    "gaussian": "Gaussian rows",
    "student_t": "Student-t(1.5) rows",
    "block_gaussian": "block-diagonal, 2-D Gaussian blocks",
}
#: Degrees of freedom of the Student-t rows and of the regression noise.
STUDENT_DF = 1.5
NOISE_DF = 2.0

#: How :func:`sensitivities` computes them by default: ``"sketched"`` (exact convex
#: programs against a small Lewis-weight sample of the rows).
SENSITIVITY_METHOD = "sketched"

# Values below this are drawn at this height on the log axes (exact fits give 0).
_PLOT_FLOOR = {"distortion": 1e-3, "excess": 1e-6}
# The excess axes stop here (the CSV keeps the values above it).
_EXCESS_AXIS_TOP = 1e2

_SCALES = {
    # "tiny" is for the test suite only: seconds, too few trials to read anything off.
    "tiny": {"n": 400, "d": 4, "n_trials": 2, "ratios": (2, 16),
             "n_directions": 30, "n_refine": 1,
             # the n convex programs of the sketched sensitivities would take 3/4 of it
             "sensitivity_method": "upper_bound"},
    # about 40 s on 2 cores, a third of it in the sketched sensitivities (n programs,
    # against a Lewis sample of 20 d rows: within about 0.7-1.3 of the exact values)
    "small": {"n": 2000, "d": 10, "n_trials": 3, "ratios": (1, 2, 4, 8, 16, 32, 64),
              "n_directions": 100, "n_refine": 2, "sensitivity_samples": 200},
    # the sizes of papers/sensitivity_sampling.md
    "paper": {"n": 20000, "d": 20, "n_trials": 10, "ratios": (1, 2, 4, 8, 16, 32, 64),
              "n_directions": 200, "n_refine": 5},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def matrix_kind(p, role):
    """The matrix of ``role`` ("small" or "large" total sensitivity) for exponent ``p``.

    Examples
    --------
    >>> from lowrank.experiments.lp_embedding_distortion import matrix_kind
    >>> matrix_kind(1, "small"), matrix_kind(1, "large"), matrix_kind(3, "small")
    ('gaussian', 'student_t', 'block_gaussian')
    """
    check_option(role, "role", ROLES)
    if p < 2:
        return "gaussian" if role == "small" else "student_t"
    return "block_gaussian" if role == "small" else "gaussian"


def methods_for(p):
    """The sampling schemes drawn for ``p`` (root leverage only for ``p < 2``).

    Examples
    --------
    >>> from lowrank.experiments.lp_embedding_distortion import methods_for
    >>> len(methods_for(1)), "root_leverage" in methods_for(3)
    (6, False)
    """
    return tuple(m for m in METHODS if p < 2 or m != "root_leverage")


def make_matrix(kind, n, d, rng):
    """An ``n x d`` test matrix: ``"gaussian"``, ``"student_t"`` (Student-t(1.5)
    entries) or ``"block_gaussian"`` (``d / 2`` diagonal blocks of ``n / (d / 2)`` rows
    and 2 Gaussian columns; ``d`` even).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.lp_embedding_distortion import make_matrix
    >>> B = make_matrix("block_gaussian", 6, 4, np.random.default_rng(0))
    >>> (B != 0).astype(int).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]]
    """
    kind = check_option(kind, "kind", tuple(MATRIX_LABELS))
    rng = check_rng(rng)
    if kind == "gaussian":
        return rng.standard_normal((n, d))
    if kind == "student_t":
        return rng.standard_t(STUDENT_DF, size=(n, d))
    if d % 2:
        raise ValueError(f"the block-diagonal matrix needs an even d; got d = {d}.")
    M = np.zeros((n, d))
    for j, rows in enumerate(np.array_split(np.arange(n), d // 2)):
        M[rows, 2 * j:2 * j + 2] = rng.standard_normal((rows.size, 2))
    return M


def sensitivities(M, p, rng, method=None, n_samples=None):
    """``(sensitivities, method)`` of the rows of ``M``: the one place F3 computes them.

    ``lp_sensitivities(M, p, method=method)`` with ``method`` defaulting to
    :data:`SENSITIVITY_METHOD`; ``n_samples`` and ``rng`` are passed to the sketched
    method.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.lp_embedding_distortion import make_matrix, sensitivities
    >>> M = make_matrix("gaussian", 100, 3, np.random.default_rng(0))
    >>> s, how = sensitivities(M, 3, np.random.default_rng(1), method="upper_bound")
    >>> s.shape, how
    ((100,), 'upper_bound')
    """

    method = SENSITIVITY_METHOD if method is None else method
    options = {"n_samples": n_samples, "rng": rng} if method == "sketched" else {}
    res = lp_sensitivities(M, p, method=method, **options)
    return np.asarray(res.sensitivities, dtype=np.float64), method


def _log_lp(r, p):
    """``log sum |r_i|^p`` without overflow."""
    r = np.abs(r)
    top = float(np.max(r))
    if top == 0.0:
        return -math.inf
    return p * math.log(top) + math.log(float(np.sum((r / top) ** p)))


def _distortion_trial(M, probabilities, p, rng, sizes):
    sample_rng, direction_rng = rng.spawn(2)
    S = sample_rows(M, probabilities, p=p, rng=sample_rng)
    if S.size == 0:  # nothing kept: ||S M x|| = 0 for every x
        return 1.0, 0
    res = subspace_embedding_distortion(M, S, p, n_directions=sizes["n_directions"],
                                        n_refine=sizes["n_refine"], rng=direction_rng)
    return res.distortion, S.size


def _regression_trial(A, b, p, method, m, log_optimum, rng):
    """Relative excess cost of ``lp_regression`` on a sample, or NaN when the sample of
    ``[A b]`` has a lower rank than ``A`` (it does not determine ``x``;
    ``lp_regression`` then solves the full problem instead, which is not what F3 is
    about)."""

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the rank-deficiency warning is handled below
        res = lp_regression(A, b, p, method=method, n_samples=m, rng=rng)
    SA = np.asarray(res.sample.matrix)[:, :A.shape[1]]
    if SA.shape[0] < A.shape[1] or np.linalg.matrix_rank(SA) < A.shape[1]:
        return math.nan
    return math.expm1(_log_lp(A @ res.x - b, p) - log_optimum)


def _matrix_trials(M, p, sizes, rng, progress):
    """Distortion, realised sample size and regression excess for one matrix: arrays of
    shape (methods, ratios, trials), NaN for the schemes not drawn at this p; and the
    sensitivities used."""

    n, d = M.shape
    ratios, n_trials = sizes["ratios"], sizes["n_trials"]
    shape = (len(METHODS), len(ratios), n_trials)
    distortion, size, excess = np.full(shape, np.nan), np.full(shape, np.nan), \
        np.full(shape, np.nan)
    problem_rng, sens_rng, trial_rng = rng.spawn(3)
    sens, sens_method = sensitivities(M, p, sens_rng, sizes.get("sensitivity_method"),
                                      sizes.get("sensitivity_samples"))
    b = M @ problem_rng.standard_normal(d) + problem_rng.standard_t(NOISE_DF, size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log_optimum = _log_lp(M @ lp_regression(M, b, p, method="exact").x - b, p)
    drawn = methods_for(p)
    for k, (method, method_rng) in enumerate(
            zip(METHODS, trial_rng.spawn(len(METHODS)), strict=True)):
        if method not in drawn:
            continue
        for i, ratio_rng in enumerate(method_rng.spawn(len(ratios))):
            m = ratios[i] * d
            uses_sens = method in ("sensitivity", "combined")
            q = sampling_probabilities(M, p, m, method=method,
                                       sensitivities=sens if uses_sens else None)
            for t, g in enumerate(ratio_rng.spawn(n_trials)):
                embed_rng, regress_rng = g.spawn(2)
                distortion[k, i, t], size[k, i, t] = _distortion_trial(M, q, p, embed_rng,
                                                                       sizes)
                if m > d + 1:  # fewer rows than columns of [A b] cannot determine x
                    excess[k, i, t] = _regression_trial(M, b, p, method, m, log_optimum,
                                                        regress_rng)
            if progress is not None:
                progress(n_trials)
    return distortion, size, excess, sens, sens_method


def n_steps(scale="small"):
    """Number of (sample, regression) trials :func:`run` performs (the progress total).

    Examples
    --------
    >>> from lowrank.experiments.lp_embedding_distortion import n_steps
    >>> n_steps("small")
    924
    """
    sizes = _sizes(scale)
    lines = sum(len(methods_for(p)) for p in P_VALUES) * len(ROLES)
    return lines * len(sizes["ratios"]) * sizes["n_trials"]


def run(scale="small", rng=0, progress=None):
    """Measure distortion and regression excess for every p, matrix, scheme and m.

    Parameters
    ----------
    scale : {"small", "paper"}
        ``"small"``: n = 2000, d = 10, 3 trials, m/d = 1, 2, ..., 64, distortion over
        100 random directions and 2 refined ones (about 40 s on 2 cores).
        ``"paper"``: n = 20,000, d = 20, 10 trials, 200 random directions, 5 refined.
        ``"tiny"`` exists for the test suite only (it uses the upper bounds of the
        sensitivities).
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.  Each (p, matrix, scheme, m, trial) draws from its own
        sub-stream, so the same ``rng`` gives identical data.
    progress : callable, optional
        Called with the number of trials just completed (e.g. ``tqdm.update``); the
        total is :func:`n_steps`.

    Returns
    -------
    dict
        ``"figure"``, ``"scale"``, ``"n"``, ``"d"``, ``"n_trials"``, ``"n_directions"``,
        ``"n_refine"``, ``"noise_df"``; ``"p_values"`` (float array), ``"ratios"`` (m/d)
        and ``"sample_sizes"`` (expected m) as int arrays; ``"roles"``, ``"methods"``,
        ``"labels"`` as lists of strings and ``"matrices"`` (the matrix kind per p and
        role) as a list of lists; ``"total_sensitivity"`` (p, roles) and
        ``"sensitivity_method"`` (how they were computed); ``"distortion"``,
        ``"realised_size"`` and ``"excess"`` as float arrays of shape
        (p, roles, methods, ratios, trials), NaN for root leverage at ``p > 2``.

    Examples
    --------
    >>> from lowrank.experiments import lp_embedding_distortion as f3
    >>> data = f3.run("tiny", rng=0)
    >>> data["distortion"].shape
    (4, 2, 6, 2, 2)
    """
    sizes = _sizes(scale)
    n, d, n_trials = sizes["n"], sizes["d"], sizes["n_trials"]
    ratios = np.asarray(sizes["ratios"], dtype=np.int64)
    root = check_rng(rng)
    shape = (len(P_VALUES), len(ROLES), len(METHODS), ratios.size, n_trials)
    distortion, size, excess = np.empty(shape), np.empty(shape), np.empty(shape)
    totals = np.empty((len(P_VALUES), len(ROLES)))
    matrices, sens_methods = [], set()
    start = time.perf_counter()
    logger.info("F3 (%s): n=%d, d=%d, %d trials, m/d in %s", scale, n, d, n_trials,
                ratios.tolist())
    with single_threaded():
        for a, (p, p_rng) in enumerate(zip(P_VALUES, root.spawn(len(P_VALUES)), strict=True)):
            kinds = [matrix_kind(p, role) for role in ROLES]
            matrices.append(kinds)
            for r, (kind, role_rng) in enumerate(zip(kinds, p_rng.spawn(len(ROLES)),
                                                     strict=True)):
                matrix_rng, trials_rng = role_rng.spawn(2)
                M = make_matrix(kind, n, d, matrix_rng)
                (distortion[a, r], size[a, r], excess[a, r], sens,
                 sens_method) = _matrix_trials(M, p, dict(sizes, ratios=tuple(ratios)),
                                               trials_rng, progress)
                totals[a, r] = float(np.sum(sens))
                sens_methods.add(sens_method)
                logger.info("F3 p=%g %s: total sensitivity %.3g (%s), %.1f s", p, kind,
                            totals[a, r], sens_method, time.perf_counter() - start)
    logger.info("F3 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {
        "figure": FIGURE_ID, "scale": scale, "n": n, "d": d, "n_trials": n_trials,
        "n_directions": sizes["n_directions"], "n_refine": sizes["n_refine"],
        "noise_df": NOISE_DF, "p_values": np.asarray(P_VALUES), "ratios": ratios,
        "sample_sizes": ratios * d, "roles": list(ROLES), "matrices": matrices,
        "methods": list(METHODS), "labels": [LABELS[m] for m in METHODS],
        "total_sensitivity": totals, "sensitivity_method": "/".join(sorted(sens_methods)),
        "distortion": distortion, "realised_size": size, "excess": excess,
    }


def summarize(values):
    """Median, minimum and maximum over the last axis (NaN where nothing was measured).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.lp_embedding_distortion import summarize
    >>> s = summarize(np.array([[0.5, 1.5, 2.0], [0.1, 0.2, 0.3]]))
    >>> s["median"].tolist(), s["max"].tolist()
    ([1.5, 0.2], [2.0, 0.3])
    """
    values = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        return {"median": np.nanmedian(values, axis=-1), "min": np.nanmin(values, axis=-1),
                "max": np.nanmax(values, axis=-1)}


def to_rows(data):
    """One CSV row per (p, matrix, scheme, m) with the distortion and excess summaries.

    Examples
    --------
    >>> from lowrank.experiments import lp_embedding_distortion as f3
    >>> rows = f3.to_rows(f3.run("tiny", rng=0))
    >>> len(rows), rows[0]["method"]
    (88, 'uniform')
    """
    dist, exc = summarize(data["distortion"]), summarize(data["excess"])
    size = summarize(data["realised_size"])
    rows = []
    for a, p in enumerate(data["p_values"]):
        for r, role in enumerate(data["roles"]):
            for k, method in enumerate(data["methods"]):
                if method not in methods_for(p):
                    continue
                for i, ratio in enumerate(data["ratios"]):
                    idx = (a, r, k, i)
                    rows.append({
                        "p": float(p), "role": role, "matrix": data["matrices"][a][r],
                        "total_sensitivity": float(data["total_sensitivity"][a, r]),
                        "sensitivity_method": data["sensitivity_method"],
                        "method": method, "n": data["n"], "d": data["d"],
                        "m": int(data["sample_sizes"][i]), "m_over_d": int(ratio),
                        "n_trials": data["n_trials"],
                        "realised_size_median": float(size["median"][idx]),
                        "distortion_median": float(dist["median"][idx]),
                        "distortion_min": float(dist["min"][idx]),
                        "distortion_max": float(dist["max"][idx]),
                        "excess_median": float(exc["median"][idx]),
                        "excess_min": float(exc["min"][idx]),
                        "excess_max": float(exc["max"][idx]),
                        "excess_n_measured": int(np.sum(np.isfinite(data["excess"][idx]))),
                    })
    return rows


def _sensitivity_text(total, method):
    if method == "upper_bound":
        return rf"$\mathfrak{{S}} \leq {total:.3g}$ (upper bound)"
    if method == "sketched":
        return rf"$\mathfrak{{S}} \approx {total:.3g}$ (sketched)"
    return rf"$\mathfrak{{S}} = {total:.3g}$ ({method})"


def _mark_clipped_lines(ax, ratios, s, methods, p):
    """Mark the medians and band maxima above the axis of ``ax`` (its limits are final);
    True when something was marked."""
    drawn = [k for k, method in enumerate(methods) if method in methods_for(p)]
    middle = (len(drawn) - 1) / 2
    top = ax.get_ylim()[1]
    marked = False
    for j, k in enumerate(drawn):
        color = COLORS[methods[k]]
        maxima = np.where(s["median"][k] > top, np.nan, s["max"][k])  # one mark per point
        for values, filled in ((s["median"][k], True), (maxima, False)):
            marked |= mark_clipped(ax, ratios, values, color=color, filled=filled,
                                   shift=5.0 * (j - middle)) is not None
    return marked


def plot(data, *, fig=None):
    """Draw F3: distortion (rows 1-2) and regression excess (rows 3-4) against m/d.

    Columns are the exponents p; within each block of two rows the first holds the
    matrix with the small total sensitivity, the second the one with the large.  Lines
    are medians over the trials, shaded bands their range; values below the floor
    (exact fits) are drawn at it, and medians (filled triangles) or maxima (open
    triangles) above the top of the axis (the excess axes stop at 1e2) at its top edge,
    as the legend says.

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
    >>> from lowrank.experiments import lp_embedding_distortion as f3
    >>> fig = f3.plot(f3.run("tiny", rng=0))
    >>> len(fig.axes)
    16
    """
    fig = prepare_figure(fig, FIGURE_SIZE)
    p_values, roles = data["p_values"], data["roles"]
    axes = fig.subplots(2 * len(roles), len(p_values), sharex=True, squeeze=False)
    ratios = np.asarray(data["ratios"], dtype=float)
    d = data["d"]
    blocks = (("distortion", "distortion"), ("excess", "relative excess cost"))
    clipped = False
    for a, p in enumerate(p_values):
        for r, role in enumerate(roles):
            kind = data["matrices"][a][r]
            sens = _sensitivity_text(float(data["total_sensitivity"][a, r]),
                                     data["sensitivity_method"])
            for b, (key, what) in enumerate(blocks):
                ax = axes[b * len(roles) + r, a]
                floor = _PLOT_FLOOR[key]
                s = summarize(data[key][a, r])
                for k, method in enumerate(data["methods"]):
                    if method not in methods_for(p):
                        continue
                    color = COLORS[method]
                    ax.plot(ratios, np.maximum(s["median"][k], floor), marker="o", ms=3,
                            lw=1.3, color=color, label=data["labels"][k])
                    ax.fill_between(ratios, np.maximum(s["min"][k], floor),
                                    np.maximum(s["max"][k], floor), color=color,
                                    alpha=0.1, lw=0)
                ax.set_title(f"{what}: p = {p:g}, {role} $\\mathfrak{{S}}$\n"
                             f"{MATRIX_LABELS[kind]}, {sens}", fontsize=8.5, pad=7)
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.set_xticks(ratios, [f"{x:g}" for x in ratios])
                ax.grid(True, which="major", alpha=0.3)
                if key == "distortion":
                    ax.axhline(1.0, color="0.6", lw=0.8)
                else:  # a near-singular sample at m = 2 d can cost 1e5 times the optimum
                    ax.set_ylim(top=min(ax.get_ylim()[1], _EXCESS_AXIS_TOP))
                if a == 0:
                    ax.set_ylabel("max |‖SMx‖ₚ/‖Mx‖ₚ − 1|" if key == "distortion"
                                  else "(f(xₘ) − f(x*)) / f(x*)", fontsize=9)
                clipped |= _mark_clipped_lines(ax, ratios, s, data["methods"], p)
    for ax in axes[-1]:
        ax.set_xlabel(f"expected sample count m / d (d = {d})")
    handles, labels = [], []
    for ax in axes[0]:  # p < 2 columns have the most lines
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    ncol = len(labels)
    if clipped:
        handles.append(clipped_handle(f"{CLIPPED_LABEL} (▲ median, △ maximum)"))
        labels.append(handles[-1].get_label())
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=9,
               frameon=False)
    fig.suptitle(
        f"F3: l_p row sampling, n = {data['n']}, d = {d}, {data['n_trials']} trials "
        f"(median, band = range). Distortion over {data['n_directions']} random + "
        f"structured + {data['n_refine']} refined directions (a lower bound); regression "
        f"b = A x0 + Student-t({data['noise_df']:g}) noise, sampling [A b]", fontsize=10)
    return fig
