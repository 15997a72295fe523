"""F4: time per alternating-minimization sweep against the rank k, robust versus exact.

:func:`lowrank.completion.altmin` completes a rank-k matrix ``M = U diag(s) V^T``
(Haar ``U``, ``V``, geometric spectrum from 1 to ``1/κ``, κ = 3) observed on a fixed set
``Ω`` of entries drawn uniformly without duplicates.  The same ``Ω`` serves every k, so
the figure shows how the cost of one sweep grows with k at fixed ``|Ω|``:

- ``method="exact"`` forms and factors each row's Gram matrix: ``O(|Ω| k² + (m + n) k³)``
  per sweep, slope 2 on the log-log axes once the Gram accumulation dominates (at small k
  memory traffic and per-row overheads flatten it);
- ``method="robust"`` runs warm-started conjugate gradients preconditioned by a QR of the
  fixed factor: ``O(|Ω| k s̄ + (m + n) k²)``, slope 1 plus the growth of the mean number
  ``s̄`` of CG steps per row, which is annotated beside each point.  A row is solved by
  Cholesky instead when that is predicted cheaper than its CG steps (few observations
  per unknown, or small k: about k < 30 at ``|Ω_i| = 4 k ln n``), so at small k the
  default hybrid and exact coincide; hollow markers show the ranks where it used no CG
  at all.  A third curve forces CG on every row (``cg_rows="all"``, the paper's
  algorithm), so the growth with k is also measured on CG alone, at every scale.

Two regimes (``papers/completion_altmin.md``, F-G1):

(a) the analysis' regime: ``|Ω_i| ≈ 4 k_max ln n`` observations per row at the largest k,
    where the row Gram matrices of an orthonormal factor stay well conditioned and ``s̄``
    hardly grows;
(b) a sparser regime, ``|Ω_i| ≈ 4 k_max`` (ln n times fewer), where the per-row condition
    number grows with ``k / |Ω_i|``, CG would need more steps and the robust method keeps
    more rows (at the ``small`` scale all of them) on Cholesky: ``t(4k) / t(k)`` exceeds 4
    there for both methods.

Each (regime, k, method) is one :func:`~lowrank.completion.altmin` run from the same
initialization; the first sweep (which solves ``V`` exactly for both methods) is not
counted, and the time per sweep is the median of the next sweeps (``history["sweep_time"]``:
both half-steps and the residual).  Everything runs on one thread (Numba and BLAS), which
keeps the times comparable on a shared machine; the fitted slopes use the ranks above the
smallest.

The synthetic problems come from :func:`incoherent_factors`, :func:`sample_entries` and
:func:`factor_entries`, which F5 (:mod:`~lowrank.experiments.completion_recovery`) and
``benchmarks/bench_completion.py`` reuse.
"""

import logging
import math
import time
import warnings

import numpy as np

from .._rng import check_rng
from .._threads import single_threaded
from .._validation import check_int, check_option, check_real
from ..completion import altmin, as_observations
from ..exceptions import ConvergenceWarning
from ..testing import orthonormal_matrix
from ._common import prepare_figure

__all__ = ["factor_entries", "fit_slope", "incoherent_factors", "n_steps", "per_row", "plot",
           "rank_ratio", "run", "sample_entries", "to_rows"]

logger = logging.getLogger(__name__)

#: Size of the figure in inches.
FIGURE_SIZE = (12, 5.6)

FIGURE_ID = "F4"
TITLE = "matrix completion: time per AltMin sweep vs rank, robust vs exact"

#: "robust" is the default hybrid (a row by Cholesky when predicted cheaper than CG);
#: "robust_cg" forces CG on every row (``cg_rows="all"``), the paper's algorithm.
METHODS = ("exact", "robust", "robust_cg")
_OPTIONS = {"exact": {"method": "exact"}, "robust": {"method": "robust"},
            "robust_cg": {"method": "robust", "cg_rows": "all"}}
LABELS = {"exact": "exact (Cholesky per row)",
          "robust": "robust, default (Cholesky where cheaper)",
          "robust_cg": "robust, CG on every row (QR-preconditioned)"}
