"""F12: trace error of randomly pivoted Cholesky against the rank, vs greedy and uniform.

:func:`lowrank.factorization.rp_cholesky` on Gaussian kernel matrices
``A_ij = exp(-||x_i - x_j||^2 / (2 h^2))`` of the two 2-d point sets of Chen, Epperly,
Tropp and Webber (CPAM 2025, Fig. 1; their ``gallery.py``):

- ``"smile"``: a face: two eyes (``ceil(sqrt(N))`` points each, uniform in unit disks
  centred at ``(+-4, 4)``), a mouth (``ceil(N/10)`` evenly spaced points on
  ``y = x^2/16 - 5``, ``|x| <= 5``) and the outline (the other points evenly spaced on the
  circle of radius 10); ``h = 2``;
- ``"spiral"``: one exponential arm, ``x_t = e^{0.2 t} (cos t, sin t)`` at
  ``t = (2 - 2 i/(N-1))^6``, ``i = 0..N-1``: most points crowd the centre, the outer ones
  are isolated at distances up to ``3.6e5``; ``h = 1000``.

The kernel is given to ``rp_cholesky`` as a callable ``A(rows, cols)`` with
``diag=ones(N)``, so the ``N x N`` matrix is never formed (except for the best rank-k
error below).  Methods, each run once to the largest rank ``k_max`` (the trace error at
rank ``k`` is that of the first ``k`` pivots, the output of a run asked for ``k``):

- ``"random"``: RPCholesky, the accelerated block variant (the default);
- ``"random_simple"``: RPCholesky one pivot at a time (``block_size=1``), up to
  ``simple_max_n`` points;
- ``"greedy"``: the largest residual diagonal entry (deterministic: one run);
- ``"uniform"``: uniform pivots among the indices of positive residual (uniform Nystrom);
- ``"best"``: the best rank-k trace error ``sum_{i>k} lambda_i / tr(A)`` from
  ``scipy.linalg.eigvalsh`` of the formed matrix, up to ``best_max_n`` points.

The error is ``||A - A_k||_* / ||A||_* = tr(A - A_k) / tr(A)`` of the Nystrom
approximation ``A_k = A[:, S] A[S, S]^-1 A[S, :]`` on the first ``k`` pivots ``S``,
recomputed stably from the pivots (Cholesky of ``A[S, S] + delta I`` with
``delta = 100 eps max A_ss``, as the reference ``uniform_sample``; one factorization gives
every prefix).  For the random and greedy rules it equals ``1 - ||F[:, :k]||_F^2 / tr(A)``
of ``rp_cholesky``'s own factor to rounding; ``factor_trace_error`` records the latter
for every method.  Uniform pivots may take nearly dependent points (the centre of the
spiral, the dense mouth and outline of the smile), where the factor loses accuracy
(``rp_cholesky``'s Notes): where its ``tr(A - F F^T)`` is negative (below
``-BREAKDOWN``) the panel says so.

Times are wall-clock seconds of the ``rp_cholesky`` call to rank ``k`` (from its
``history``), one thread for Numba and BLAS; ``n_evaluations`` is the kernel entries read
to rank ``k`` (the accelerated variant's per block).  ``paper``: N = 1e4 (every method,
and the best rank-k from a dense eigensolve) and N = 1e5 (the accelerated variant,
greedy and uniform), ``k <= 200``, 10 trials (minutes on 2 cores, most of it the
eigensolve at 1e4); ``small``: N = 3000 with the best rank-k, 10 trials (under a
minute).  Lines: the median over the trials; bands: 10-90 %.
"""

import logging
import math
import time

import numpy as np
import scipy.linalg

from .._rng import check_rng, kernel_seed
from .._threads import single_threaded
from .._validation import check_option
from ..factorization import rp_cholesky
from ._common import prepare_figure
from ._tensor_common import band, trial_rng

__all__ = ["factor_breakdown", "gaussian_kernel", "n_steps", "nystrom_trace_error", "plot",
           "points", "run", "smile_points", "spiral_points", "to_rows"]

