"""F15: the step-budget map of the sub-gradient method (ours).

The paper's fixed schedule ``eta rho^t / ||Q_t||_2`` spends the budget
``sum_t eta rho^t = eta (1 - rho^T) / (1 - rho)`` over ``T`` iterations.  On one Gaussian
sensing problem (:func:`~lowrank.experiments._robust_common.sensing_problem`: PSD ground
truth of rank ``r``, 10 % outliers of magnitude ``10 max|y|``) with the rank bound
``r' = d``, every ``(eta, rho)`` of a grid runs from the paper's small spectral start at
two scales ``alpha``; each run's final error is drawn against the budget it spent, with
the escape estimate of :func:`lowrank.robust.subgradient_recovery` (the budget the
weakest direction needs to leave the start) as a vertical line and the default schedule
(which chooses its budget from the run) as a star.  Three regions show: left of the line
the iterate never escapes (error about 1), near it the matched budgets, far right the
over-budget runs in which the spurious directions of the over-parameterized factor grow
back (the error rises with the budget).

``paper``: ``d = 20``, ``r = 3``, ``m = 20 d r``, ``eta`` in {0.05, 0.1, 0.2, 0.3} x
``rho`` in {0.995, 0.998, 0.999}, ``alpha`` in {1e-6, 1e-8}, ``10^4`` iterations at
most (a few minutes on 2 cores); ``small``: ``d = 12``, ``r = 2``, ``eta`` in {0.05,
0.1, 0.2} x ``rho`` in {0.99, 0.995, 0.998}, 5,000 iterations at most (under a minute).
"""

import numpy as np

from .._rng import check_rng, kernel_seed
from .._validation import check_option
from ._common import prepare_figure
from ._robust_common import quiet_recovery, relative_error, sensing_problem
from ._tensor_common import trial_rng

__all__ = ["n_steps", "plot", "run", "to_rows"]

TITLE = "robust: final error of the sub-gradient method against its step budget (ours)"
OUTLIERS = 0.1
PLOT_FLOOR = 1e-17