COLORS = {"exact": "black", "robust": "tab:blue", "robust_cg": "tab:orange"}
MARKERS = {"exact": "s", "robust": "o", "robust_cg": "^"}
#: Where each robust variant's step counts are written beside its points.
_ANNOTATION_OFFSETS = {"robust": (8, -4), "robust_cg": (8, 12)}
REGIMES = ("analysis", "sparse")
#: Observations per row: ``4 k_max ln n`` in the analysis' regime, ``4 k_max`` in the
#: sparser one.
PER_ROW_FACTOR = 4.0
#: Condition number κ of the synthetic matrices.
COND = 3.0
#: Columns of the CSV computed from wall-clock times (they differ from run to run).
TIMING_COLUMNS = ("sweep_time_median", "sweep_time_min", "sweep_time_max", "fitted_slope")

_SCALES = {
    # "tiny" is for the test suite only: seconds, too small to read anything off.
    "tiny": {"n": 400, "ranks": (2, 4, 8), "timed_sweeps": 2},
    # about 20 s on 2 cores (one thread), 3.1 M observations in the analysis' regime
    "small": {"n": 3000, "ranks": (4, 8, 16, 32), "timed_sweeps": 3},
    # the sizes of papers/completion_altmin.md (F-G1): 23.6 M observations
    "paper": {"n": 10000, "ranks": (4, 8, 16, 32, 64), "timed_sweeps": 5},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def incoherent_factors(shape, rank, cond, rng):
    """Factors ``(L, R)`` of an incoherent rank-``rank`` matrix ``M = L @ R.T``.

    ``L = U diag(s)`` and ``R = V`` with Haar ``U`` (m x k) and ``V`` (n x k)
    (:func:`lowrank.testing.orthonormal_matrix`, QR'd Gaussians) and singular values
    ``s`` geometric from 1 to ``1 / cond``.  ``M`` itself is never formed.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.completion_sweep_time import incoherent_factors
    >>> L, R = incoherent_factors((50, 40), 3, 100.0, np.random.default_rng(0))
    >>> L.shape, R.shape
    ((50, 3), (40, 3))
    >>> np.round(np.linalg.svd(L @ R.T, compute_uv=False)[:4], 6).tolist()
    [1.0, 0.1, 0.01, 0.0]
    """
    m, n = shape
    rank = check_int(rank, "rank", low=1, high=min(m, n))
    cond = check_real(cond, "cond", low=1.0)
    rng = check_rng(rng)
    s = np.geomspace(1.0, 1.0 / cond, rank)
    return orthonormal_matrix(m, rank, rng=rng) * s, orthonormal_matrix(n, rank, rng=rng)


def sample_entries(shape, count, rng):
    """``count`` distinct positions of an m x n matrix, uniformly without replacement.

    Returns ``(rows, cols)`` as int64 arrays in random order (so that any prefix is itself
    a uniform sample: split off held-out entries by slicing).  Sparse samples draw about
    ``count`` random linear indices, keep the distinct ones (a sort, not ``np.unique``,
    which hashes and is many times slower on 10^7 integers) and keep a random subset of
    ``count`` of them; dense ones take a prefix of a random permutation.  Time and memory
    ``O(count log count)`` and ``O(count)`` for sparse samples.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.completion_sweep_time import sample_entries
    >>> rows, cols = sample_entries((30, 20), 100, np.random.default_rng(0))
    >>> rows.size, np.unique(rows * 20 + cols).size, int(rows.max()) < 30
    (100, 100, True)
    """
    m, n = (check_int(s, "shape", low=1) for s in shape)
    total = m * n
    count = check_int(count, "count", low=0, high=total)
    rng = check_rng(rng)
    if 4 * count > total:
        linear = rng.permutation(total)[:count]
    else:
        # draws whose expected number of distinct values is count, plus a margin
        draws = int(-total * math.log1p(-count / total) + 4 * math.sqrt(count) + 16)
        while True:
            x = np.sort(rng.integers(0, total, size=draws, dtype=np.int64))
            distinct = x[np.concatenate(([True], x[1:] != x[:-1]))]
            if distinct.size >= count:
                break
            draws += draws // 8 + 16
        linear = distinct[rng.permutation(distinct.size)[:count]]
    return linear // n, linear % n


def factor_entries(L, R, rows, cols, *, chunk=1 << 18):
    """Entries ``(L @ R.T)[rows, cols]``, in chunks (memory ``O(chunk k)``).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.completion_sweep_time import factor_entries
    >>> L, R = np.arange(6.0).reshape(3, 2), np.ones((4, 2))
    >>> factor_entries(L, R, np.array([0, 2]), np.array([3, 1])).tolist()
    [1.0, 9.0]
    """
    out = np.empty(rows.size, dtype=np.result_type(L, R))
    for start in range(0, rows.size, chunk):
        stop = min(rows.size, start + chunk)
        out[start:stop] = np.einsum("ij,ij->i", L[rows[start:stop]], R[cols[start:stop]])
    return out


def fit_slope(ranks, times):
    """Least-squares slope of ``log(times)`` against ``log(ranks)`` (NaN with < 2 points).

    Examples
    --------
    >>> from lowrank.experiments.completion_sweep_time import fit_slope
    >>> round(fit_slope([8, 16, 32], [1.0, 4.0, 16.0]), 6)
    2.0
    """
    x, y = np.log(np.asarray(ranks, float)), np.log(np.asarray(times, float))
    keep = np.isfinite(y)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(x[keep], y[keep], 1)[0])