logger = logging.getLogger(__name__)

FIGURE_ID = "F12"
TITLE = ("factorization: RPCholesky trace error vs rank on smile and spiral kernels, vs "
         "greedy and uniform pivots")
#: Size of the figure in inches (per row of panels: the height grows with the sizes).
FIGURE_WIDTH, ROW_HEIGHT = 13.0, 4.3

DATASETS = ("smile", "spiral")
#: Bandwidth ``h`` of the Gaussian kernel of each point set (the reference's values).
BANDWIDTHS = {"smile": 2.0, "spiral": 1000.0}
METHODS = ("random", "random_simple", "greedy", "uniform")
_OPTIONS = {"random": {"method": "random"},
            "random_simple": {"method": "random", "block_size": 1},
            "greedy": {"method": "greedy"}, "uniform": {"method": "uniform"}}
LABELS = {"random": "RPCholesky (accelerated, default)",
          "random_simple": "RPCholesky (one pivot at a time)", "greedy": "greedy pivots",
          "uniform": "uniform pivots", "best": "best rank k (eigvalsh)"}
COLORS = {"random": "tab:blue", "random_simple": "tab:cyan", "greedy": "tab:green",
          "uniform": "tab:orange", "best": "black"}
#: Pivots drawn on the point sets (first trial of random; greedy).
SHOWN_PIVOTS = 40
#: Points drawn on the point sets at most.
SHOWN_POINTS = 2500
#: Quantiles of the bands.
BAND = (0.1, 0.9)
#: Errors below this are drawn at it.
PLOT_FLOOR = 1e-16
#: ``tr(A - F F^T) / tr(A)`` below ``-BREAKDOWN`` counts as a breakdown of the factor
#: (rounding alone gives about ``-1e-15``).
BREAKDOWN = 1e-8
#: Columns of the CSV computed from wall-clock times (they differ from run to run).
TIMING_COLUMNS = ("time_to_k_median",)
#: Kernel columns evaluated at once by :func:`nystrom_trace_error` (bounds its memory).
_BLOCK_COLUMNS = 20_000

