"""The shifted power iteration of SPM, batched over random starts.

The host path runs the Numba kernel :func:`lowrank._kernels.tensor.power_batch`; other
array namespaces run the same iteration with array operations (:func:`power_batch_array`).
Both work in compressed coordinates (:mod:`._multiindex`): one step costs two products
with the ``D_n x k`` basis for the whole batch.
"""

import math

import numpy as np

from .. import _kernels
from .._backend import from_host, is_numpy_namespace, to_host
from ._multiindex import gradient_table

__all__ = ["PowerTables", "StartOutcome", "choose_start", "find_component", "power_batch",
           "random_starts"]


class PowerTables:
    """The index tables of one ``(d, n)``, in the namespace of the basis."""

    def __init__(self, xp, d, n, like):
        table = gradient_table(d, n)
        self.xp, self.d, self.n = xp, d, n
        self.host = table
        dtype = like.dtype
        self.P = from_host(xp, table.high.indices, like)
        self.scale = from_host(xp, table.high.sqrt_mult, like, dtype=dtype)
        self.Q = from_host(xp, table.low.indices, like)
        self.ones = from_host(xp, np.ones(table.low.indices.shape[0]), like, dtype=dtype)
        self.child = from_host(xp, table.child.ravel(), like)
        self.weight = from_host(xp, table.weight, like, dtype=dtype)
        self.start_weight = from_host(xp, table.start_weight, like, dtype=dtype)

    def monomials(self, X, high=True):
        """Scaled monomials of degree ``n`` (``high``) or unscaled of degree ``n - 1``
        of the columns of ``X`` (``D x B``)."""
        xp = self.xp
        P, scale = (self.P, self.scale) if high else (self.Q, self.ones)
        out = scale[:, None]
        for j in range(P.shape[1]):
            out = out * xp.take(X, P[:, j], axis=0)
        return out

    def contract(self, Y, weight, Z):
        """``out[l, b] = sum_q Y[child[l, q], b] * weight[l, q] * Z[q, b]``."""
        xp = self.xp
        d, Dq = weight.shape
        gathered = xp.reshape(xp.take(Y, self.child, axis=0), (d, Dq, Y.shape[1]))
        return xp.sum(gathered * weight[:, :, None] * Z[None, :, :], axis=1)


def random_starts(tables, V, rng, count):
    """``count`` random unit points of the subspace: each contracts the basis, combined
    with Gaussian weights, with a Gaussian tensor in ``n - 1`` modes (reference v1.3).

    The Gaussians are drawn on the host, so a given ``rng`` gives the same starts on
    every backend.
    """
    xp = tables.xp
    k = V.shape[1]
    c = from_host(xp, rng.standard_normal((k, count)), V, dtype=V.dtype)
    zeta = from_host(xp, rng.standard_normal((tables.Q.shape[0], count)), V, dtype=V.dtype)
    X = tables.contract(V @ c, tables.start_weight, zeta)
    return X / xp.linalg.vector_norm(X, axis=0)[None, :]


class StartOutcome:
    """Per-start results of one batch (host NumPy arrays) and the batch's length."""

    def __init__(self, X, f, iterations, stopped, accept_tol):
        self.X = X
        self.f = np.asarray(f, dtype=np.float64)
        self.iterations = np.asarray(iterations, dtype=np.int64)
        self.stopped = np.asarray(stopped, dtype=bool)
        self.accepted = self.stopped & (1.0 - self.f < accept_tol)
        self.n_iter = int(self.iterations.max())


def choose_start(outcome):
    """``(index, rejected)``: the accepted start that stopped first (lowest index on
    ties), else the one with the largest objective; ``rejected`` counts the starts that
    ended without acceptance."""
    if outcome.accepted.any():
        candidates = np.flatnonzero(outcome.accepted)
        best = candidates[np.argmin(outcome.iterations[candidates])]
        rejected = int(np.sum(outcome.stopped & ~outcome.accepted))
    else:
        best = int(np.argmax(outcome.f))
        rejected = outcome.f.size
    return int(best), rejected


def _h(xp, f, adaptive):
    if not adaptive:
        return xp.ones_like(f)
    high = xp.sqrt(xp.clip(2.0 * f * (1.0 - f), 0.0, None))
    return xp.where(f > 2.0 / 3.0, high, 1.0 - f / 2.0)


def power_batch_array(tables, V, X, *, maxiter, tol, shift, adaptive, accept_tol):
    """The batched power iteration with array operations (any namespace)."""
    xp, n = tables.xp, tables.n
    B = X.shape[1]
    f = np.zeros(B)
    iterations = np.zeros(B, dtype=np.int64)
    stopped = np.zeros(B, dtype=bool)
    for _ in range(maxiter):
        Y = V @ (V.T @ tables.monomials(X))
        G = tables.contract(Y, tables.weight, tables.monomials(X, high=False)) / n
        fx = xp.sum(G * X, axis=0)
        X_new = G + shift * _h(xp, fx, adaptive)[None, :] * X
        X_new = X_new / xp.linalg.vector_norm(X_new, axis=0)[None, :]
        step = to_host(xp.linalg.vector_norm(X_new - X, axis=0))
        running = ~stopped
        X = xp.where(from_host(xp, running, X)[None, :], X_new, X)
        f = np.where(running, to_host(fx), f)
        iterations += running
        stopped |= running & (step < tol)
        if np.any(stopped & running & (1.0 - f < accept_tol)) or stopped.all():
            break
    return StartOutcome(X, f, iterations, stopped, accept_tol)


def power_batch(tables, V, X, *, maxiter, tol, shift, adaptive, accept_tol):
    """Run the batch of starts ``X`` (``d x B``) on the basis ``V`` (``D_n x k``)."""
    if not is_numpy_namespace(tables.xp):
        return power_batch_array(tables, V, X, maxiter=maxiter, tol=tol, shift=shift,
                                 adaptive=adaptive, accept_tol=accept_tol)
    kernels = _kernels.load("tensor")
    table = tables.host
    result = kernels.power_batch(
        np.ascontiguousarray(V), table.high.indices, table.high.sqrt_mult,
        table.low.indices, table.child, table.weight, np.ascontiguousarray(X),
        maxiter, tol, shift, adaptive, accept_tol)
    return StartOutcome(*result, accept_tol)


def shift_constant(n):
    """The v1.3 shift constant ``sqrt((n - 1) / n)``."""
    return math.sqrt((n - 1) / n)


def find_component(tables, V, rng, ntries, **options):
    """Run the ``ntries`` random starts for one component; returns ``(x, f, iterations,
    accepted, rejected, n_iter)``.

    Every start is drawn up front (the same starts on every backend).  On the host the
    first start runs alone and the others, as one batch, only if it is rejected: a batch
    of ``B`` columns costs about ``B`` times one on a CPU, and the first start is usually
    accepted.  Other namespaces run all starts as one batch and keep the accepted start
    that stopped first.
    """
    X0 = random_starts(tables, V, rng, ntries)
    batches = [X0]
    if is_numpy_namespace(tables.xp) and ntries > 1:
        batches = [X0[:, :1], X0[:, 1:]]
    n_iter = rejected = 0
    best = None
    for X in batches:
        outcome = power_batch(tables, V, X, **options)
        index, batch_rejected = choose_start(outcome)
        n_iter += outcome.n_iter
        rejected += batch_rejected
        candidate = (outcome.X[:, index], float(outcome.f[index]),
                     int(outcome.iterations[index]), bool(outcome.accepted[index]))
        if best is None or candidate[3] or candidate[1] > best[1]:
            best = candidate
        if best[3]:
            break
    return (*best, rejected, n_iter)