def per_row(regime, n, max_rank):
    """Observations per row of a regime: ``ceil(4 k_max ln n)`` ("analysis") or
    ``4 k_max`` ("sparse").

    Examples
    --------
    >>> from lowrank.experiments.completion_sweep_time import per_row
    >>> per_row("analysis", 3000, 32), per_row("sparse", 3000, 32)
    (1025, 128)
    """
    check_option(regime, "regime", REGIMES)
    if regime == "analysis":
        return math.ceil(PER_ROW_FACTOR * max_rank * math.log(n))
    return int(PER_ROW_FACTOR * max_rank)


def n_steps(scale="small"):
    """Number of ``altmin`` runs :func:`run` performs (the progress total).

    Examples
    --------
    >>> from lowrank.experiments.completion_sweep_time import n_steps
    >>> n_steps("small")
    24
    """
    return len(REGIMES) * len(_sizes(scale)["ranks"]) * len(METHODS)


def _warm_up():
    """Compile the kernels of both methods (Numba caches them on disk) off the clock."""

    rng = np.random.default_rng(0)
    L, R = incoherent_factors((40, 30), 2, COND, rng)
    rows, cols = sample_entries((40, 30), 600, rng)
    values = factor_entries(L, R, rows, cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for method in METHODS:
            altmin((rows, cols, values), 2, shape=(40, 30), maxiter=3, tol=1e-6, rng=0,
                   **_OPTIONS[method])


def _timed_run(obs, rank, method, sweeps, seed):
    """One altmin run of ``1 + sweeps`` sweeps; the statistics of sweeps 2, 3, ..."""

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of sweeps
        res = altmin(obs, rank, maxiter=1 + sweeps, tol=0.0, rng=seed, **_OPTIONS[method])
    h = res.history
    times = np.full(sweeps, np.nan)
    later = np.asarray(h["sweep_time"][1:], dtype=float)
    times[:later.size] = later
    steps = np.asarray(h["mean_inner_steps"][1:], dtype=float)
    exact = np.asarray(h["exact_rows"][1:], dtype=float)
    solved = sum(obs.shape)  # rows and columns solved per sweep
    cg = solved - exact  # rows finished by CG, which the mean step counts cover
    if method == "exact":
        mean_steps, exact_fraction = 0.0, 1.0
    else:
        mean_steps = float(np.sum(steps * cg) / np.sum(cg)) if np.sum(cg) > 0 else math.nan
        exact_fraction = float(np.mean(exact)) / solved
    return {"times": times, "mean_steps": mean_steps, "exact_fraction": exact_fraction,
            "max_steps": float(np.max(h["max_inner_steps"][1:])) if steps.size else math.nan,
            "residual": float(h["residual"][-1])}


def run(scale="small", rng=0, progress=None):
    """Time AltMin sweeps for every regime, rank and method.

    Parameters
    ----------
    scale : {"small", "paper"}
        ``"small"``: n = m = 3000, k in {4, 8, 16, 32}, 3 timed sweeps (about 20 s on
        2 cores).  ``"paper"``: n = m = 10,000, k in {4, ..., 64}, 5 timed sweeps (about
        10 minutes; 23.6 M observations).  ``"tiny"`` exists for the test suite only.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness: each regime's sample and each rank's factors draw from
        their own sub-stream, so the same ``rng`` gives identical data (except the times).
    progress : callable, optional
        Called with 1 after each ``altmin`` run (e.g. ``tqdm.update``); the total is
        :func:`n_steps`.

    Returns
    -------
    dict
        ``"figure"``, ``"scale"``, ``"n"`` (= m), ``"cond"``, ``"timed_sweeps"``;
        ``"ranks"`` (int array), ``"regimes"`` and ``"methods"`` (lists);
        ``"per_row"`` and ``"n_observed"`` (int arrays, one per regime);
        ``"sweep_time"`` (regimes, ranks, methods, timed sweeps) in seconds;
        ``"median_time"``, ``"mean_steps"`` (mean CG steps over the rows solved by CG in
        the timed sweeps; NaN when none was, 0 for exact), ``"max_steps"``,
        ``"exact_fraction"`` (the fraction of rows and columns solved by Cholesky: the
        robust method solves a row exactly when that is predicted cheaper than its CG
        steps, or when CG hits its step cap; 1 for exact) and ``"residual"`` (observed
        relative residual after the last sweep) of shape (regimes, ranks, methods);
        ``"slope"`` (regimes, methods), fitted over ``"fit_ranks"``.

    Examples
    --------
    >>> from lowrank.experiments import completion_sweep_time as f4
    >>> data = f4.run("tiny", rng=0)
    >>> data["sweep_time"].shape, data["per_row"].tolist()
    ((2, 3, 3, 2), [192, 32])
    """

    sizes = _sizes(scale)
    n, sweeps = sizes["n"], sizes["timed_sweeps"]
    ranks = np.asarray(sizes["ranks"], dtype=np.int64)
    counts = np.array([per_row(r, n, int(ranks.max())) for r in REGIMES], dtype=np.int64)
    root = check_rng(rng)
    shape3 = (len(REGIMES), ranks.size, len(METHODS))
    times = np.full((*shape3, sweeps), np.nan)
    stats = {key: np.full(shape3, np.nan) for key in ("mean_steps", "max_steps",
                                                       "exact_fraction", "residual")}
    start = time.perf_counter()
    logger.info("F4 (%s): n=%d, ranks %s, per row %s", scale, n, ranks.tolist(),
                counts.tolist())
    with single_threaded():
        _warm_up()
        for a, regime_rng in enumerate(root.spawn(len(REGIMES))):
            sample_rng, factor_rng = regime_rng.spawn(2)
            rows, cols = sample_entries((n, n), int(counts[a]) * n, sample_rng)
            order = np.argsort(rows * n + cols)  # row-major: as_observations' fast path
            rows, cols = rows[order], cols[order]
            for i, (rank, rank_rng) in enumerate(zip(ranks, factor_rng.spawn(ranks.size),
                                                     strict=True)):
                L, R = incoherent_factors((n, n), int(rank), COND, rank_rng)
                obs = as_observations((rows, cols, factor_entries(L, R, rows, cols)),
                                      shape=(n, n))
                del L, R
                for j, method in enumerate(METHODS):
                    out = _timed_run(obs, int(rank), method, sweeps, seed=int(rank))
                    times[a, i, j] = out["times"]
                    for key in stats:
                        stats[key][a, i, j] = out[key]
                    logger.info("F4 %s k=%d %s: %.3f s/sweep, %.1f CG steps, residual %.1e",
                                REGIMES[a], rank, method, np.nanmedian(out["times"]),
                                out["mean_steps"], out["residual"])
                    if progress is not None:
                        progress(1)
                del obs
    median = np.nanmedian(times, axis=-1)
    fit_ranks = ranks[1:] if ranks.size > 2 else ranks
    slope = np.array([[fit_slope(fit_ranks, median[a, ranks.size - fit_ranks.size:, j])
                       for j in range(len(METHODS))] for a in range(len(REGIMES))])
    logger.info("F4 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {
        "figure": FIGURE_ID, "scale": scale, "n": n, "cond": COND, "timed_sweeps": sweeps,
        "ranks": ranks, "regimes": list(REGIMES), "methods": list(METHODS),
        "per_row": counts, "n_observed": counts * n, "sweep_time": times,
        "median_time": median, "slope": slope, "fit_ranks": fit_ranks, **stats,
    }


def rank_ratio(data, regime, method, factor=4):
    """``t(k_max) / t(k_max / factor)`` (NaN when ``k_max / factor`` was not measured).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.completion_sweep_time import rank_ratio
    >>> data = {"ranks": np.array([4, 8, 16]), "regimes": ["analysis"],
    ...         "methods": ["robust"], "median_time": np.array([[[1.0], [1.5], [3.0]]])}
    >>> rank_ratio(data, "analysis", "robust")
    3.0
    """
    ranks = list(np.asarray(data["ranks"]).tolist())
    top = ranks[-1]
    if top % factor or top // factor not in ranks:
        return math.nan
    t = data["median_time"][data["regimes"].index(regime), :, data["methods"].index(method)]
    return float(t[-1] / t[ranks.index(top // factor)])


def to_rows(data):
    """One CSV row per (regime, rank, method).

    Examples
    --------
    >>> from lowrank.experiments import completion_sweep_time as f4
    >>> rows = f4.to_rows(f4.run("tiny", rng=0))
    >>> len(rows), rows[0]["regime"], rows[0]["method"]
    (18, 'analysis', 'exact')
    """
    rows = []
    for a, regime in enumerate(data["regimes"]):
        for i, rank in enumerate(data["ranks"]):
            for j, method in enumerate(data["methods"]):
                t = data["sweep_time"][a, i, j]
                rows.append({
                    "regime": regime, "method": method, "n": data["n"], "rank": int(rank),
                    "cond": data["cond"], "per_row": int(data["per_row"][a]),
                    "n_observed": int(data["n_observed"][a]),
                    "timed_sweeps": int(np.sum(np.isfinite(t))),
                    "sweep_time_median": float(data["median_time"][a, i, j]),
                    "sweep_time_min": float(np.nanmin(t)),
                    "sweep_time_max": float(np.nanmax(t)),
                    "mean_cg_steps": float(data["mean_steps"][a, i, j]),
                    "max_cg_steps": float(data["max_steps"][a, i, j]),
                    "exact_fraction": float(data["exact_fraction"][a, i, j]),
                    "residual": float(data["residual"][a, i, j]),
                    "fitted_slope": float(data["slope"][a, j]),
                })
    return rows


def _regime_title(data, a):
    n, c = data["n"], int(data["per_row"][a])
    k_max = int(data["ranks"][-1])
    how = (f"4 k_max ln n = {c}" if data["regimes"][a] == "analysis" else f"4 k_max = {c}")
    letter = "ab"[a] if a < 2 else str(a)
    what = "analysis' regime" if data["regimes"][a] == "analysis" else "sparser regime"
    return (f"({letter}) {what}: |Ωᵢ| ≈ {how} per row (k_max = {k_max})\n"
            f"p = {c / n:.3f}, |Ω| = {int(data['n_observed'][a]):,}")


def plot(data, *, fig=None):
    """Draw F4: median time per sweep against k (log-log), one panel per regime.

    Markers are the medians of the timed sweeps, bars their range; dashed lines the
    least-squares fits over ``data["fit_ranks"]`` (slopes in the legend); the numbers
    beside the robust points are the mean CG steps per row.

    Parameters
    ----------
    data : dict
        The output of :func:`run`.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into; a new :class:`matplotlib.figure.Figure` (no pyplot state)
        by default.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from lowrank.experiments import completion_sweep_time as f4
    >>> fig = f4.plot(f4.run("tiny", rng=0))
    >>> len(fig.axes)
    2
    """
    fig = prepare_figure(fig, FIGURE_SIZE)
    axes = fig.subplots(1, len(data["regimes"]), squeeze=False)[0]
    ranks = np.asarray(data["ranks"], dtype=float)
    fit_ranks = np.asarray(data["fit_ranks"], dtype=float)
    top = int(ranks[-1])
    for a, ax in enumerate(axes):
        for j, method in enumerate(data["methods"]):
            t = data["sweep_time"][a, :, j]
            med = data["median_time"][a, :, j]
            lo, hi = np.nanmin(t, axis=-1), np.nanmax(t, axis=-1)
            color = COLORS.get(method, None)
            slope = data["slope"][a, j]
            ax.errorbar(ranks, med, yerr=[med - lo, hi - med], color=color,
                        marker=MARKERS.get(method, "o"), ms=6, lw=1.5, capsize=3,
                        label=f"{LABELS.get(method, method)}: fitted slope {slope:.2f}")
            fitted = med[ranks.size - fit_ranks.size:]
            if np.isfinite(slope) and np.all(np.isfinite(fitted)):
                offset = np.mean(np.log(fitted) - slope * np.log(fit_ranks))
                ax.plot(fit_ranks, np.exp(offset) * fit_ranks ** slope, "--", color=color,
                        lw=1, alpha=0.7)
            if method in _ANNOTATION_OFFSETS:
                steps, frac = data["mean_steps"][a, :, j], data["exact_fraction"][a, :, j]
                chol = ~np.isfinite(steps)
                ax.plot(ranks[chol], med[chol], ls="none", marker=MARKERS.get(method, "o"),
                        ms=6, mfc="white", mec=color, zorder=3)
                dx, dy = _ANNOTATION_OFFSETS[method]
                for k, y, s, f in zip(ranks[~chol], med[~chol], steps[~chol], frac[~chol],
                                      strict=True):
                    text = f"s̄ = {s:.1f}" + (f"\n{100 * f:.0f}% Chol." if f >= 0.005 else "")
                    ax.annotate(text, (k, y), textcoords="offset points", xytext=(dx, dy),
                                ha="left", va="top" if dy < 0 else "bottom", fontsize=8,
                                color=color)
        ratios = [f"{m}: {rank_ratio(data, data['regimes'][a], m):.2f}"
                  for m in data["methods"]]
        text = ("s̄ = mean CG steps per CG-solved row\nhollow markers: every row solved "
                "by Cholesky\n(predicted cheaper than CG)")
        if top % 4 == 0 and top // 4 in ranks:
            text = f"t(k={top}) / t(k={top // 4}): " + ", ".join(ratios) + "\n" + text
        ax.text(0.03, 0.97, text, transform=ax.transAxes, va="top", fontsize=8.5,
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ranks, [f"{int(k)}" for k in ranks])
        ax.set_xlim(ranks[0] / 1.25, ranks[-1] * 1.5)  # room for the step counts
        ax.set_xlabel("rank k")
        ax.set_title(_regime_title(data, a), fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8.5)
    axes[0].set_ylabel("time per sweep (s)")
    fig.suptitle(
        f"F4: AltMin time per sweep vs rank at fixed |Ω| (n = m = {data['n']:,}, κ = "
        f"{data['cond']:g}, one thread; median and range of {data['timed_sweeps']} sweeps "
        "after the first)", fontsize=10.5)
    return fig

