"""Numba kernels of :mod:`lowrank.tensor`: the batched shifted power iteration of SPM.

All vectors live in the compressed coordinates of :mod:`lowrank.tensor._multiindex`: a
batch of ``B`` starting points ``X`` (``d x B``), the compressed orthonormal basis ``V``
(``D_n x k``), the sorted multi-indices ``P`` (``D_n x n``, with ``sqrt(mu)`` in
``scale``) and ``Q`` (``D_{n-1} x (n-1)``), and the gradient table ``child``/``weight``.
"""

import numpy as np
from numba import njit

__all__ = ["contract_low", "monomials", "power_batch", "project"]


@njit(cache=True)
def monomials(X, P, scale):
    """``out[p, b] = scale[p] * prod_j X[P[p, j], b]`` (``D x B``)."""
    D, n = P.shape
    B = X.shape[1]
    out = np.empty((D, B), dtype=X.dtype)
    for p in range(D):
        for b in range(B):
            value = scale[p]
            for j in range(n):
                value *= X[P[p, j], b]
            out[p, b] = value
    return out


@njit(cache=True)
def contract_low(Y, child, weight, Z):
    """``out[l, b] = sum_q Y[child[l, q], b] * weight[l, q] * Z[q, b]`` (``d x B``)."""
    d, Dq = child.shape
    B = Y.shape[1]
    out = np.zeros((d, B), dtype=Y.dtype)
    for l in range(d):
        for q in range(Dq):
            c = child[l, q]
            w = weight[l, q]
            for b in range(B):
                out[l, b] += Y[c, b] * w * Z[q, b]
    return out


@njit(cache=True)
def project(V, VT, Phi):
    """``V V^T Phi`` (``D x B``) in two passes over the basis with contiguous inner loops
    (faster than BLAS for the few columns of a batch)."""
    D, k = V.shape
    B = Phi.shape[1]
    A = np.zeros((B, k), dtype=V.dtype)
    for p in range(D):
        for b in range(B):
            c = Phi[p, b]
            for j in range(k):
                A[b, j] += c * V[p, j]
    YT = np.zeros((B, D), dtype=V.dtype)
    for j in range(k):
        for b in range(B):
            a = A[b, j]
            for p in range(D):
                YT[b, p] += a * VT[j, p]
    return YT.T


@njit(cache=True)
def power_batch(V, P, scale, Q, child, weight, X, maxiter, tol, shift, adaptive, accept_tol):
    """Run the shifted power iteration of SPM from the ``B`` columns of ``X`` together.

    Maximizes ``F(x) = ||V^T phi_n(x)||^2`` on the unit sphere:
    ``x <- normalize(g + shift * h(f) * x)`` with ``g = grad F / 2n`` and ``f = <g, x>``,
    ``h(f) = sqrt(2 f (1 - f))`` if ``f > 2/3`` else ``1 - f/2`` (``adaptive``; 1
    otherwise).  A column stops when its step ``||x_new - x||`` falls below ``tol``; the
    batch stops at ``maxiter`` or as soon as a stopped column has ``1 - f < accept_tol``.

    Returns ``(X, f, iterations, stopped)``, one entry per column.
    """
    d, B = X.shape
    n = P.shape[1]
    X = X.copy()
    f = np.zeros(B)
    iterations = np.zeros(B, dtype=np.int64)
    stopped = np.zeros(B, dtype=np.bool_)
    ones = np.ones(Q.shape[0])
    VT = V.T.copy()
    for _ in range(maxiter):
        Phi = monomials(X, P, scale)
        Y = project(V, VT, Phi)
        Z = monomials(X, Q, ones)
        G = contract_low(Y, child, weight, Z)
        done = False
        for b in range(B):
            if stopped[b]:
                continue
            fb = 0.0
            for l in range(d):
                fb += G[l, b] * X[l, b] / n
            h = 1.0
            if adaptive:
                h = np.sqrt(max(2.0 * fb * (1.0 - fb), 0.0)) if fb > 2.0 / 3.0 else 1.0 - fb / 2.0
            c = shift * h
            norm2 = 0.0
            for l in range(d):
                G[l, b] = G[l, b] / n + c * X[l, b]
                norm2 += G[l, b] * G[l, b]
            inv = 1.0 / np.sqrt(norm2)
            step2 = 0.0
            for l in range(d):
                x_new = G[l, b] * inv
                step2 += (x_new - X[l, b]) ** 2
                X[l, b] = x_new
            f[b] = fb
            iterations[b] += 1
            if np.sqrt(step2) < tol:
                stopped[b] = True
                if 1.0 - fb < accept_tol:
                    done = True
        if done or np.all(stopped):
            break
    return X, f, iterations, stopped
