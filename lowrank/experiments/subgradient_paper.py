"""F14: the sub-gradient method's experiments of Ma and Fattahi (JMLR 2023, Figs. 1, 3a).

:func:`lowrank.robust.subgradient_recovery` on the paper's setting: a rank-3 PSD ground
truth (``d = 20``, unit Frobenius norm, singular values geometric with ``kappa = 2``),
``m = 500`` Gaussian measurements, the spectral start of Algorithm 2, and the relative
error ``||U_t U_t^T - X^*||_F / ||X^*||_F`` against the iteration:

- (a) rank bounds ``r'`` in {3, 4, 10, 20}, 10 % outliers of magnitude ``10 max|y|``
  (paper Fig. 1a: every ``r'`` reaches about 1e-14, no plateau);
- (b) ``r' = 20``, N(0, 100) noise on a fraction ``p`` in {0, 0.2, 0.4, 0.6} of the
  measurements (Fig. 1b: about 4e-12, 1e-8, 4e-6 and 0.1);
- (c) ``r' = 20``, 10 % outliers, initialization scale ``alpha`` in {1, 1e-5, 1e-10,
  1e-15} (Fig. 1c: about 3e-2, 6e-5, 7e-9 and 1e-12: the smaller the start, the smaller
  the error);
- (d) dense Gaussian noise N(0, 1) on every measurement, ``r' = 3`` and ``r' = 20``: the
  l1 sub-gradient method against gradient descent on the l2 loss
  ``(1/(2m)) ||A(U U^T) - y||^2`` (normalized steps ``0.1 / ||Q_t||_2``, the same
  start), both levelling off at a noise floor (Fig. 3a: near 0.2, GD slightly lower).

The paper does not report its ``(eta, rho)``; every run here uses the default schedule
(the adaptive one of :func:`~lowrank.robust.subgradient_recovery`), which stops once its
step can no longer change the iterate: curves end there, their last value drawn flat to
the right edge.  At ``p = 0.6`` in (b) the default's estimate of ``||X^*||_F`` (the median
of ``|y|``) is ruined by the majority of noisy measurements and the curve shows its
failure; the paper's schedule, tuned by hand, reaches about 0.1 there.
``paper``/``small``: the paper's sizes, 3 trials each (under a minute); lines are the
median error over the trials.
"""

import numpy as np

from .._rng import check_rng, kernel_seed
from .._validation import check_option
from ._common import prepare_figure
from ._robust_common import quiet_recovery, sensing_problem
from ._tensor_common import trial_rng

__all__ = ["gradient_descent_l2", "n_steps", "plot", "run", "to_rows"]

TITLE = ("robust: the paper's experiments: rank bound, noise on a fraction, "
         "initialization scale, dense noise vs l2 gradient descent")
#: Columns of the CSV computed from wall-clock times (none here).
TIMING_COLUMNS = ()
PANELS = ("rank_bound", "noisy_fraction", "init_scale", "dense_noise")
PLOT_FLOOR = 1e-17
_KAPPA = 2.0
_NOISES = ("outliers", "gaussian", "dense")

_SCALES = {
    "tiny": {"d": 8, "r": 2, "m": 200, "trials": 1, "maxiter": 1500,
             "ranks": (2, 8), "fractions": (0.0, 0.4), "alphas": (1e-3, 1e-8)},
    "small": {"d": 20, "r": 3, "m": 500, "trials": 3, "maxiter": 4000,
              "ranks": (3, 4, 10, 20), "fractions": (0.0, 0.2, 0.4, 0.6),
              "alphas": (1.0, 1e-5, 1e-10, 1e-15)},
}
_SCALES["paper"] = _SCALES["small"]


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def _cases(sizes):
    """``(panel, label, rank, noise, fraction, alpha, method)`` for every curve."""
    d = sizes["d"]
    cases = [("rank_bound", f"r' = {q}", q, "outliers", 0.1, 1e-8, "l1")
             for q in sizes["ranks"]]
    cases += [("noisy_fraction", f"p = {p:g}", d, "gaussian", p, 1e-8, "l1")
              for p in sizes["fractions"]]
    cases += [("init_scale", f"α = {a:g}", d, "outliers", 0.1, a, "l1")
              for a in sizes["alphas"]]
    cases += [("dense_noise", f"{name}, r' = {q}", q, "dense", 1.0, 1e-8, method)
              for q in (sizes["r"], d) for method, name in (("l1", "l1 SubGM"),
                                                            ("l2", "l2 GD"))]
    return cases


def n_steps(scale="small"):
    """Runs :func:`run` reports (curves x trials).

    Examples
    --------
    >>> from lowrank.experiments.subgradient_paper import n_steps
    >>> n_steps("small")
    48
    """
    sizes = _sizes(scale)
    return len(_cases(sizes)) * sizes["trials"]


