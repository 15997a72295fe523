"""Jacobi on stacks of matrices and on any array namespace: rounds of disjoint pairs.

The sequential engine (:mod:`._pairwise`, Numba) applies one pair at a time on a NumPy
matrix.  Here every *round* applies ``n // 2`` disjoint rotations at once, to every
matrix of a stack ``(batch, ., n)``, with array-API operations only (``take``,
``concat``, ``where``), so the same code runs on NumPy, CuPy (one kernel launch per
operation for the whole stack) and ``array_api_strict``.  Disjoint rotations commute,
so a round equals those steps applied one after another.

- ``"random"``: each round is a uniformly random perfect matching of the indices (one
  left out when ``n`` is odd); the matchings are drawn on the host from ``rng``.  This
  parallel form of the random rule is ours, not Detherage-Shah's (whose steps draw one
  pair at a time).
- ``"cyclic"``: the rounds of the round-robin tournament (circle method), which meet
  every pair exactly once per sweep.

A sweep is ``n - 1`` rounds (``n`` for odd ``n``), about ``n (n - 1) / 2`` pairs, and
the run stops when no matrix of the stack has a pair failing
``|g_ij| <= tol * sqrt(|g_ii g_jj|)`` (tested with the steps' own arithmetic).
"""

import numpy as np

from .._backend import device_of, from_host, to_host
from .._result import IterationLog

__all__ = ["random_matching", "run_batched", "tournament"]

_HISTORY = ("off_diagonal", "max_scaled", "transforms")
# One-sided runs retest with the steps' own sums below this many ``tol``.
_RECHECK = 16.0


class BatchedRun:
    """How a batched run went (the fields of :class:`._pairwise.PairwiseRun`)."""

    def __init__(self, log, transforms, sweeps):
        self.log, self.transforms, self.sweeps = log, transforms, sweeps
        self.failed_pivot = -1


