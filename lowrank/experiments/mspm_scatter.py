"""F9: accuracy against time of the multi-subspace power method (MSPM paper).

Three tensors of the MSPM paper, each ``T_clean = sum_i w_i (x)_modes a_{mode, i}`` with
Gaussian factors of unit columns (modes of one symmetry group share theirs) and weights
``w_i = exp(U[-1, 1])`` (:func:`lowrank.testing.cp_problem` with ``weights="exp"``):

- (1,1,1): asymmetric ``100 x 100 x 100``, rank 90;
- (2,1): ``100 x 100 x 50``, symmetric in modes 1-2, rank 80;
- (4,1): ``25^4 x 10``, symmetric in its first four modes, rank 50.

Each trial adds 1 % noise, ``T = T_clean + 0.01 ||T_clean||_F N`` with ``N`` a Gaussian
tensor of unit Frobenius norm symmetrized within each group (so that ``T`` keeps the
symmetry MSPM is told about; a plain Gaussian would make MSPM refuse ``T``), and runs

- :func:`lowrank.tensor.multi_subspace_power_method` with the rank and the symmetry and
  its defaults;
- tensorly's ALS, ``parafac(T, r, init="svd", n_iter_max=1000, tol=1e-10,
  linesearch=True)``, which cannot use the symmetry: it decomposes ``T`` as an
  asymmetric tensor (its factor match score compares each mode's factor).

The scatter shows ``||T_clean - T_hat||_F / ||T_clean||_F`` against the time, both on
log axes (the paper plots their log10), one point per trial and method; the dotted line
is the noise level 0.01.  The CSV adds the factor match score
(:func:`lowrank.testing.factor_match_score`: mean ``|cos|`` after Hungarian matching, the
modes' cosines multiplied).  Every method runs on one thread (Numba and BLAS), after a
warm-up off the clock.  A :class:`~lowrank.exceptions.ConvergenceWarning` is caught and
recorded as ``converged = False``.  tensorly is optional: without it its points are
skipped and ``data["note"]`` says so.

``paper``: the sizes above, 40 trials each (hours on 2 cores); ``small``: ``40^3``
rank 30, ``40 x 40 x 20`` rank 25 and ``8^4 x 5`` rank 20 (admissible ranks 40, 40 and
36), 3 trials (about a minute).
"""

import itertools
import logging
import math
import time
import warnings

import numpy as np

from .._rng import check_rng, kernel_seed
from .._threads import single_threaded
from .._validation import check_option
from ..exceptions import ConvergenceWarning
from ..tensor import multi_subspace_power_method
from ..testing import cp_problem, factor_match_score
from ._common import prepare_figure
from ._tensor_common import TENSORLY_MISSING, load_tensorly, run_parafac, trial_rng

__all__ = ["group_symmetric_noise", "n_steps", "plot", "run", "to_rows"]

logger = logging.getLogger(__name__)

FIGURE_ID = "F9"
TITLE = "tensor: MSPM relative error vs time on (1,1,1), (2,1), (4,1) tensors vs tensorly"
#: Size of the figure in inches.
FIGURE_SIZE = (14, 6.2)

METHODS = ("mspm", "parafac")
LABELS = {"mspm": "MSPM (lowrank, given the symmetry)",
          "parafac": "tensorly parafac (ALS, asymmetric)"}
COLORS = {"mspm": "tab:blue", "parafac": "tab:orange"}
MARKERS = {"mspm": "o", "parafac": "s"}
CASES = ("(1,1,1)", "(2,1)", "(4,1)")
#: Noise level: ``||T - T_clean||_F = NOISE ||T_clean||_F``.
NOISE = 0.01
#: tensorly parafac's options.
PARAFAC_OPTIONS = {"init": "svd", "n_iter_max": 1000, "tol": 1e-10, "linesearch": True}
#: Columns of the CSV computed from wall-clock times (they differ from run to run).
TIMING_COLUMNS = ("time", "log10_time")