def gradient_descent_l2(A, y, rank, *, init_scale, maxiter, X_true, step=0.1):
    """Gradient descent on ``(1/(2m)) ||A(U U^T) - y||^2`` from the same spectral start
    as :func:`~lowrank.robust.subgradient_recovery`, with normalized constant steps
    ``step / ||Q_t||_2``, ``Q_t = A^*(A(U U^T) - y) / m``; returns the error history."""
    m = A.n_measurements
    C = A.adjoint(np.sign(y)) / m
    values, vectors = np.linalg.eigh((C + C.T) / 2)
    U = init_scale * vectors[:, ::-1][:, :rank] * np.sqrt(np.maximum(values[::-1][:rank], 0))
    scale = np.linalg.norm(X_true)
    errors = np.empty(maxiter)
    for t in range(maxiter):
        Q = A.adjoint(A(U @ U.T) - y) / m
        U = U - step / np.linalg.norm(Q, 2) * (Q @ U + Q.T @ U)
        errors[t] = np.linalg.norm(U @ U.T - X_true) / scale
    return errors


def run(scale="small", rng=0, progress=None):
    """Run F14.

    Parameters
    ----------
    scale : {"small", "paper"}
        The paper's sizes either way (``small`` is ``paper``).
    rng : None, int or numpy.random.Generator
    progress : callable, optional
        Called with the number of runs done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``cases`` (panel, label, rank, noise, fraction, alpha, method per curve),
        ``errors`` (``curves x trials x maxiter``, the last value carried to the end),
        ``iterations`` (``curves x trials``, where each run stopped), ``d``, ``r``,
        ``m``, ``kappa``, ``maxiter``.
    """
    sizes = _sizes(scale)
    seed = kernel_seed(check_rng(rng))
    cases = _cases(sizes)
    maxiter, trials = sizes["maxiter"], sizes["trials"]
    errors = np.full((len(cases), trials, maxiter), np.nan)
    iterations = np.zeros((len(cases), trials), dtype=np.int64)
    for c, (_, _, rank, noise, fraction, alpha, method) in enumerate(cases):
        for k in range(trials):
            # the same problem for every curve of a panel with the same noise model
            A, y, X = sensing_problem(
                sizes["d"], sizes["r"], _KAPPA, fraction, sizes["m"],
                trial_rng(seed, k, _NOISES.index(noise), round(fraction * 100)), noise=noise)
            if method == "l2":
                history = gradient_descent_l2(A, y, rank, init_scale=alpha,
                                              maxiter=maxiter, X_true=X)
            else:
                res = quiet_recovery(A, y, rank, init_scale=alpha, maxiter=maxiter,
                                     X_true=X)
                history = np.asarray(res.history["error"])
            iterations[c, k] = history.size
            errors[c, k, :history.size] = history
            errors[c, k, history.size:] = history[-1]
            if progress is not None:
                progress(1)
    return {"cases": [list(case) for case in cases], "errors": errors,
            "iterations": iterations, "d": sizes["d"], "r": sizes["r"], "m": sizes["m"],
            "kappa": _KAPPA, "maxiter": maxiter}


def to_rows(data):
    """One CSV row per curve: its panel and setting, the median final error and the
    median iterations run."""
    rows = []
    for c, (panel, label, rank, noise, fraction, alpha, method) in enumerate(data["cases"]):
        rows.append({"panel": panel, "curve": label, "rank_bound": int(rank), "noise": noise,
                     "fraction": float(fraction), "init_scale": float(alpha),
                     "method": method,
                     "final_error_median": float(np.median(data["errors"][c, :, -1])),
                     "iterations_median": float(np.median(data["iterations"][c]))})
    return rows


def plot(data, *, fig=None):
    """Draw F14: four panels of the median relative error against the iteration.

    Parameters
    ----------
    data : dict
        The output of :func:`run`.
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = prepare_figure(fig, (13.0, 8.5))
    axes = fig.subplots(2, 2).ravel()
    titles = {"rank_bound": "(a) rank bound r', 10 % outliers",
              "noisy_fraction": "(b) r' = d, N(0, 100) noise on a fraction p",
              "init_scale": "(c) r' = d, 10 % outliers, initialization scale α",
              "dense_noise": "(d) dense N(0, 1) noise: l1 SubGM vs l2 GD"}
    steps = np.arange(1, data["maxiter"] + 1)
    for ax, panel in zip(axes, PANELS, strict=True):
        for c, case in enumerate(data["cases"]):
            if case[0] != panel:
                continue
            median = np.maximum(np.median(data["errors"][c], axis=0), PLOT_FLOOR)
            ls = "--" if case[6] == "l2" else "-"
            ax.plot(steps, median, ls=ls, lw=1.5, label=case[1])
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("‖UUᵀ − X*‖_F / ‖X*‖_F")
        ax.set_title(titles[panel], fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"F14: {TITLE} (d = {data['d']}, r = {data['r']}, m = {data['m']}, "
                 f"κ = {data['kappa']:g}; default schedule)", fontsize=10)
    return fig