_SCALES = {
    # for the test suite only: seconds
    "tiny": {"sizes": (400,), "rank": 40, "trials": 3, "simple_max_n": 400,
             "best_max_n": 400},
    # one size with the best rank-k: about a minute
    "small": {"sizes": (3000,), "rank": 200, "trials": 10, "simple_max_n": 3000,
              "best_max_n": 3000},
    # the reference's N = 1e4 (RPCholesky paper, Fig. 1) and 1e5
    "paper": {"sizes": (10_000, 100_000), "rank": 200, "trials": 10,
              "simple_max_n": 10_000, "best_max_n": 10_000},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def _runs(method, n, sizes):
    """Runs of ``method`` at ``n`` points: 0 (skipped), 1 (greedy) or ``trials``."""
    if method == "random_simple" and n > sizes["simple_max_n"]:
        return 0
    return 1 if method == "greedy" else sizes["trials"]


def n_steps(scale="small"):
    """Number of runs (and eigensolves) :func:`run` reports.

    Examples
    --------
    >>> from lowrank.experiments.rpcholesky_trace_error import n_steps
    >>> n_steps("small"), n_steps("paper")
    (64, 106)
    """
    sizes = _sizes(scale)
    per_set = 0
    for n in sizes["sizes"]:
        per_set += sum(_runs(m, n, sizes) for m in METHODS) + int(n <= sizes["best_max_n"])
    return len(DATASETS) * per_set


def smile_points(n, rng=None):
    """The "smile" point set: two eyes, a mouth and the outline of a face (``n x 2``).

    Examples
    --------
    >>> from lowrank.experiments.rpcholesky_trace_error import smile_points
    >>> X = smile_points(1000, rng=0)
    >>> X.shape, bool(abs(abs(X[-1]).max() - 10.0) < 1e-12)   # the outline: radius 10
    ((1000, 2), True)
    """
    rng = check_rng(rng)
    eye = math.ceil(math.sqrt(n))
    mouth = math.ceil(n / 10)
    face = n - 2 * eye - mouth
    if face < 1:
        raise ValueError(f"`n` must leave points for the outline of the face; got {n}.")
    radius = np.sqrt(rng.random(2 * eye))               # uniform in the unit disk
    angle = 2 * np.pi * rng.random(2 * eye)
    eyes = np.column_stack([radius * np.cos(angle) + np.repeat([-4.0, 4.0], eye),
                            radius * np.sin(angle) + 4.0])
    x = np.linspace(-5.0, 5.0, mouth)
    theta = np.linspace(0.0, 2 * np.pi, face)
    return np.concatenate([eyes, np.column_stack([x, x**2 / 16.0 - 5.0]),
                           np.column_stack([10.0 * np.cos(theta), 10.0 * np.sin(theta)])])


def spiral_points(n):
    """The "spiral" point set: ``e^{0.2 t} (cos t, sin t)`` at ``t = (2 - 2i/(n-1))^6``
    (``n x 2``, from the outermost point inwards).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.rpcholesky_trace_error import spiral_points
    >>> X = spiral_points(5)
    >>> np.round(np.hypot(X[:, 0], X[:, 1]), 3).tolist()[-3:]
    [1.221, 1.003, 1.0]
    """
    t = np.linspace(0.0, 2.0, n)[::-1] ** 6
    r = np.exp(0.2 * t)
    return np.column_stack([r * np.cos(t), r * np.sin(t)])


def points(dataset, n, rng=None):
    """The point set ``dataset`` (``"smile"`` or ``"spiral"``) with ``n`` points."""
    check_option(dataset, "dataset", DATASETS)
    return smile_points(n, rng) if dataset == "smile" else spiral_points(n)


def gaussian_kernel(X, bandwidth):
    """``A(rows, cols) = exp(-||x_r - x_c||^2 / (2 bandwidth^2))``, the entries of the
    Gaussian kernel matrix of the points ``X`` (the callable form ``rp_cholesky`` takes).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.rpcholesky_trace_error import gaussian_kernel
    >>> A = gaussian_kernel(np.array([[0.0, 0.0], [1.0, 0.0]]), 1.0)
    >>> np.round(A(np.arange(2), np.arange(2)), 4).tolist()
    [[1.0, 0.6065], [0.6065, 1.0]]
    """
    from scipy.spatial.distance import cdist  # here: importing lowrank.experiments stays light

    X = np.asarray(X, dtype=np.float64)
    scale = -0.5 / float(bandwidth) ** 2

    def entries(rows, cols):
        return np.exp(scale * cdist(X[rows], X[cols], "sqeuclidean"))

    return entries


def nystrom_trace_error(kernel, pivots, n, trace):
    """``tr(A - A_k) / trace`` for ``k = 1..len(pivots)``, ``A_k`` the Nystrom
    approximation on the first ``k`` pivots, from a Cholesky factorization of the shifted
    ``A[S, S] + delta I`` (``delta = 100 eps max A_ss``, multiplied by 10 until it
    succeeds): one factorization and solve give every prefix.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.rpcholesky_trace_error import nystrom_trace_error
    >>> A = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
    >>> err = nystrom_trace_error(lambda r, c: A[np.ix_(r, c)], np.array([1, 0, 2]), 3, 6.0)
    >>> np.round(err, 6).tolist()      # A_1 = a_1 a_1^T / 2: tr(A - A_1) = 1.5 + 0 + 1.5
    [0.5, 0.222222, 0.0]
    """
    pivots = np.asarray(pivots, dtype=np.int64)
    C = kernel(pivots, pivots)
    delta = 100.0 * float(np.finfo(np.float64).eps) * float(np.max(np.diag(C)))
    for _ in range(8):
        try:
            L = np.linalg.cholesky(C + delta * np.eye(pivots.size))
            break
        except np.linalg.LinAlgError:
            delta *= 10.0
    else:
        raise np.linalg.LinAlgError("the pivot block is not positive definite")
    captured = np.zeros(pivots.size)
    for start in range(0, n, _BLOCK_COLUMNS):
        cols = np.arange(start, min(start + _BLOCK_COLUMNS, n), dtype=np.int64)
        Y = scipy.linalg.solve_triangular(L, kernel(pivots, cols), lower=True,
                                          check_finite=False)
        captured += np.einsum("ij,ij->i", Y, Y)
    return (trace - np.cumsum(captured)) / trace


def _best(kernel, n, rank, trace):
    """The best rank-k trace error, ``k = 1..rank``, from all the eigenvalues."""
    idx = np.arange(n, dtype=np.int64)
    values = np.maximum(scipy.linalg.eigvalsh(kernel(idx, idx), check_finite=False), 0.0)
    tail = np.cumsum(values)                       # ascending: tail[m] = sum of m+1 smallest
    return tail[n - 1 - np.arange(1, rank + 1)] / trace


def _pad(values, rank):
    """``values`` (one per pivot) carried to ``rank`` entries with its last value."""
    values = np.asarray(values, dtype=float)
    if values.size >= rank:
        return values[:rank]
    return np.concatenate([values, np.full(rank - values.size, values[-1])])


def _at_rank(history, column, rank):
    """``history[column]`` at the first row whose rank reaches each ``k = 1..rank`` (the
    last row past the run's rank)."""
    reached = np.asarray(history["rank"])
    rows = np.minimum(np.searchsorted(reached, np.arange(1, rank + 1), side="left"),
                      reached.size - 1)
    return np.asarray(history[column], dtype=float)[rows]


def run(scale="small", rng=0, progress=None):
    """Run F12: every method on both point sets at every size.

    Parameters
    ----------
    scale : {"small", "paper"}
        Problem sizes (see the module docstring).
    rng : None, int or numpy.random.Generator
        Seed of the smile's eyes and of the pivots.
    progress : callable, optional
        Called with the number of runs done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``datasets``, ``sizes``, ``methods``, ``ranks`` (``1..k_max``), ``trials``,
        ``bandwidths``; ``trace_error`` and ``factor_trace_error`` (``datasets x sizes x
        methods x trials x ranks``, NaN for runs not made), ``time_to_k`` and
        ``evaluations_to_k`` (same shape), ``time`` and ``n_evaluations`` (``datasets x
        sizes x methods x trials``, the whole run), ``rank_reached`` (pivots taken);
        ``best`` (``datasets x sizes x ranks``, NaN past ``best_max_n``); ``shown``: per
        point set, a sample of its points (``points``) and the first pivots of the first
        random trial and of greedy (``pivots``), at the first size.
    """
    sizes = _sizes(scale)
    seed = kernel_seed(check_rng(rng))
    ns, rank, trials = sizes["sizes"], sizes["rank"], sizes["trials"]
    shape = (len(DATASETS), len(ns), len(METHODS), trials)
    trace_error, factor_error, time_to_k, evals_to_k = (np.full((*shape, rank), np.nan)
                                                        for _ in range(4))
    times, evaluations, reached = (np.full(shape, np.nan) for _ in range(3))
    best = np.full((len(DATASETS), len(ns), rank), np.nan)
    shown = {}
    start = time.perf_counter()
    for a, dataset in enumerate(DATASETS):
        for b, n in enumerate(ns):
            X = points(dataset, n, trial_rng(seed, a, b))
            kernel = gaussian_kernel(X, BANDWIDTHS[dataset])
            diag, trace = np.ones(n), float(n)
            if b == 0:
                sample = trial_rng(seed, a, b, 1).choice(n, size=min(n, SHOWN_POINTS),
                                                         replace=False)
                shown[dataset] = {"points": X[np.sort(sample)], "pivots": {}}
            for m, method in enumerate(METHODS):
                for t in range(_runs(method, n, sizes)):
                    pivot_seed = kernel_seed(trial_rng(seed, a, b, m, t))
                    with single_threaded():
                        begin = time.perf_counter()
                        res = rp_cholesky(kernel, rank, diag=diag, rng=pivot_seed,
                                          **_OPTIONS[method])
                        elapsed = time.perf_counter() - begin
                    F = res.factor
                    factor_error[a, b, m, t] = _pad(
                        (trace - np.cumsum(np.einsum("ij,ij->j", F, F))) / trace, rank)
                    trace_error[a, b, m, t] = _pad(
                        nystrom_trace_error(kernel, res.pivots, n, trace), rank)
                    time_to_k[a, b, m, t] = _at_rank(res.history, "time", rank)
                    evals_to_k[a, b, m, t] = _at_rank(res.history, "n_evaluations", rank)
                    times[a, b, m, t], evaluations[a, b, m, t] = elapsed, res.n_evaluations
                    reached[a, b, m, t] = res.rank
                    if b == 0 and t == 0 and method in ("random", "greedy"):
                        shown[dataset]["pivots"][method] = X[res.pivots[:SHOWN_PIVOTS]]
                    if progress is not None:
                        progress(1)
            if n <= sizes["best_max_n"]:
                best[a, b] = _best(kernel, n, rank, trace)
                if progress is not None:
                    progress(1)
    logger.info("F12 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {"figure": FIGURE_ID, "scale": scale, "datasets": list(DATASETS),
            "sizes": list(ns), "methods": list(METHODS), "ranks": np.arange(1, rank + 1),
            "trials": trials, "bandwidths": dict(BANDWIDTHS), "trace_error": trace_error,
            "factor_trace_error": factor_error, "time_to_k": time_to_k,
            "evaluations_to_k": evals_to_k, "time": times, "n_evaluations": evaluations,
            "rank_reached": reached, "best": best, "shown": shown}


def factor_breakdown(data, a, b, m):
    """The smallest rank at which some trial's ``tr(A - F F^T) / tr(A)`` from
    ``rp_cholesky``'s factor is below ``-BREAKDOWN`` (``F F^T`` not below ``A``, beyond
    rounding: the factor lost accuracy), or ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.rpcholesky_trace_error import factor_breakdown
    >>> data = {"factor_trace_error": np.array([[[[[0.5, 0.1, -1e-3], [0.5, 0.2, 0.1]]]]])}
    >>> factor_breakdown(data, 0, 0, 0)
    3
    """
    errors = data["factor_trace_error"][a, b, m]
    bad = np.flatnonzero(np.any(errors < -BREAKDOWN, axis=0))
    return int(bad[0]) + 1 if bad.size else None


def to_rows(data):
    """One CSV row per (point set, size, method, rank k): the median and 10-90 % band of
    the trace error over the trials, the factor's own trace error, and the median time
    and kernel entries read to reach rank ``k``."""
    rows = []
    ranks = data["ranks"]
    for a, dataset in enumerate(data["datasets"]):
        for b, n in enumerate(data["sizes"]):
            for m, method in enumerate([*data["methods"], "best"]):
                if method == "best":
                    errors = data["best"][a, b][None, :]
                    if not np.all(np.isfinite(errors)):
                        continue
                    factor = time_k = evals_k = np.full_like(errors, np.nan)
                    ran, rank_min = 1, float("nan")
                else:
                    ran = int(np.sum(np.isfinite(data["time"][a, b, m])))
                    if ran == 0:
                        continue
                    errors = data["trace_error"][a, b, m]
                    factor = data["factor_trace_error"][a, b, m]
                    time_k, evals_k = data["time_to_k"][a, b, m], data["evaluations_to_k"][
                        a, b, m]
                    rank_min = float(np.nanmin(data["rank_reached"][a, b, m]))
                mid, lo, hi = band(errors, axis=0, low=BAND[0], high=BAND[1])
                factor_mid = band(factor, axis=0)[0]
                time_mid, evals_mid = band(time_k, axis=0)[0], band(evals_k, axis=0)[0]
                for i, k in enumerate(ranks):
                    rows.append({
                        "dataset": dataset, "N": n, "bandwidth": data["bandwidths"][dataset],
                        "method": method, "k": int(k), "trials": ran,
                        "trace_error_median": float(mid[i]), "trace_error_q10": float(lo[i]),
                        "trace_error_q90": float(hi[i]),
                        "factor_trace_error_median": float(factor_mid[i]),
                        "time_to_k_median": float(time_mid[i]),
                        "n_evaluations_to_k_median": float(evals_mid[i]),
                        "rank_reached_min": rank_min,
                    })
    return rows


def plot(data, *, fig=None):
    """Draw F12: the point sets with the first pivots (top row), then the trace error
    against the rank, one row per size and one column per point set.

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
    rows = 1 + len(data["sizes"])
    fig = prepare_figure(fig, (FIGURE_WIDTH, ROW_HEIGHT * rows))
    axes = fig.subplots(rows, len(data["datasets"]), squeeze=False)
    ranks = np.asarray(data["ranks"])
    letters = iter("abcdefghijklmnop")
    for a, dataset in enumerate(data["datasets"]):
        ax = axes[0, a]
        info = data["shown"][dataset]
        ax.scatter(info["points"][:, 0], info["points"][:, 1], s=2, color="0.65",
                   label=f"{len(info['points'])} of {data['sizes'][0]:,} points")
        for method, marker in (("random", "o"), ("greedy", "x")):
            if method in info["pivots"]:
                P = info["pivots"][method]
                ax.scatter(P[:, 0], P[:, 1], s=22, marker=marker, color=COLORS[method],
                           label=f"first {len(P)} pivots: {LABELS[method]}")
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(loc="upper right", fontsize=8)
        ax.set_title(f"({next(letters)}) {dataset}: Gaussian kernel, h = "
                     f"{data['bandwidths'][dataset]:g}", fontsize=10)
    for b, n in enumerate(data["sizes"]):
        for a, dataset in enumerate(data["datasets"]):
            ax = axes[1 + b, a]
            lowest = 1.0
            for m, method in enumerate(data["methods"]):
                if not np.any(np.isfinite(data["time"][a, b, m])):
                    continue
                mid, lo, hi = (np.maximum(v, PLOT_FLOOR) for v in band(
                    data["trace_error"][a, b, m], axis=0, low=BAND[0], high=BAND[1]))
                ax.plot(ranks, mid, color=COLORS[method], lw=1.7, label=LABELS[method])
                ax.fill_between(ranks, lo, hi, color=COLORS[method], alpha=0.15, lw=0)
                lowest = min(lowest, float(np.nanmin(lo)))
            if np.all(np.isfinite(data["best"][a, b])):
                values = np.maximum(data["best"][a, b], PLOT_FLOOR)
                ax.plot(ranks, values, color="black", ls="--", lw=1.3, label=LABELS["best"])
                lowest = min(lowest, float(np.min(values)))
            notes = []
            for m, method in enumerate(data["methods"]):
                k = factor_breakdown(data, a, b, m)
                if k is not None:
                    notes.append(f"{method}: tr(A − FFᵀ) < 0 from k = {k}\n(factor lost "
                                 "accuracy; curve: stable Nyström\non its pivots)")
            if notes:
                ax.text(0.03, 0.03, "\n".join(notes), transform=ax.transAxes, fontsize=7.5,
                        va="bottom", bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
            ax.set_yscale("log")
            ax.set_ylim(bottom=max(PLOT_FLOOR, lowest) / 3, top=2.0)
            ax.grid(True, which="major", alpha=0.3)
            ax.set_title(f"({next(letters)}) {dataset}, N = {n:,}", fontsize=10)
            ax.set_xlabel("rank k (pivots)")
        axes[1 + b, 0].set_ylabel("tr(A − Â_k) / tr(A)")
    handles, labels = {}, []
    for ax in axes[1:].ravel():                     # every method once, in drawing order
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    fig.legend([handles[label] for label in labels], labels, loc="outside lower center",
               ncol=len(labels), fontsize=8.5)
    fig.suptitle(f"F12: Nyström approximation by pivoted partial Cholesky "
                 f"(rp_cholesky), relative trace error; median over {data['trials']} "
                 f"trials, bands 10-90 % (greedy is deterministic)", fontsize=10.5)
    return fig
