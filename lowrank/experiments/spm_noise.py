"""F7: accuracy of the subspace power method on noisy tensors (SPM paper, Fig. 3).

A symmetric tensor ``T_clean = sum_i a_i^{(x) m}`` with correlated factors
``a_i = (randn(d) + 1) / sqrt(d)`` (:func:`lowrank.testing.symmetric_cp_problem` with
``correlated=True``; unit weights before the factors are normalized) observed as
``T = T_clean + sigma N``, with ``N`` a symmetrized Gaussian of unit Frobenius norm
(:func:`lowrank.testing.symmetric_noise`, a fresh one per ``sigma``), for ``sigma`` in
``10^{-4:0.5:0}``.  Two panels, as in the paper: (a) ``(m, d, r) = (3, 30, 28)`` with 3
tries, (b) ``(4, 15, 30)`` with 2 tries.  Methods, all given the rank (a noisy tensor
fills the flattening's spectrum):

- :func:`lowrank.tensor.subspace_power_method` with its defaults;
- the same with ``refine=True``: its answer polished on the CP objective
  ``||T - T_hat||_F`` (the same seed, so it starts from the plain SPM answer);
- tensorly's ALS, ``parafac(T, r, init=..., n_iter_max=1000, tol=1e-10,
  linesearch=True)``, the first try from ``init="svd"`` (deterministic), the others from
  ``init="random"``; it ignores the symmetry.

The error is the paper's: the **absolute** ``min over tries ||T_clean - T_hat||_F``
(against the clean tensor; the noise itself has norm ``sigma``, the dotted line).  Below
the noise level the error of a consistent estimator is proportional to ``sigma``;
``error_over_sigma`` in the CSV is that ratio.  The bottom row is the median time over
the tries, one thread (Numba and BLAS) for every method, after a warm-up off the clock.
A :class:`~lowrank.exceptions.ConvergenceWarning` (expected at high noise: no start is
accepted, or the refinement hits ``refine_maxiter``) is caught and recorded as
``converged = False`` (hollow markers: no try converged).  tensorly is optional: without
it its curves are skipped and ``data["note"]`` says so.

``paper`` runs the sizes and tries above (minutes on 2 cores); ``small`` the same sizes
with 5 values of ``sigma`` and fewer tries (about a minute).
"""

import logging
import time
import warnings

import numpy as np

from .._rng import check_rng, kernel_seed
from .._threads import single_threaded
from .._validation import check_option
from ..exceptions import ConvergenceWarning
from ..tensor import subspace_power_method
from ..testing import symmetric_cp_problem, symmetric_noise
from ._common import prepare_figure
from ._tensor_common import TENSORLY_MISSING, band, load_tensorly, run_parafac, trial_rng

__all__ = ["n_steps", "plot", "run", "sigmas", "to_rows"]

logger = logging.getLogger(__name__)

FIGURE_ID = "F7"
TITLE = "tensor: SPM error vs noise level, with refinement, vs tensorly parafac"
#: Size of the figure in inches.
FIGURE_SIZE = (12, 8.5)

METHODS = ("spm", "spm_refine", "parafac")
LABELS = {"spm": "SPM", "spm_refine": "SPM + refine=True",
          "parafac": "tensorly parafac (ALS, line search)"}
COLORS = {"spm": "tab:blue", "spm_refine": "tab:purple", "parafac": "tab:orange"}
MARKERS = {"spm": "o", "spm_refine": "D", "parafac": "s"}
#: tensorly parafac's options; the first try uses ``init="svd"``, the others "random".
#: ``n_iter_max`` is 1000 (300 at the test suite's "tiny" scale).
PARAFAC_OPTIONS = {"tol": 1e-10, "linesearch": True}
#: Columns of the CSV computed from wall-clock times (they differ from run to run).
TIMING_COLUMNS = ("time_median", "time_min")