def tournament(n):
    """The rounds ``(first, second, rest)`` of a round-robin tournament on ``n`` indices
    (``first < second`` elementwise; ``rest`` is the index sitting out, odd ``n``)."""
    players = n + (n % 2)                     # a dummy index n sits out when n is odd
    rounds = []
    for r in range(players - 1):
        pairs = [(r, players - 1)]
        pairs += [((r + k) % (players - 1), (r - k) % (players - 1))
                  for k in range(1, players // 2)]
        pairs = [(min(a, b), max(a, b)) for a, b in pairs]
        rest = [a for a, b in pairs if b == n]
        kept = np.array([p for p in pairs if p[1] < n], dtype=np.int64).reshape(-1, 2)
        rounds.append((kept[:, 0], kept[:, 1], np.array(rest, dtype=np.int64)))
    return rounds


def random_matching(rng, n):
    """A uniformly random perfect matching of ``n`` indices as ``(first, second, rest)``."""
    perm = rng.permutation(n)
    half = n // 2
    a, b = perm[0:2 * half:2], perm[1:2 * half:2]
    return np.minimum(a, b), np.maximum(a, b), perm[2 * half:]


class _Round:
    """One round's index arrays in the namespace: the pairs, the inverse of the
    permutation ``concat(first, second, rest)`` and the ``(n, n)`` mask of the pairs'
    off-diagonal positions."""

    def __init__(self, xp, like, first, second, rest, *, two_sided):
        n = first.shape[0] + second.shape[0] + rest.shape[0]
        self.h = first.shape[0]
        self.first = from_host(xp, first, like)
        self.second = from_host(xp, second, like)
        self.rest = from_host(xp, rest, like)
        self.inverse = from_host(xp, np.argsort(np.concatenate([first, second, rest])),
                                 like)
        self.pairs = None
        if not two_sided:
            return
        partner = np.arange(n)
        partner[first], partner[second] = second, first
        index = np.arange(n)
        self.pairs = from_host(xp, (partner[:, None] == index[None, :])
                               & (index[:, None] != index[None, :]), like)


def _skipped(xp, gii, gjj, gij, tol):
    """The steps' skip test, elementwise (the Numba kernels' ``_skip``)."""
    return (gij == 0) | (xp.abs(gij) <= tol * xp.sqrt(xp.abs(gii * gjj)))


def _rotations(xp, gii, gjj, gij, skip):
    """``(c, s, t)`` of the rotations zeroing ``g_ij`` (``c = 1, s = t = 0`` where
    skipped), in the hypot forms of the sequential kernel."""
    one = xp.ones_like(gij)
    tau = (gjj - gii) / (2 * xp.where(skip, one, gij))
    t = xp.where(tau >= 0, one, -one) / (xp.abs(tau) + xp.hypot(one, tau))
    c = 1 / xp.hypot(one, t)
    zero = xp.zeros_like(t)
    return xp.where(skip, one, c), xp.where(skip, zero, t * c), xp.where(skip, zero, t)


def _rotate(xp, X, rnd, c, s, axis):
    """``X`` with the index pairs of ``rnd`` along ``axis`` (1 or 2) rotated by
    ``(c, s)`` of shape ``(batch, h)``: ``x_i <- c x_i - s x_j``, ``x_j <- s x_i + c x_j``."""
    xi = xp.take(X, rnd.first, axis=axis)
    xj = xp.take(X, rnd.second, axis=axis)
    shape = (c.shape[0], 1, rnd.h) if axis == 2 else (c.shape[0], rnd.h, 1)
    c, s = xp.reshape(c, shape), xp.reshape(s, shape)
    parts = [c * xi - s * xj, s * xi + c * xj]
    if rnd.rest.shape[0]:
        parts.append(xp.take(X, rnd.rest, axis=axis))
    return xp.take(xp.concat(parts, axis=axis), rnd.inverse, axis=axis)


def _entries(xp, M, rows, cols):
    """``M[:, rows[k], cols[k]]`` for each ``k``, shape ``(batch, len(rows))``."""
    n = M.shape[-1]
    return xp.take(xp.reshape(M, (M.shape[0], n * n)), rows * n + cols, axis=1)


def _spread(xp, rnd, first, second, rest):
    """Per-index values ``(batch, n)`` from the values at ``first``, ``second`` and
    ``rest`` (each ``(batch, .)``)."""
    parts = [first, second] + ([rest] if rnd.rest.shape[0] else [])
    return xp.take(xp.concat(parts, axis=1), rnd.inverse, axis=1)


def _two_sided_round(xp, M, W, rnd, tol, masks):
    """One round of two-sided rotations on the stack ``M``; returns ``(M, W, applied)``."""
    eye, upper = masks
    gii = _entries(xp, M, rnd.first, rnd.first)
    gjj = _entries(xp, M, rnd.second, rnd.second)
    gij = _entries(xp, M, rnd.first, rnd.second)
    rest = _entries(xp, M, rnd.rest, rnd.rest)
    skip = _skipped(xp, gii, gjj, gij, tol)
    c, s, t = _rotations(xp, gii, gjj, gij, skip)
    M = _rotate(xp, _rotate(xp, M, rnd, c, s, 2), rnd, c, s, 1)
    # As the sequential kernel: the pair's entry is exactly zero, the diagonal takes the
    # exact-arithmetic values, and the matrix stays exactly symmetric.
    applied = _spread(xp, rnd, ~skip, ~skip, xp.zeros(rest.shape, dtype=xp.bool,
                                                      device=device_of(M)))
    M = xp.where(rnd.pairs[None, :, :] & applied[:, :, None], xp.zeros_like(M), M)
    M = xp.where(upper, M, xp.matrix_transpose(M))
    M = xp.where(eye, _spread(xp, rnd, gii - t * gij, gjj + t * gij, rest)[:, :, None], M)
    return M, _rotate(xp, W, rnd, c, s, 2), _count(xp, skip)


def _one_sided_gram(xp, X, rnd):
    """``(g_ii, g_jj, g_ij)`` of the round's column pairs, each ``(batch, h)``."""
    xi = xp.take(X, rnd.first, axis=2)
    xj = xp.take(X, rnd.second, axis=2)
    return xp.sum(xi * xi, axis=1), xp.sum(xj * xj, axis=1), xp.sum(xi * xj, axis=1)


def _one_sided_round(xp, X, W, rnd, tol, masks):
    """One round of column rotations on the stack ``X``; returns ``(X, W, applied)``."""
    gii, gjj, gij = _one_sided_gram(xp, X, rnd)
    skip = _skipped(xp, gii, gjj, gij, tol)
    c, s, _ = _rotations(xp, gii, gjj, gij, skip)
    return _rotate(xp, X, rnd, c, s, 2), _rotate(xp, W, rnd, c, s, 2), _count(xp, skip)


def _count(xp, skip):
    """The steps applied, as a 0-d array (summed on the device, read once a sweep)."""
    return xp.sum(xp.astype(~skip, xp.int64))


def _scaled_off_diagonal(xp, G, tol, eye):
    """Per matrix of the stack ``G``: ``(off^2, largest scaled off-diagonal entry,
    pairs failing the skip test)``, as host arrays."""
    n = G.shape[-1]
    index = from_host(xp, np.arange(n, dtype=np.int64), G)
    d = _entries(xp, G, index, index)
    scale = xp.sqrt(xp.abs(d[:, :, None] * d[:, None, :]))
    off_mask = ~eye
    zero = xp.zeros_like(G)
    off = xp.sum(xp.where(off_mask, G * G, zero), axis=(1, 2))
    nonzero = off_mask & (G != 0)
    safe = xp.where(scale > 0, scale, xp.ones_like(scale))
    rho = xp.where(scale > 0, xp.abs(G) / safe, xp.full_like(G, np.inf))
    worst = xp.max(xp.where(nonzero, rho, zero), axis=(1, 2))
    active = xp.sum(xp.astype(off_mask & ~_skipped(xp, d[:, :, None], d[:, None, :], G, tol),
                              xp.int64), axis=(1, 2))
    return (np.asarray(to_host(off), dtype=np.float64),
            np.asarray(to_host(worst), dtype=np.float64), np.asarray(to_host(active)))


def _one_sided_active(xp, X, tol, schedule):
    """The column pairs failing the steps' skip test, per matrix, with the steps' own
    sums (one pass over the tournament's rounds, no rotation)."""
    active = 0
    for rnd in schedule:
        gii, gjj, gij = _one_sided_gram(xp, X, rnd)
        active = active + xp.sum(xp.astype(~_skipped(xp, gii, gjj, gij, tol), xp.int64),
                                 axis=1)
    return np.asarray(to_host(active))


class _Engine:
    """The pieces a run needs for one sidedness."""

    def __init__(self, xp, X, two_sided, tol):
        n = X.shape[-1]
        self.xp, self.two_sided, self.tol, self.n = xp, two_sided, tol, n
        index = np.arange(n)
        self.eye = from_host(xp, index[:, None] == index[None, :], X)
        self.masks = (self.eye, from_host(xp, index[:, None] <= index[None, :], X))
        self.step = _two_sided_round if two_sided else _one_sided_round
        self.tournament = [_Round(xp, X, *r, two_sided=two_sided) for r in tournament(n)]

    def rounds(self, pivoting, rng):
        if pivoting == "cyclic":
            return self.tournament
        return [_Round(self.xp, self.eye, *random_matching(rng, self.n),
                       two_sided=self.two_sided) for _ in self.tournament]

    def measure(self, X):
        """``(off^2, worst, converged)`` per matrix (host arrays)."""
        xp = self.xp
        G = X if self.two_sided else xp.matmul(xp.matrix_transpose(X), X)
        off, worst, active = _scaled_off_diagonal(xp, G, self.tol, self.eye)
        if not self.two_sided:
            # BLAS sums may round differently from the steps' own: near tol, retest.
            active = np.where(worst > _RECHECK * self.tol, 1, 0)
            if not active.any():
                active = _one_sided_active(xp, X, self.tol, self.tournament)
        return off, worst, active == 0


def run_batched(X, W, xp, *, two_sided, pivoting, tol, max_sweeps, rng, callback, name):
    """Run rounds on the stack ``X`` (with the accumulated factors ``W``) until no matrix
    has a pair left to rotate or ``max_sweeps``; returns ``(X, W, run)``."""
    log = IterationLog(_HISTORY, maxiter=max_sweeps, callback=callback)
    n = X.shape[-1]
    if n == 1:
        log.converge("a single column: nothing to do")
        return X, W, BatchedRun(log, 0, 0)
    engine = _Engine(xp, X, two_sided, tol)
    off0, _, _ = engine.measure(X)
    transforms = 0
    for sweep in range(1, max_sweeps + 1):
        applied = 0
        for rnd in engine.rounds(pivoting, rng):
            X, W, count = engine.step(xp, X, W, rnd, tol, engine.masks)
            applied = applied + count
        applied = int(applied)
        transforms += applied
        off, worst, done = engine.measure(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(off0 > 0, np.sqrt(np.maximum(off, 0.0) / off0), 0.0)
        largest = float(np.max(worst))
        log.record(off_diagonal=float(np.max(relative)), max_scaled=largest,
                   transforms=transforms)
        if done.all() or (pivoting == "cyclic" and applied == 0):
            log.converge(f"every scaled off-diagonal entry of the {X.shape[0]} matrices is "
                         f"at most tol={tol:.3g} after {sweep} sweeps ({transforms} "
                         f"transforms)")
            break
        if log.call_back(sweep, largest):
            break
    else:
        log.fail(f"max_sweeps={max_sweeps} reached; largest scaled off-diagonal entry "
                 f"{log.last('max_scaled'):.3g} > tol={tol:.3g} "
                 f"({int(np.sum(~done))} of {X.shape[0]} matrices not converged)")
    log.warn(name)
    return X, W, BatchedRun(log, transforms, log.n_iter)
