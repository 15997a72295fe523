"""F8: the landscape of SPM's power iteration against the rank (SPM paper, Figs. 4-5).

For an order-4 tensor of side d = 20 with r unit Gaussian components (a fresh random
tensor per trial, :func:`lowrank.testing.symmetric_cp_problem`; the weights do not change
the subspace), SPM extracts the top-r subspace of the flattening and runs **one** shifted
power iteration from **one** random start on it, undeflated, with the fixed shift
``sqrt(1/2)``, tolerance 1e-10 on the step and at most 5000 iterations:
``subspace_power_method(T, r, ntries=1, shift="fixed", tol=1e-10, maxiter=5000,
callback=lambda *a: True)`` (the callback stops SPM after its first component, whose
iteration count and final objective ``F(x) = ||P_V x^{(x)2}||^2`` are the one row of
``history``).  Each trial is one of

- *component found*: ``max_i |<x, a_i>| > 1 - 1e-6``;
- *other global maximum*: ``F(x) > 1 - 1e-10`` but not a component (``x^{(x)2}`` lies in
  the span of the ``a_i^{(x)2}`` without being one of them);
- *spurious local maximum*: stopped with ``F(x) <= 1 - 1e-10``;
- *no convergence*: ``maxiter`` iterations without the step falling below 1e-10.

(a) the fractions of the outcomes against r, stacked; (b) the mean +- std of the
iterations.  The components stay identifiable up to ``C(21, 2) - 20 = 190`` (dashed
line), :func:`lowrank.tensor.rank_bounds`; above 0.8 of it (r > 152) SPM warns that it
may fail (the warning is silenced here: that regime is what the figure measures).

Beyond 190 :func:`~lowrank.tensor.subspace_power_method` refuses the rank (ValueError),
so for r in (190, 200] this module runs the same steps through SPM's private pieces
(``_spm._extract``, ``_power.PowerTables``, ``random_starts`` and ``power_batch``), to
show the drop past the limit.  Both paths draw the same numbers from the same ``rng``:
below the limit they give bit-identical results (checked by the tests).

Differences from the reference script (``test_power_method.m``): the start is SPM's
random point of the subspace (a Gaussian in the basis contracted with a Gaussian
vector, as SPM itself starts), not a uniform point of the sphere, and a component is
recognized at ``1 - 1e-6`` rather than ``1 - 5e-11``.  The ``paper`` scale runs the
paper's 10^4 trials for each r from 120 to 200: about 810,000 power iterations, several
hours on 2 cores; ``small`` runs 40 trials at 12 ranks (about a minute).
"""

import logging
import math
import time
import warnings

import numpy as np

from .._rng import check_rng, kernel_seed
from .._threads import single_threaded
from .._validation import check_option
from ..exceptions import LowrankWarning
from ..tensor import rank_bounds, subspace_power_method
from ..testing import symmetric_cp_problem
from ._common import prepare_figure
from ._tensor_common import trial_rng

__all__ = ["classify", "first_component", "n_steps", "plot", "run", "to_rows"]

logger = logging.getLogger(__name__)

FIGURE_ID = "F8"
TITLE = "tensor: outcomes of one SPM power iteration vs rank (order 4, d = 20)"
#: Size of the figure in inches.
FIGURE_SIZE = (12, 5.2)

SIDE, ORDER = 20, 4
#: The identifiability limit ``C(21, 2) - 20 = 190`` and SPM's practical limit 152.
PRACTICAL, LIMIT = rank_bounds(SIDE, ORDER)
MAXITER, TOL = 5000, 1e-10
#: A trial found a component when ``max_i |<x, a_i>| > 1 - COMPONENT_TOL``.
COMPONENT_TOL = 1e-6
#: ... and reached a global maximum when ``F(x) > 1 - GLOBAL_TOL``.
GLOBAL_TOL = 1e-10
OUTCOMES = ("component", "other_global", "spurious_local", "no_convergence")
LABELS = {"component": "component found", "other_global": "other global maximum",
          "spurious_local": "spurious local maximum", "no_convergence": "no convergence"}
COLORS = {"component": "tab:green", "other_global": "tab:blue",
          "spurious_local": "tab:red", "no_convergence": "0.6"}
#: Columns of the CSV computed from wall-clock times (they differ from run to run).
TIMING_COLUMNS = ("time_per_trial",)

