"""F16: final error of the sub-gradient method against the number of measurements (ours).

:func:`lowrank.robust.subgradient_recovery` with its defaults on Gaussian sensing
problems (:func:`~lowrank.experiments._robust_common.sensing_problem`: PSD ground truth
of rank ``r``, 10 % outliers of magnitude ``10 max|y|``), for ``m / (d r)`` on a grid
and several rank bounds ``r'`` up to ``d``.  The paper's sample bound does not depend on
``r'``: the ``m`` at which recovery sets in should be the same for every curve.

``paper``: ``d = 20``, ``r = 3``, ``r'`` in {3, 6, 20}, ``m / (d r)`` in {3, 4, 5, 6, 8,
10, 15, 20}, 5 problems per point, ``10^4`` iterations at most (several minutes on 2
cores); ``small``: ``d = 12``, ``r = 2``, ``r'`` in {2, 12}, ``m / (d r)`` in {3, 5, 8, 12,
20}, 2 problems per point, 5,000 iterations (about a minute).
"""

import numpy as np

from .._rng import check_rng, kernel_seed
from .._validation import check_option
from ._common import prepare_figure
from ._robust_common import quiet_recovery, relative_error, sensing_problem
from ._tensor_common import trial_rng

__all__ = ["n_steps", "plot", "run", "to_rows"]

TITLE = "robust: final error of the sub-gradient method against the measurements (ours)"
OUTLIERS = 0.1
#: The error that counts as recovered in the plot and the CSV.
RECOVERED = 1e-6
PLOT_FLOOR = 1e-17

_SCALES = {
    # for the test suite only: seconds
    "tiny": {"d": 8, "r": 1, "ranks": (1, 8), "m_factors": (3, 20), "trials": 1,
             "maxiter": 3000},
    "small": {"d": 12, "r": 2, "ranks": (2, 12), "m_factors": (3, 5, 8, 12, 20),
              "trials": 2, "maxiter": 5000},
    "paper": {"d": 20, "r": 3, "ranks": (3, 6, 20), "m_factors": (3, 4, 5, 6, 8, 10, 15, 20),
              "trials": 5, "maxiter": 10_000},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def n_steps(scale="small"):
    """Runs :func:`run` makes.

    Examples
    --------
    >>> from lowrank.experiments.subgradient_samples import n_steps
    >>> n_steps("small"), n_steps("paper")
    (20, 120)
    """
    sizes = _sizes(scale)
    return len(sizes["ranks"]) * len(sizes["m_factors"]) * sizes["trials"]


def run(scale="small", rng=0, progress=None):
    """Run F16.

    Parameters
    ----------
    scale : {"small", "paper"}
    rng : None, int or numpy.random.Generator
        Seeds the problems: trial ``t`` at ``m / (d r)`` index ``j`` is the same problem
        for every rank bound.
    progress : callable, optional
        Called with the number of runs done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``d``, ``r``, ``ranks``, ``m_factors``, ``trials``, ``maxiter``; ``error`` and
        ``iterations`` (``ranks x m_factors x trials``).
    """
    sizes = _sizes(scale)
    seed = kernel_seed(check_rng(rng))
    d, r = sizes["d"], sizes["r"]
    shape = (len(sizes["ranks"]), len(sizes["m_factors"]), sizes["trials"])
    error, iterations = np.full(shape, np.nan), np.zeros(shape, dtype=np.int64)
    for j, m_factor in enumerate(sizes["m_factors"]):
        for t in range(sizes["trials"]):
            A, y, X = sensing_problem(d, r, 1.0, OUTLIERS, m_factor * d * r,
                                      trial_rng(seed, j * sizes["trials"] + t))
            for i, rank in enumerate(sizes["ranks"]):
                res = quiet_recovery(A, y, rank, maxiter=sizes["maxiter"])
                error[i, j, t], iterations[i, j, t] = relative_error(res, X), res.n_iter
                if progress is not None:
                    progress(1)
    return {"d": d, "r": r, "ranks": list(sizes["ranks"]),
            "m_factors": list(sizes["m_factors"]), "trials": sizes["trials"],
            "maxiter": sizes["maxiter"], "error": error, "iterations": iterations}


def to_rows(data):
    """One CSV row per (rank bound, ``m / (d r)``): median and worst error, median
    iterations, and the share of problems recovered to ``1e-6``."""
    rows = []
    for i, rank in enumerate(data["ranks"]):
        for j, m_factor in enumerate(data["m_factors"]):
            errors = data["error"][i, j]
            rows.append({"d": data["d"], "r": data["r"], "rank_bound": rank,
                         "m_factor": m_factor, "m": m_factor * data["d"] * data["r"],
                         "median_error": float(np.median(errors)),
                         "worst_error": float(np.max(errors)),
                         "median_iterations": float(np.median(data["iterations"][i, j])),
                         "recovered": float(np.mean(errors <= RECOVERED))})
    return rows


def plot(data, *, fig=None):
    """Draw F16: median final error (band: best to worst problem) against ``m / (d r)``,
    one curve per rank bound.

    Parameters
    ----------
    data : dict
        The output of :func:`run`.
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = prepare_figure(fig, (6.4, 4.6))
    ax = fig.subplots()
    x = np.asarray(data["m_factors"], dtype=float)
    for i, rank in enumerate(data["ranks"]):
        errors = np.maximum(data["error"][i], PLOT_FLOOR)
        ax.plot(x, np.median(errors, axis=1), marker="o", color=f"C{i}", label=f"r' = {rank}")
        ax.fill_between(x, errors.min(axis=1), errors.max(axis=1), color=f"C{i}", alpha=0.15)
    ax.axhline(RECOVERED, color="tab:red", ls=":", lw=1, label="1e-6")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measurements m / (d r)")
    ax.set_ylabel("final relative error ‖X − X*‖_F / ‖X*‖_F")
    ax.legend(fontsize=8)
    fig.suptitle(f"F16: {TITLE}\nd = {data['d']}, r = {data['r']}, {OUTLIERS:.0%} outliers, "
                 f"defaults, {data['trials']} problem(s) per point", fontsize=10)
    return fig
