"""LSQR (Paige and Saunders, 1982) written against the array API namespace.

A small, private implementation so that the sketch-preconditioned solvers run on every
backend (NumPy, CuPy, array API) with one code path and report every iteration.
"""

import math
import time

__all__ = ["lsqr"]


def lsqr(xp, matvec, rmatvec, b, n_cols, *, atol, btol, maxiter, dtype, callback=None,
         anorm_guess=1.0):
    """Solve ``min ||M z - b||`` from ``z = 0`` by LSQR.

    ``matvec(z) = M z`` and ``rmatvec(u) = M^T u``.  Stops when
    ``||M^T r|| <= atol ||M||_F ||r||`` (least-squares test), when
    ``||r|| <= btol ||b|| + atol ||M||_F ||z||`` (consistent test), or at ``maxiter``.

    ``anorm_guess`` estimates ``||M||`` for the test made before the first iteration
    (about 1 for a sketch-preconditioned operator), so that an already optimal
    ``z = 0`` costs no iteration.

    Returns ``(z, istop, n_iter, arnorm_rel, history)`` where ``istop`` is 1 or 2 for
    the tests above, 0 for a zero right-hand side and 7 when ``maxiter`` was reached;
    ``history`` lists ``(residual_estimate, arnorm_rel, seconds)`` per iteration.
    """
    t0 = time.perf_counter()
    z = xp.zeros(n_cols, dtype=dtype)
    u = b
    beta = float(xp.linalg.vector_norm(u))
    history = []
    if beta == 0.0:
        return z, 0, 0, 0.0, history
    u = u / beta
    v = rmatvec(u)
    alpha = float(xp.linalg.vector_norm(v))
    if alpha <= atol * anorm_guess:
        return z, 2, 0, alpha / anorm_guess, history
    v = v / alpha
    w = v
    phibar, rhobar = beta, alpha
    anorm2 = 0.0
    bnorm = beta
    znorm2 = 0.0
    istop = 7
    itn = 0
    arnorm_rel = 1.0
    while itn < maxiter:
        itn += 1
        u = matvec(v) - alpha * u
        beta = float(xp.linalg.vector_norm(u))
        anorm2 += alpha * alpha + beta * beta
        if beta > 0.0:
            u = u / beta
            v = rmatvec(u) - beta * v
            alpha = float(xp.linalg.vector_norm(v))
            if alpha > 0.0:
                v = v / alpha
        rho = math.hypot(rhobar, beta)
        c, s = rhobar / rho, beta / rho
        theta = s * alpha
        rhobar = -c * alpha
        phi = c * phibar
        phibar = s * phibar
        z = z + (phi / rho) * w
        w = v - (theta / rho) * w
        znorm2 = float(xp.linalg.vector_norm(z)) ** 2
        anorm = math.sqrt(anorm2)
        rnorm = phibar
        arnorm = phibar * alpha * abs(c)
        arnorm_rel = arnorm / (anorm * rnorm) if rnorm > 0 else 0.0
        history.append((rnorm, arnorm_rel, time.perf_counter() - t0))
        if callback is not None and callback(itn, z, rnorm):
            istop = 8
            break
        if rnorm <= btol * bnorm + atol * anorm * math.sqrt(znorm2):
            istop = 1
            break
        if arnorm_rel <= atol:
            istop = 2
            break
    return z, istop, itn, arnorm_rel, history