_SCALES = {
    # for the test suite only: seconds.  (shape, symmetry, rank) per case
    "tiny": {"cases": (((8, 8, 8), (0, 1, 2), 5), ((8, 8, 5), (0, 0, 1), 5),
                       ((5, 5, 5, 5, 3), (0, 0, 0, 0, 1), 6)), "trials": 1},
    # about a minute on 2 cores
    "small": {"cases": (((40, 40, 40), (0, 1, 2), 30), ((40, 40, 20), (0, 0, 1), 25),
                        ((8, 8, 8, 8, 5), (0, 0, 0, 0, 1), 20)), "trials": 3},
    # papers/tensor_spm.md, MSPM experiments: 40 trials each (hours)
    "paper": {"cases": (((100, 100, 100), (0, 1, 2), 90), ((100, 100, 50), (0, 0, 1), 80),
                        ((25, 25, 25, 25, 10), (0, 0, 0, 0, 1), 50)), "trials": 40},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def n_steps(scale="small"):
    """Number of (case, trial, method) runs :func:`run` reports.

    Examples
    --------
    >>> from lowrank.experiments.mspm_scatter import n_steps
    >>> n_steps("small"), n_steps("paper")
    (18, 240)
    """
    sizes = _sizes(scale)
    return len(sizes["cases"]) * sizes["trials"] * len(METHODS)


def group_symmetric_noise(shape, symmetry, rng):
    """A Gaussian tensor of unit Frobenius norm, averaged over the permutations of the
    modes within each symmetry group (the orthogonal projection onto the tensors with
    that symmetry), then scaled.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.mspm_scatter import group_symmetric_noise
    >>> N = group_symmetric_noise((3, 3, 2), (0, 0, 1), np.random.default_rng(0))
    >>> bool(np.allclose(N, N.transpose(1, 0, 2))), round(float(np.linalg.norm(N)), 12)
    (True, 1.0)
    """
    N = rng.standard_normal(shape)
    labels = tuple(symmetry)
    for label in dict.fromkeys(labels):
        modes = [i for i, other in enumerate(labels) if other == label]
        if len(modes) < 2:
            continue
        total = np.zeros_like(N)
        for perm in itertools.permutations(modes):
            axes = list(range(N.ndim))
            for src, dst in zip(modes, perm, strict=True):
                axes[src] = dst
            total += np.transpose(N, axes)
        N = total / math.factorial(len(modes))
    return N / np.linalg.norm(N)


def _warm_up(tl):
    """MSPM's and tensorly's first calls (imports, tables) off the clock."""
    for shape, symmetry, rank in _SCALES["tiny"]["cases"]:
        p = cp_problem(shape, rank, symmetry=symmetry, rng=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            multi_subspace_power_method(p.tensor, rank, symmetry=symmetry, rng=0)
    if tl is not None:
        p = cp_problem((4, 4, 4), 3, rng=0)
        run_parafac(tl, p.tensor, 3, init="svd", n_iter_max=5, tol=1e-10, seed=0)


def _run_mspm(T, rank, symmetry, seed):
    """``(estimate, factors, seconds, converged)``, the ConvergenceWarning caught."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        res = multi_subspace_power_method(T, rank, symmetry=symmetry, rng=seed)
        elapsed = time.perf_counter() - start
    converged = res.converged and not any(
        issubclass(w.category, ConvergenceWarning) for w in caught)
    return res.to_tensor(), list(res.factors), elapsed, converged


def run(scale="small", rng=0, progress=None):
    """Run F9: MSPM and tensorly parafac on ``trials`` noisy tensors of each case.

    Parameters
    ----------
    scale : {"small", "paper"}
        Problem sizes (see the module docstring).
    rng : None, int or numpy.random.Generator
        Seed of the tensors, the noise and the methods' starts.
    progress : callable, optional
        Called with the number of runs done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``cases`` (``name``, ``shape``, ``symmetry``, ``rank`` each), ``methods``;
        ``rel_error`` (``||T_clean - T_hat|| / ||T_clean||``), ``fit``
        (``||T - T_hat|| / ||T||``), ``time``, ``score`` (factor match score) and
        ``converged``, each ``cases x methods x trials`` (NaN / False where a method did
        not run); ``noise``, ``n_trials``, ``tensorly`` (version, ``""`` if missing) and
        ``note``.
    """
    sizes = _sizes(scale)
    tl = load_tensorly()
    seed = kernel_seed(check_rng(rng))
    n_trials = sizes["trials"]
    shape = (len(sizes["cases"]), len(METHODS), n_trials)
    rel_error, fit, times, score = (np.full(shape, np.nan) for _ in range(4))
    converged = np.zeros(shape, dtype=bool)
    start = time.perf_counter()
    with single_threaded():
        _warm_up(tl)
        for c, (dims, symmetry, rank) in enumerate(sizes["cases"]):
            for t in range(n_trials):
                trial = trial_rng(seed, c, t)
                problem = cp_problem(dims, rank, symmetry=symmetry, weights="exp", rng=trial)
                clean = problem.tensor
                norm = np.linalg.norm(clean)
                T = clean + NOISE * norm * group_symmetric_noise(dims, symmetry, trial)
                for j, method in enumerate(METHODS):
                    s = kernel_seed(trial_rng(seed, c, t, j))
                    if method == "mspm":
                        estimate, factors, elapsed, ok = _run_mspm(T, rank, symmetry, s)
                    elif tl is not None:
                        out = run_parafac(tl, T, rank, seed=s, **PARAFAC_OPTIONS)
                        estimate, factors, elapsed, ok = (out.estimate, out.factors,
                                                          out.time, out.converged)
                    else:
                        estimate = None
                    if estimate is not None:
                        rel_error[c, j, t] = np.linalg.norm(estimate - clean) / norm
                        fit[c, j, t] = np.linalg.norm(estimate - T) / np.linalg.norm(T)
                        times[c, j, t], converged[c, j, t] = elapsed, ok
                        score[c, j, t] = factor_match_score(problem.factors, factors)
                    if progress is not None:
                        progress(1)
    logger.info("F9 (%s) done in %.1f s", scale, time.perf_counter() - start)
    cases = [{"name": name, "shape": tuple(dims), "symmetry": tuple(symmetry), "rank": rank}
             for name, (dims, symmetry, rank) in zip(CASES, sizes["cases"], strict=True)]
    return {"figure": FIGURE_ID, "scale": scale, "cases": cases, "methods": list(METHODS),
            "n_trials": n_trials, "noise": NOISE, "rel_error": rel_error, "fit": fit,
            "time": times, "score": score, "converged": converged,
            "parafac_options": dict(PARAFAC_OPTIONS),
            "tensorly": "" if tl is None else tl.__version__,
            "note": TENSORLY_MISSING if tl is None else ""}


def _shape_text(shape):
    return " x ".join(str(s) for s in shape)


def to_rows(data):
    """One CSV row per (case, method, trial) that ran."""
    rows = []
    for c, case in enumerate(data["cases"]):
        for j, method in enumerate(data["methods"]):
            for t in range(data["n_trials"]):
                if not np.isfinite(data["time"][c, j, t]):
                    continue
                err, seconds = data["rel_error"][c, j, t], data["time"][c, j, t]
                rows.append({
                    "case": case["name"], "shape": _shape_text(case["shape"]),
                    "symmetry": " ".join(str(s) for s in case["symmetry"]),
                    "rank": case["rank"], "method": method, "trial": t,
                    "rel_error": float(err), "log10_rel_error": float(np.log10(err)),
                    "fit": float(data["fit"][c, j, t]),
                    "factor_score": float(data["score"][c, j, t]),
                    "converged": bool(data["converged"][c, j, t]),
                    "time": float(seconds), "log10_time": float(np.log10(seconds)),
                })
    return rows


def plot(data, *, fig=None):
    """Draw F9: relative error against time (log-log), one point per trial and method,
    one panel per case; the legend gives each method's median factor match score.

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
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    fig = prepare_figure(fig, FIGURE_SIZE)
    axes = fig.subplots(1, len(data["cases"]), squeeze=False)[0]
    for c, (ax, case) in enumerate(zip(axes, data["cases"], strict=True)):
        for j, method in enumerate(data["methods"]):
            t, err = data["time"][c, j], data["rel_error"][c, j]
            ran = np.isfinite(t)
            if not ran.any():
                continue
            color, marker = COLORS.get(method), MARKERS.get(method, "o")
            ok = data["converged"][c, j] & ran
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                median_score = float(np.nanmedian(data["score"][c, j]))
            ax.scatter(t[ok], err[ok], color=color, marker=marker, s=36, alpha=0.8,
                       label=f"{LABELS.get(method, method)}: median score "
                             f"{median_score:.4f}")
            if (ran & ~ok).any():
                ax.scatter(t[ran & ~ok], err[ran & ~ok], facecolors="none",
                           edgecolors=color, marker=marker, s=36,
                           label=f"{LABELS.get(method, method)}: not converged")
        ax.axhline(data["noise"], color="0.4", ls=":", lw=1,
                   label=f"noise level ‖T − T_clean‖/‖T_clean‖ = {data['noise']:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):  # 1, 2, 5 x 10^k, plainly written
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FormatStrFormatter("%g"))
            axis.set_minor_formatter(NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
        letter = "abc"[c] if c < 3 else str(c)
        ax.set_title(f"({letter}) {case['name']}: {_shape_text(case['shape'])}, "
                     f"rank {case['rank']}\nsymmetry {case['symmetry']}", fontsize=10)
        ax.set_xlabel("time (s)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8)
        if data["note"]:
            ax.text(0.02, 0.02, data["note"], transform=ax.transAxes, fontsize=8,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    axes[0].set_ylabel("relative error ‖T_clean − T̂‖_F / ‖T_clean‖_F")
    fig.suptitle(f"F9: MSPM vs tensorly parafac, {int(100 * data['noise'])} % noise, "
                 f"{data['n_trials']} trial{'s' if data['n_trials'] != 1 else ''} per "
                 "case, Gaussian unit factors, weights exp(U[-1, 1]), one thread",
                 fontsize=10.5)
    return fig