_SCALES = {
    # for the test suite only: seconds
    "tiny": {"panels": ((3, 8, 6, 1), (4, 5, 6, 1)), "log_sigmas": (-4.0, -2.0, 0.0),
             "parafac_iter": 300},
    # the paper's sizes, half the values of sigma and fewer tries: about a minute
    "small": {"panels": ((3, 30, 28, 2), (4, 15, 30, 1)),
              "log_sigmas": (-4.0, -3.0, -2.0, -1.0, 0.0), "parafac_iter": 1000},
    # papers/tensor_spm.md, Fig. 3a/3b: (m, d, r, tries)
    "paper": {"panels": ((3, 30, 28, 3), (4, 15, 30, 2)),
              "log_sigmas": tuple(np.arange(-4.0, 0.25, 0.5)), "parafac_iter": 1000},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def sigmas(scale="small"):
    """The noise levels of a scale.

    Examples
    --------
    >>> from lowrank.experiments.spm_noise import sigmas
    >>> sigmas("small").tolist()
    [0.0001, 0.001, 0.01, 0.1, 1.0]
    >>> len(sigmas("paper"))
    9
    """
    return 10.0 ** np.asarray(_sizes(scale)["log_sigmas"], dtype=float)


def n_steps(scale="small"):
    """Number of (panel, sigma, method, try) runs :func:`run` reports.

    Examples
    --------
    >>> from lowrank.experiments.spm_noise import n_steps
    >>> n_steps("small"), n_steps("paper")
    (45, 135)
    """
    sizes = _sizes(scale)
    tries = sum(p[3] for p in sizes["panels"])
    return tries * len(sizes["log_sigmas"]) * len(METHODS)


def _warm_up(tl):
    """Compile SPM's kernels (both orders, with refinement) and load tensorly's code."""
    for order in (3, 4):
        p = symmetric_cp_problem(5, 4, order, rng=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            subspace_power_method(p.tensor, 4, rng=0, refine=True)
    if tl is not None:
        p = symmetric_cp_problem(4, 3, 3, rng=0)
        run_parafac(tl, p.tensor, 3, init="svd", n_iter_max=5, tol=1e-10, seed=0)


def _run_spm(T, rank, seed, refine):
    """``(estimate, seconds, converged)``: SPM, the ConvergenceWarning caught."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        res = subspace_power_method(T, rank, rng=seed, refine=refine)
        elapsed = time.perf_counter() - start
    converged = res.converged and not any(
        issubclass(w.category, ConvergenceWarning) for w in caught)
    return res.to_tensor(), elapsed, converged


def _one(method, tl, T, rank, seed, attempt, n_iter_max):
    if method == "parafac":
        out = run_parafac(tl, T, rank, init="svd" if attempt == 0 else "random",
                          seed=seed, n_iter_max=n_iter_max, **PARAFAC_OPTIONS)
        return out.estimate, out.time, out.converged
    return _run_spm(T, rank, seed, refine=method == "spm_refine")


def run(scale="small", rng=0, progress=None):
    """Run F7: every method, ``tries`` times, on one noisy tensor per panel and sigma.

    Parameters
    ----------
    scale : {"small", "paper"}
        Problem sizes (see the module docstring).
    rng : None, int or numpy.random.Generator
        Seed of the tensors, the noise and every method's starts.
    progress : callable, optional
        Called with the number of runs done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``sigmas``, ``methods``, ``panels`` (``order``, ``d``, ``rank``, ``tries`` and
        ``clean_norm`` per panel); ``error`` (``||T_clean - T_hat||_F``), ``fit``
        (``||T - T_hat||_F``, against the noisy tensor), ``time`` and ``converged``,
        each ``panels x methods x sigmas x max tries`` (NaN / False past a panel's
        tries); ``min_error``, ``min_fit``, ``median_time`` (``panels x methods x
        sigmas``) and ``error_over_sigma`` at the smallest sigma (``panels x methods``);
        ``tensorly`` (version, ``""`` if missing) and ``note``.
    """
    sizes = _sizes(scale)
    levels = sigmas(scale)
    tl = load_tensorly()
    seed = kernel_seed(check_rng(rng))
    panels = sizes["panels"]
    tries = max(p[3] for p in panels)
    shape = (len(panels), len(METHODS), levels.size, tries)
    error, fit, times = (np.full(shape, np.nan) for _ in range(3))
    converged = np.zeros(shape, dtype=bool)
    start = time.perf_counter()
    with single_threaded():
        _warm_up(tl)
        info = []
        for a, (order, d, rank, n_tries) in enumerate(panels):
            clean = symmetric_cp_problem(d, rank, order, weights="ones", correlated=True,
                                         rng=trial_rng(seed, a)).tensor
            info.append({"order": order, "d": d, "rank": rank, "tries": n_tries,
                         "clean_norm": float(np.linalg.norm(clean))})
            for k, sigma in enumerate(levels):
                T = clean + sigma * symmetric_noise(d, order, rng=trial_rng(seed, a, k))
                for j, method in enumerate(METHODS):
                    for t in range(n_tries):
                        if method != "parafac" or tl is not None:
                            # spm and spm_refine share the seed: refine polishes SPM's answer
                            s = kernel_seed(trial_rng(seed, a, k, t, method == "parafac"))
                            estimate, elapsed, ok = _one(method, tl, T, rank, s, t,
                                                         sizes["parafac_iter"])
                            error[a, j, k, t] = np.linalg.norm(estimate - clean)
                            fit[a, j, k, t] = np.linalg.norm(estimate - T)
                            times[a, j, k, t], converged[a, j, k, t] = elapsed, ok
                        if progress is not None:
                            progress(1)
    min_error, min_fit = band(error, low=0.0)[1], band(fit, low=0.0)[1]
    median_time = band(times)[0]
    logger.info("F7 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {"figure": FIGURE_ID, "scale": scale, "sigmas": levels, "methods": list(METHODS),
            "panels": info, "error": error, "fit": fit, "time": times,
            "converged": converged, "min_error": min_error, "min_fit": min_fit,
            "median_time": median_time, "error_over_sigma": min_error[..., 0] / levels[0],
            "parafac_options": {**PARAFAC_OPTIONS, "n_iter_max": sizes["parafac_iter"]},
            "tensorly": "" if tl is None else tl.__version__,
            "note": TENSORLY_MISSING if tl is None else ""}


def to_rows(data):
    """One CSV row per (panel, method, sigma)."""
    rows = []
    for a, panel in enumerate(data["panels"]):
        for j, method in enumerate(data["methods"]):
            for k, sigma in enumerate(data["sigmas"]):
                t = data["time"][a, j, k, :panel["tries"]]
                ran = np.isfinite(t)
                rows.append({
                    "order": panel["order"], "d": panel["d"], "rank": panel["rank"],
                    "sigma": float(sigma), "method": method, "tries": int(ran.sum()),
                    "min_abs_error": float(data["min_error"][a, j, k]),
                    "error_over_sigma": float(data["min_error"][a, j, k] / sigma),
                    "min_fit": float(data["min_fit"][a, j, k]),
                    "converged_tries": int(data["converged"][a, j, k].sum()),
                    "time_median": float(data["median_time"][a, j, k]),
                    "time_min": float(np.min(t[ran])) if ran.any() else float("nan"),
                })
    return rows


def refinement_summary(data, a):
    """``(error ratio, time ratio)`` of SPM + refine against parafac in panel ``a``:
    the medians over sigma of ``error_refine / error_parafac`` and ``time_parafac /
    time_refine`` (NaN without parafac).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.spm_noise import refinement_summary
    >>> data = {"methods": ["spm", "spm_refine", "parafac"],
    ...         "min_error": np.array([[[2.0, 2.0], [1.0, 1.0], [1.0, 2.0]]]),
    ...         "median_time": np.array([[[0.1, 0.1], [0.2, 0.2], [2.0, 4.0]]])}
    >>> [round(float(x), 6) for x in refinement_summary(data, 0)]
    [0.75, 15.0]
    """
    refine, parafac = data["methods"].index("spm_refine"), data["methods"].index("parafac")
    err, t = data["min_error"][a], data["median_time"][a]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = err[refine] / err[parafac]
        speed = t[parafac] / t[refine]
    if not np.any(np.isfinite(ratio)):
        return float("nan"), float("nan")
    return float(np.nanmedian(ratio)), float(np.nanmedian(speed))


def plot(data, *, fig=None):
    """Draw F7: min error over the tries against sigma (top, log-log, with the noise
    norm ``sigma`` dotted) and the median time (bottom), one column per panel.

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
    axes = fig.subplots(2, len(data["panels"]), squeeze=False, sharex=True)
    s = np.asarray(data["sigmas"], dtype=float)
    for a, panel in enumerate(data["panels"]):
        top, bottom = axes[0, a], axes[1, a]
        for j, method in enumerate(data["methods"]):
            err = data["min_error"][a, j]
            if not np.any(np.isfinite(err)):
                continue
            color, marker = COLORS.get(method), MARKERS.get(method, "o")
            failed = ~data["converged"][a, j].any(axis=-1)
            top.plot(s, err, color=color, marker=marker, lw=1.5,
                     label=LABELS.get(method, method))
            top.plot(s[failed], err[failed], ls="none", marker=marker, mfc="white",
                     mec=color, ms=7, zorder=3)
            bottom.plot(s, data["median_time"][a, j], color=color, marker=marker, lw=1.5,
                        label=LABELS.get(method, method))
        top.plot(s, s, ls=":", color="0.4", lw=1, label="σ = ‖σN‖ (the noise's norm)")
        ratio, speed = refinement_summary(data, a)
        if np.isfinite(ratio):
            top.text(0.03, 0.97, f"SPM + refine vs parafac (medians over σ):\nerror × "
                     f"{ratio:.2f}, {speed:.1f}× faster", transform=top.transAxes,
                     va="top", fontsize=8.5,
                     bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
        elif data["note"]:
            top.text(0.03, 0.97, data["note"], transform=top.transAxes, va="top",
                     fontsize=8, bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
        letter = "ab"[a] if a < 2 else str(a)
        tries = f"{panel['tries']} tr" + ("ies" if panel["tries"] != 1 else "y")
        top.set_title(f"({letter}) order {panel['order']}, d = {panel['d']}, r = "
                      f"{panel['rank']}, min over {tries}", fontsize=10)
        top.set_ylabel("absolute error ‖T_clean − T̂‖_F")
        top.legend(loc="lower right", fontsize=8)
        bottom.set_ylabel("time (s), median over the tries")
        bottom.set_xlabel("noise level σ (T = T_clean + σN, ‖N‖_F = 1)")
    fig.suptitle("F7: noisy symmetric tensors, correlated factors (randn + 1)/√d, rank "
                 "given; hollow markers: no try converged (one thread)", fontsize=10.5)
    return fig