_SCALES = {
    # for the test suite only: seconds
    "tiny": {"ranks": (120, 150, 195), "trials": 3},
    # about a minute on 2 cores
    "small": {"ranks": (120, 130, 140, 150, 160, 170, 175, 180, 185, 190, 195, 200),
              "trials": 40},
    # papers/tensor_spm.md, Figs. 4-5: 10^4 trials for each r in 120..200 (hours)
    "paper": {"ranks": tuple(range(120, 201)), "trials": 10_000},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def n_steps(scale="small"):
    """Number of trials :func:`run` performs.

    Examples
    --------
    >>> from lowrank.experiments.spm_landscape import n_steps
    >>> n_steps("small"), n_steps("paper")
    (480, 810000)
    """
    sizes = _sizes(scale)
    return len(sizes["ranks"]) * sizes["trials"]


def _private_first_component(T, rank, rng):
    """SPM's first power iteration through its private pieces (any rank up to the
    flattening's): the steps of :func:`subspace_power_method` before its first callback,
    drawing the same numbers from ``rng``."""
    from ..tensor._power import PowerTables, power_batch, random_starts, shift_constant
    from ..tensor._spm import _extract
    from ..tensor._tensors import dense_operand

    operand = dense_operand(T, check_finite=True)
    xp, d, n = operand.xp, operand.dim, math.ceil(operand.order / 2)
    V = _extract(operand, xp, rank, 1e-4)[0]
    tables = PowerTables(xp, d, n, V)
    outcome = power_batch(tables, V, random_starts(tables, V, rng, 1), maxiter=MAXITER,
                          tol=TOL, shift=shift_constant(n), adaptive=False, accept_tol=1e-2)
    return np.asarray(outcome.X[:, 0]), int(outcome.iterations[0]), float(outcome.f[0])


def first_component(T, rank, rng, *, private=None):
    """``(x, iterations, objective)`` of SPM's first power iteration from one random
    start, fixed shift, undeflated subspace.

    Parameters
    ----------
    T : array (d,) * m
        A symmetric tensor.
    rank : int
        The subspace's dimension.
    rng : numpy.random.Generator
        Draws the start.
    private : bool, optional
        Run SPM's private pieces instead of :func:`subspace_power_method` (the default
        above :func:`~lowrank.tensor.rank_bounds` ``[1]``, where the public function
        refuses the rank).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.spm_landscape import first_component
    >>> from lowrank.testing import symmetric_cp_problem
    >>> p = symmetric_cp_problem(6, 4, 4, rng=0)
    >>> x, its, f = first_component(p.tensor, 4, np.random.default_rng(1))
    >>> bool(np.max(np.abs(p.factors.T @ x)) > 1 - 1e-6), round(f, 9)
    (True, 1.0)
    """
    d, m = T.shape[0], T.ndim
    if private is None:
        private = rank > rank_bounds(d, m)[1]
    if private:
        return _private_first_component(T, rank, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowrankWarning)  # above the practical rank
        res = subspace_power_method(T, rank, ntries=1, shift="fixed", tol=TOL,
                                    maxiter=MAXITER, rng=rng, callback=lambda *a: True)
    return (np.asarray(res.factors[:, 0]), int(res.history["iterations"][0]),
            float(res.history["objective"][0]))


def classify(cosine, iterations, objective, maxiter=MAXITER):
    """The outcome's index in :data:`OUTCOMES` (the reference script's order: no
    convergence first, then component, other global maximum, spurious local maximum).

    Examples
    --------
    >>> from lowrank.experiments.spm_landscape import OUTCOMES, classify
    >>> [OUTCOMES[classify(*t)] for t in ((1.0, 300, 1.0), (0.9, 300, 1.0),
    ...                                   (0.9, 300, 0.99), (1.0, 5000, 1.0))]
    ['component', 'other_global', 'spurious_local', 'no_convergence']
    """
    if iterations >= maxiter:
        return 3
    if cosine > 1 - COMPONENT_TOL:
        return 0
    if objective > 1 - GLOBAL_TOL:
        return 1
    return 2


def run(scale="small", rng=0, progress=None):
    """Run F8: ``trials`` fresh tensors and power iterations for each rank.

    Parameters
    ----------
    scale : {"small", "paper"}
        Ranks and trials (see the module docstring).
    rng : None, int or numpy.random.Generator
        Seed of the tensors and the starts.
    progress : callable, optional
        Called with the number of trials done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``ranks``; ``outcome`` (index into ``outcomes``), ``iterations``, ``objective``
        and ``max_cosine`` (``max_i |<x, a_i>|``), each ``ranks x trials``;
        ``fractions`` (``ranks x 4``, rows summing to 1), ``mean_iterations``,
        ``std_iterations``, ``time_per_trial`` and ``private`` (whether SPM's private
        pieces ran, above ``limit``) per rank; ``d``, ``order``, ``limit``,
        ``practical``, ``maxiter``, ``tol``.
    """
    sizes = _sizes(scale)
    ranks = np.asarray(sizes["ranks"])
    n_trials = sizes["trials"]
    seed = kernel_seed(check_rng(rng))
    shape = (ranks.size, n_trials)
    outcome = np.zeros(shape, dtype=np.int64)
    iterations = np.zeros(shape, dtype=np.int64)
    objective, cosine = np.zeros(shape), np.zeros(shape)
    per_trial = np.zeros(ranks.size)
    start = time.perf_counter()
    with single_threaded():
        first_component(symmetric_cp_problem(6, 4, ORDER, rng=0).tensor, 4,
                        np.random.default_rng(0))  # compile the kernel off the clock
        for i, r in enumerate(ranks):
            tick = time.perf_counter()
            for t in range(n_trials):
                trial = trial_rng(seed, r, t)
                problem = symmetric_cp_problem(SIDE, int(r), ORDER, rng=trial)
                x, its, f = first_component(problem.tensor, int(r), trial)
                c = float(np.max(np.abs(problem.factors.T @ x)))
                iterations[i, t], objective[i, t], cosine[i, t] = its, f, c
                outcome[i, t] = classify(c, its, f)
                if progress is not None:
                    progress(1)
            per_trial[i] = (time.perf_counter() - tick) / n_trials
    fractions = np.stack([np.mean(outcome == k, axis=1) for k in range(len(OUTCOMES))],
                         axis=1)
    logger.info("F8 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {"figure": FIGURE_ID, "scale": scale, "d": SIDE, "order": ORDER,
            "limit": LIMIT, "practical": PRACTICAL, "maxiter": MAXITER, "tol": TOL,
            "ranks": ranks, "n_trials": n_trials, "outcomes": list(OUTCOMES),
            "outcome": outcome, "iterations": iterations, "objective": objective,
            "max_cosine": cosine, "fractions": fractions,
            "mean_iterations": iterations.mean(axis=1),
            "std_iterations": iterations.std(axis=1), "time_per_trial": per_trial,
            "private": ranks > LIMIT}


def to_rows(data):
    """One CSV row per rank."""
    rows = []
    for i, r in enumerate(data["ranks"]):
        row = {"d": data["d"], "order": data["order"], "rank": int(r),
               "trials": int(data["n_trials"]),
               "spm_path": "private" if data["private"][i] else "public"}
        for k, name in enumerate(data["outcomes"]):
            row[f"fraction_{name}"] = float(data["fractions"][i, k])
        row.update({"mean_iterations": float(data["mean_iterations"][i]),
                    "std_iterations": float(data["std_iterations"][i]),
                    "time_per_trial": float(data["time_per_trial"][i])})
        rows.append(row)
    return rows


def plot(data, *, fig=None):
    """Draw F8: (a) the outcome fractions against r, stacked, (b) the mean +- std of the
    iterations (log scale); dashed: the identifiability limit r = 190.

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
    left, right = fig.subplots(1, 2)
    ranks = np.asarray(data["ranks"], dtype=float)
    names = data["outcomes"]
    left.stackplot(ranks, 100 * data["fractions"].T,
                   labels=[LABELS.get(n, n) for n in names],
                   colors=[COLORS.get(n) for n in names], alpha=0.85)
    left.set_ylim(0, 100)
    left.set_ylabel("outcome (% of trials)")
    left.set_title(f"(a) outcome of one power iteration from one start "
                   f"({data['n_trials']} trials per r)", fontsize=10)
    mean, std = data["mean_iterations"], data["std_iterations"]
    right.plot(ranks, mean, color="black", marker="o", ms=4, lw=1.5, label="mean")
    right.fill_between(ranks, np.maximum(mean - std, 1.0), mean + std, color="0.5",
                       alpha=0.3, lw=0, label="mean ± std")
    right.axhline(data["maxiter"], color="0.4", ls=":", lw=1,
                  label=f"maxiter = {data['maxiter']}")
    right.set_yscale("log")
    right.set_ylim(top=2 * data["maxiter"])
    right.set_ylabel(f"iterations until ‖x_k+1 − x_k‖ < {data['tol']:g}")
    right.set_title("(b) iterations of the power iteration", fontsize=10)
    for ax in (left, right):
        ax.axvline(data["limit"], color="black", ls="--", lw=1.2,
                   label=f"identifiability limit r = {data['limit']}")
        ax.axvline(data["practical"], color="0.3", ls=":", lw=1,
                   label=f"SPM warns above r = {data['practical']}")
        ax.set_xlim(ranks[0], ranks[-1])
        ax.set_xlabel("rank r")
        ax.grid(True, alpha=0.3)
    left.legend(loc="lower left", fontsize=8, framealpha=0.9)
    right.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"F8: SPM landscape, order {data['order']}, d = {data['d']}, unit "
                 "Gaussian components, fixed shift √½, undeflated subspace\n"
                 f"(r > {data['limit']}: SPM's private steps, since the public function "
                 "refuses the rank; one thread)", fontsize=10.5)
    return fig
