"""The pairwise engine: pair schedules, sweeps, stopping test and history (private).

A *sweep* is ``N = n (n - 1) / 2`` steps: one pass over every pair in row-cyclic order
(``"cyclic"``), ``N`` pairs drawn uniformly and independently (``"random"``, the rule
of Detherage-Shah), or ``N`` steps on the pair of largest scaled Gram entry
(``"greedy"``, row maxima maintained so a step costs ``O(n)``).  After each sweep the
run stops when every pair passes ``|g_ij| <= tol * sqrt(|g_ii g_jj|)`` (a cyclic sweep
that applies no transform proves it for free).
"""

import numpy as np

from .. import _kernels
from .._result import IterationLog

__all__ = ["PIVOTING", "PairwiseRun", "run_pairwise"]

PIVOTING = ("random", "cyclic", "greedy")
ROTATION, ELIMINATION = 0, 1
_HISTORY = ("off_diagonal", "max_scaled", "transforms")
# One-sided runs recheck with the steps' own dot products below this many ``tol``.
_RECHECK = 16.0


class PairwiseRun:
    """How a run went: ``transforms`` applied, ``sweeps``, the log and, for a two-sided
    elimination, the index of a nonpositive pivot (``-1`` if none)."""

    def __init__(self, log, transforms, sweeps, failed_pivot):
        self.log, self.transforms, self.sweeps = log, transforms, sweeps
        self.failed_pivot = failed_pivot


def _all_pairs(n):
    first, second = np.triu_indices(n, k=1)
    return first.astype(np.int64), second.astype(np.int64)


def _measure(kernels, X, two_sided, tol):
    """``(off^2, largest scaled off-diagonal entry, converged)`` of the current Gram matrix.

    ``converged`` is decided by the steps' own skip test over every pair, so a run stops
    exactly when no step would apply.  One-sided, the Gram matrix comes from BLAS; near
    ``tol`` (where BLAS rounding, up to ``m eps``, could disagree with the steps' test)
    every pair is retested with the steps' dot products.
    """
    if two_sided:
        off, worst, active = kernels.off_diagonal_two_sided(X, tol)
        return off, worst, active == 0
    off, worst, _ = kernels.off_diagonal_two_sided(X.T @ X, tol)
    if worst > _RECHECK * tol:
        return off, worst, False
    worst, active = kernels.max_scaled_one_sided(X, tol)
    return off, worst, active == 0


def run_pairwise(X, W, *, two_sided, kind, pivoting, tol, max_sweeps, rng, callback, name):
    """Run sweeps on ``X`` (updated in place, with the accumulated factor ``W``) until the
    stopping test holds or ``max_sweeps``; returns a :class:`PairwiseRun`."""
    kernels = _kernels.load("pairwise")
    n = X.shape[1]
    n_pairs = n * (n - 1) // 2
    log = IterationLog(_HISTORY, maxiter=max_sweeps, callback=callback)
    transforms, failed = 0, -1
    if n_pairs == 0:
        log.converge("a single column: nothing to do")
        return PairwiseRun(log, 0, 0, failed)
    first, second = _all_pairs(n)
    off0, _, _ = _measure(kernels, X, two_sided, tol)
    for sweep in range(1, max_sweeps + 1):
        if pivoting == "greedy":
            if two_sided:
                applied, failed, _ = kernels.greedy_two_sided(X, W, kind, tol, n_pairs)
            else:
                applied, _ = kernels.greedy_one_sided(X, W, kind, tol, n_pairs)
        else:
            if pivoting == "random":
                picks = rng.integers(0, n_pairs, size=n_pairs)
                i, j = first[picks], second[picks]
            else:
                i, j = first, second
            if two_sided:
                applied, failed = kernels.apply_pairs_two_sided(X, W, i, j, kind, tol)
            else:
                applied = kernels.apply_pairs_one_sided(X, W, i, j, kind, tol)
        transforms += int(applied)
        if failed >= 0:
            log.fail(f"nonpositive pivot at index {failed}")
            break
        off, worst, done = _measure(kernels, X, two_sided, tol)
        log.record(off_diagonal=np.sqrt(max(off, 0.0) / off0) if off0 > 0 else 0.0,
                   max_scaled=worst, transforms=transforms)
        if done or (pivoting == "cyclic" and applied == 0):
            log.converge(f"every scaled off-diagonal entry is at most tol={tol:.3g} after "
                         f"{sweep} sweeps ({transforms} transforms)")
            break
        if log.call_back(sweep, worst):
            break
    else:
        log.fail(f"max_sweeps={max_sweeps} reached; largest scaled off-diagonal entry "
                 f"{log.last('max_scaled'):.3g} > tol={tol:.3g}")
    if failed < 0:
        log.warn(name)
    return PairwiseRun(log, transforms, log.n_iter, failed)