_SCALES = {
    # for the test suite only: seconds
    "tiny": {"d": 8, "r": 1, "m_factor": 20, "etas": (0.02, 0.1), "rhos": (0.99, 0.995),
             "alphas": (1e-6,), "maxiter": 3000},
    "small": {"d": 12, "r": 2, "m_factor": 20, "etas": (0.05, 0.1, 0.2),
              "rhos": (0.99, 0.995, 0.998), "alphas": (1e-6, 1e-8), "maxiter": 5000},
    "paper": {"d": 20, "r": 3, "m_factor": 20, "etas": (0.05, 0.1, 0.2, 0.3),
              "rhos": (0.995, 0.998, 0.999), "alphas": (1e-6, 1e-8), "maxiter": 10_000},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def n_steps(scale="small"):
    """Runs :func:`run` makes: per ``alpha``, the default and every ``(eta, rho)``.

    Examples
    --------
    >>> from lowrank.experiments.subgradient_budget_map import n_steps
    >>> n_steps("small"), n_steps("paper")
    (20, 26)
    """
    sizes = _sizes(scale)
    return len(sizes["alphas"]) * (1 + len(sizes["etas"]) * len(sizes["rhos"]))


def run(scale="small", rng=0, progress=None):
    """Run F15.

    Parameters
    ----------
    scale : {"small", "paper"}
    rng : None, int or numpy.random.Generator
        Seeds the problem (the same one for every run).
    progress : callable, optional
        Called with the number of runs done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``d``, ``r``, ``m``, ``etas``, ``rhos``, ``alphas``, ``maxiter``; per ``alpha``:
        ``escape_estimate``, the default's ``default_error``, ``default_budget`` and
        ``default_iterations``; ``error``, ``budget`` and ``iterations`` of the fixed
        schedules (``alphas x etas x rhos``).
    """
    sizes = _sizes(scale)
    d, r = sizes["d"], sizes["r"]
    m = sizes["m_factor"] * d * r
    A, y, X = sensing_problem(d, r, 1.0, OUTLIERS, m, trial_rng(kernel_seed(check_rng(rng)), 0))
    shape = (len(sizes["alphas"]), len(sizes["etas"]), len(sizes["rhos"]))
    out = {key: np.full(shape, np.nan) for key in ("error", "budget")}
    out["iterations"] = np.zeros(shape, dtype=np.int64)
    default = {key: np.full(shape[0], np.nan)
               for key in ("error", "budget", "iterations", "escape_estimate")}
    for k, alpha in enumerate(sizes["alphas"]):
        res = quiet_recovery(A, y, d, init_scale=alpha, maxiter=sizes["maxiter"])
        default["error"][k], default["budget"][k] = relative_error(res, X), res.budget
        default["iterations"][k], default["escape_estimate"][k] = res.n_iter, \
            res.escape_estimate
        _tick(progress)
        for a, eta in enumerate(sizes["etas"]):
            for b, rho in enumerate(sizes["rhos"]):
                res = quiet_recovery(A, y, d, init_scale=alpha, step_size=eta, decay=rho,
                                     maxiter=sizes["maxiter"])
                out["error"][k, a, b] = relative_error(res, X)
                out["budget"][k, a, b], out["iterations"][k, a, b] = res.budget, res.n_iter
                _tick(progress)
    return {"d": d, "r": r, "m": m, "etas": list(sizes["etas"]), "rhos": list(sizes["rhos"]),
            "alphas": list(sizes["alphas"]), "maxiter": sizes["maxiter"],
            "escape_estimate": default["escape_estimate"],
            "default_error": default["error"], "default_budget": default["budget"],
            "default_iterations": default["iterations"].astype(np.int64), **out}


def _tick(progress):
    if progress is not None:
        progress(1)


def to_rows(data):
    """One CSV row per run: ``alpha``, the schedule (``eta, rho``, or ``default``), the
    budget spent, the iterations, the final error and the escape estimate."""
    rows = []
    for k, alpha in enumerate(data["alphas"]):
        common = {"d": data["d"], "r": data["r"], "m": data["m"], "alpha": alpha,
                  "escape_estimate": float(data["escape_estimate"][k])}
        rows.append({**common, "schedule": "default", "eta": 0.1, "rho": "adaptive",
                     "budget": float(data["default_budget"][k]),
                     "iterations": int(data["default_iterations"][k]),
                     "error": float(data["default_error"][k])})
        for a, eta in enumerate(data["etas"]):
            for b, rho in enumerate(data["rhos"]):
                rows.append({**common, "schedule": "fixed", "eta": eta, "rho": rho,
                             "budget": float(data["budget"][k, a, b]),
                             "iterations": int(data["iterations"][k, a, b]),
                             "error": float(data["error"][k, a, b])})
    return rows


def plot(data, *, fig=None):
    """Draw F15: one panel per ``alpha``, final error against the budget spent, colour by
    ``eta`` and marker by ``rho``, with the escape estimate and the default.

    Parameters
    ----------
    data : dict
        The output of :func:`run`.
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    alphas = data["alphas"]
    fig = prepare_figure(fig, (5.2 * len(alphas), 4.6))
    axes = np.atleast_1d(fig.subplots(1, len(alphas), sharey=True))
    markers = "osD^v"
    for k, (ax, alpha) in enumerate(zip(axes, alphas, strict=True)):
        for a, eta in enumerate(data["etas"]):
            for b in range(len(data["rhos"])):
                ax.scatter(data["budget"][k, a, b],
                           max(data["error"][k, a, b], PLOT_FLOOR), s=36,
                           marker=markers[b % len(markers)], color=f"C{a}",
                           label=(f"η = {eta:g}" if b == 0 else None) if k == 0 else None)
        ax.axvline(data["escape_estimate"][k], color="0.3", ls="--", lw=1,
                   label="escape estimate" if k == 0 else None)
        ax.scatter(data["default_budget"][k], max(data["default_error"][k], PLOT_FLOOR),
                   marker="*", s=220, color="tab:red", edgecolors="black", zorder=3,
                   label="default (adaptive)" if k == 0 else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("budget spent Σ η_t")
        ax.set_title(f"α = {alpha:g}", fontsize=10)
    axes[0].set_ylabel("final relative error ‖X − X*‖_F / ‖X*‖_F")
    for b, rho in enumerate(data["rhos"]):
        axes[0].scatter([], [], marker=markers[b % len(markers)], color="0.5",
                        label=f"ρ = {rho:g}")
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"F15: {TITLE}\nd = {data['d']}, r = {data['r']}, r' = d, m = "
                 f"{data['m']}, {OUTLIERS:.0%} outliers, at most {data['maxiter']} "
                 "iterations", fontsize=10)
    return fig
