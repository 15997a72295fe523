"""Dense l_p regression solvers (private): ``min_x sum_i |a_i^T x - b_i|^p``.

:func:`lp_minimize` is the workhorse of :func:`lowrank.regression.lp_regression` (on the
full data or on a row sample) and of the exact sensitivities of
:func:`lowrank.sampling.lp_sensitivities` (one constrained program per row).

Every solve first replaces ``A`` by an orthonormal basis ``U`` of its column space (thin
SVD with a relative cut-off ``rcond``): the objective only depends on ``A x``, so this
handles rank-deficient ``A`` (the returned ``x`` is the minimizer lying in the row space
of ``A``) and makes the inner weighted least-squares problems as well conditioned as their
weights allow.  The right-hand side is scaled to ``max |b_i| = 1`` and all powers are taken
of residuals divided by their largest magnitude, so that large ``p`` (``p = 20``, ``50``)
neither overflows nor underflows; objective values are carried as logarithms.

- ``p == 2``: least squares (``x = V S^{-1} U^T b``).
- ``p == 1``: a linear program solved by HiGHS (:func:`scipy.optimize.linprog`), by
  default in its dual form ``max b^T y  s.t.  U^T y = 0, -1 <= y <= 1`` (``r`` equality
  rows, ``n`` bounded variables); ``z`` is minus the equality marginals, then polished to
  the exact interpolating vertex.
- ``1 < p < inf``: a modified Newton method with exact line search, see
  :func:`_newton_irls`.
- ``0 < p < 1``: nonconvex; majorize-minimize IRLS from the least-squares solution and
  the l_1 vertex, keeping the better local minimizer (with a :class:`LowrankWarning`).
"""

import math
import warnings
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse

from .._linalg import numerical_rank
from .._result import IterationLog
from ..exceptions import LowrankWarning

__all__ = ["LpSolution", "log_lp_objective", "lp_minimize", "lp_objective"]

_EPS = float(np.finfo(np.float64).eps)

# Relative floor of |r_i| / max|r| inside the Newton/IRLS weights max(|r_i|, eta)^(p - 2)
# for p > 2: keeps the weighted Gram matrix nonsingular at (near) exact fits.  The line
# search uses the true objective, so a floor only affects the speed of the method, never
# its fixed point.  (For p < 2 see _FLOORS_SMALL_P.)
IRLS_ETA = 1e-10

# Default iteration limits.
_MAXITER_SMOOTH = 200   # 1 < p < inf: Newton converges in tens of iterations
_MAXITER_NONCONVEX = 500  # 0 < p < 1: linear (majorize-minimize) convergence


class LpSolution(NamedTuple):
    """Result of :func:`lp_minimize` (private).

    ``history`` holds ``objective`` (``sum |A x_k - b|^p`` per iteration) and ``time``
    (seconds since the start) as float64 arrays (the history of an
    :class:`~lowrank._result.IterationLog`); ``rank`` is the numerical rank of ``A``.
    """

    x: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    message: str
    history: dict
    rank: int


def log_lp_objective(r, p):
    """``log(sum |r_i|^p)`` without overflow (``-inf`` when ``r == 0``)."""
    r = np.abs(np.asarray(r, dtype=np.float64))
    m = float(np.max(r)) if r.size else 0.0
    if m == 0.0:
        return -math.inf
    return p * math.log(m) + math.log(float(np.sum((r / m) ** p)))


def lp_objective(r, p):
    """``sum |r_i|^p`` computed by scaling (``inf`` only when the value overflows)."""
    return _exp(log_lp_objective(r, p))


def _exp(logf):
    return math.exp(logf) if logf < 709.0 else math.inf


def _column_basis(A, rcond):
    """Thin SVD of ``A`` truncated at ``rcond * s_max``: ``(U_r, s_r, Vt_r)``."""
    U, s, Vt = scipy.linalg.svd(A, full_matrices=False, check_finite=False,
                                lapack_driver="gesdd")
    if rcond is None:
        rcond = max(A.shape) * _EPS
    rank = numerical_rank(np, s, rcond)
    return U[:, :rank], s[:rank], Vt[:rank]


def lp_minimize(A, b, p, *, tol=1e-10, maxiter=None, rcond=None, orthonormal=False,
                l1_form="dual", warn=True):
    """Minimize ``sum_i |a_i^T x - b_i|^p`` over ``x`` for dense ``A`` (private).

    Parameters
    ----------
    A : (n, d) array_like
        Dense data (cast to float64); may be rank deficient.
    b : (n,) array_like
        Right-hand side.
    p : float
        ``0 < p < inf``.
    tol : float
        ``1 < p < inf``: the relative duality gap at which the Newton/IRLS method stops
        (certifies ``f(x) - f* <= tol f(x)``); ``p < 1``: the relative decrease of the
        smoothed objective.  Unused for ``p = 1, 2``.
    maxiter : int, optional
        Iteration limit of the iterative methods (default 200 for ``p > 1``, 500 for
        ``p < 1``).
    rcond : float, optional
        Relative singular-value cut-off defining the rank (default ``max(n, d) * eps``).
    orthonormal : bool
        Promise that ``A`` has orthonormal columns (skips the SVD).
    l1_form : {"dual", "primal"}
        LP formulation for ``p == 1``.
    warn : bool
        Warn ``ConvergenceWarning`` when the solver does not converge (``maxiter``, or
        HiGHS failing) and ``LowrankWarning`` for ``p < 1``.

    Returns
    -------
    LpSolution
        ``x`` (float64, in the row space of ``A``), ``objective`` (recomputed from ``x``),
        ``n_iter``, ``converged``, ``message``, ``history``, ``rank``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank._solvers.lp import lp_minimize
    >>> A = np.vander(np.linspace(0, 1, 30), 3)
    >>> b = A @ [1.0, -2.0, 0.5] + 0.01 * np.cos(np.arange(30))
    >>> sol = lp_minimize(A, b, 3.0)
    >>> sol.converged, bool(np.allclose(sol.x, [1.0, -2.0, 0.5], atol=0.1))
    (True, True)
    """
    p = float(p)
    if maxiter is None:
        maxiter = _MAXITER_NONCONVEX if p < 1.0 else _MAXITER_SMOOTH
    log = IterationLog(("objective",), maxiter=maxiter)  # its clock starts here
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n, d = A.shape
    if orthonormal:
        U, s, Vt = A, None, None
    else:
        U, s, Vt = _column_basis(A, rcond)
    rank = U.shape[1]

    def finish(z, n_iter):
        """The solution from the scaled coordinates ``z`` and the ended ``log`` (whose
        history gets the final objective as its one row when no loop recorded any)."""
        if rank == 0:
            x = np.zeros(d)
        elif orthonormal:
            x = z * beta
        else:
            x = Vt.T @ (z / s) * beta
        objective = lp_objective(A @ x - b, p)
        if not log.n_iter:
            log.record(objective=objective)
        if warn:
            log.warn(f"l_p regression (p={p:g})")
        return LpSolution(x=x, objective=objective, n_iter=n_iter, converged=log.converged,
                          message=log.message, history=log.history(), rank=rank)

    beta = float(np.max(np.abs(b))) if b.size else 0.0
    if beta == 0.0 or rank == 0:
        log.converge("trivial problem (b = 0 or A = 0)")
        return finish(np.zeros(rank), 0)
    bs = b / beta
    z_ls = U.T @ bs
    r_ls = U @ z_ls - bs
    if p == 2.0:
        log.converge("least squares")
        return finish(z_ls, 0)
    if float(np.linalg.norm(r_ls)) <= 16 * _EPS * math.sqrt(n):
        log.converge("exact fit (b in the range of A)")
        return finish(z_ls, 0)
    log_unit = p * math.log(beta)  # history objectives are beta^p times the scaled ones
    if p == 1.0:
        z, n_iter, message, ok = _l1(U, bs, l1_form)
        if ok:
            log.converge(message)
        else:
            log.fail(message)
        return finish(z, n_iter)
    if p > 1.0:
        z = _smooth(U, bs, p, z_ls, tol, log, log_unit)
        return finish(z, log.n_iter)
    if warn:
        warnings.warn(f"l_p regression with p={p:g} < 1 is nonconvex; the result is a "
                      "local minimizer (no global guarantee).", LowrankWarning, stacklevel=2)
    z, n_iter = _nonconvex(U, bs, p, z_ls, tol, log, log_unit)
    return finish(z, n_iter)


# --------------------------------------------------------------------------- p == 1


def _l1(U, b, form):
    """l_1 regression ``min_z ||U z - b||_1`` by HiGHS; ``(z, n_iter, message, ok)``.

    Dual form: ``min_y -b^T y  s.t.  U^T y = 0, -1 <= y <= 1``.  Its Lagrangian dual is
    the l_1 problem itself, with ``z`` the multiplier of ``U^T y = 0``; SciPy reports
    ``eqlin.marginals = d(optimal value)/d(b_eq) = -z``, so ``z = -marginals``
    (checked against the primal LP in the tests).
    """
    import scipy.optimize  # lazy: about half the cost of ``import lowrank``

    n, r = U.shape
    if form == "dual":
        res = scipy.optimize.linprog(-b, A_eq=U.T, b_eq=np.zeros(r), bounds=(-1.0, 1.0),
                                     method="highs")
        z = -np.asarray(res.eqlin.marginals, dtype=np.float64) if res.status == 0 else None
    elif form == "primal":
        # variables (z, t): min sum t  s.t.  U z - t <= b,  -U z - t <= -b,  t >= 0
        eye = scipy.sparse.eye(n, format="csr")
        Us = scipy.sparse.csr_matrix(U)
        A_ub = scipy.sparse.vstack([scipy.sparse.hstack([Us, -eye]),
                                    scipy.sparse.hstack([-Us, -eye])], format="csr")
        c = np.concatenate([np.zeros(r), np.ones(n)])
        res = scipy.optimize.linprog(c, A_ub=A_ub, b_ub=np.concatenate([b, -b]),
                                     bounds=[(None, None)] * r + [(0.0, None)] * n,
                                     method="highs")
        z = np.asarray(res.x[:r], dtype=np.float64) if res.status == 0 else None
    else:
        raise ValueError(f"`l1_form` must be 'dual' or 'primal'; got {form!r}.")
    n_iter = int(getattr(res, "nit", 0) or 0)
    if z is None:
        # HiGHS failed (numerical trouble): keep the least-squares point, flag it.
        return U.T @ b, n_iter, f"HiGHS failed: {res.message}", False
    return _polish_vertex(U, b, z, 1.0), n_iter, f"HiGHS ({form} LP): {res.message}", True


def _polish_vertex(U, b, z, p):
    """Replace ``z`` by the vertex interpolating its ``r`` smallest residuals when that
    does not increase ``sum |U z - b|^p`` (l_1 / p < 1 optima are vertices; HiGHS returns
    one up to its feasibility tolerance, this restores full accuracy)."""
    r = U.shape[1]
    res = U @ z - b
    rows = np.argsort(np.abs(res), kind="stable")[:r]
    Us = U[rows]
    sv = np.linalg.svd(Us, compute_uv=False)
    if sv[-1] <= 1e3 * _EPS * sv[0] * r:
        return z
    z_vertex = np.linalg.solve(Us, b[rows])
    if log_lp_objective(U @ z_vertex - b, p) <= log_lp_objective(res, p):
        return z_vertex
    return z


# ------------------------------------------------------------------- 1 < p < inf


def _smooth(U, b, p, z_ls, tol, log, log_unit):
    """``1 < p < inf``: :func:`_newton_irls` from the least-squares point; for ``p < 2``,
    when that run ends without a certified duality gap, also from the l_1 vertex (for p
    close to 1 the optimal residuals of some rows are below the floating-point range, so
    the minimizer is numerically a vertex, and a Newton run can stall at a wrong one).

    Both runs record their iterations in ``log`` and share its ``maxiter``; the log is
    converged only when the duality gap is certified below ``tol``.  Returns ``z``.
    """
    z, gap, stop = _newton_irls(U, b, p, z_ls, tol, log, log_unit)
    if gap > tol and p < 2 and stop == "stalled" and log.n_iter < log.maxiter:
        z1, _, _, ok = _l1(U, b, "dual")
        if ok:
            z2, gap2, stop2 = _newton_irls(U, b, p, z1, tol, log, log_unit)
            if log_lp_objective(U @ z2 - b, p) < log_lp_objective(U @ z - b, p):
                z, gap, stop = z2, gap2, stop2 + ", restarted from the l_1 solution"
    if gap <= tol:
        log.converge(f"converged (relative duality gap {gap:.1e} <= tol)")
    elif stop.startswith("maxiter"):
        log.fail(f"maxiter={log.maxiter} reached (relative duality gap {gap:.1e})")
    else:
        # a stall (no progress in floating point) is not convergence: the gap is not
        # certified below tol, so say so and let the caller warn
        log.fail(f"{stop} at relative duality gap {gap:.1e} > tol={tol:.1e} "
                 "(no further progress in floating point)")
    return z


def _newton_irls(U, b, p, z, tol, log, log_unit):
    """Modified Newton / IRLS with exact line search for ``1 < p < inf``.

    With ``r = U z - b`` scaled by ``m = max |r_i|`` (``rho = r / m``), the direction is

        ``D = -(U^T W U)^+ U^T psi(rho)``,  ``W = diag(max(|rho_i|, eta)^(p - 2))``,
        ``psi(t) = sign(t) |t|^(p - 1)``,

    i.e. ``(p - 1)`` times the Newton step of ``f(z) = sum |U z - b|^p`` with the Hessian
    weights floored at ``eta`` (without flooring, ``z + D`` is exactly the classical IRLS
    update ``argmin sum w_i (u_i^T z - b_i)^2``).  ``D`` is a descent direction (``W`` is
    positive definite), and ``alpha`` minimizes the convex ``phi(alpha) = f(z + alpha D)``
    exactly (Brent's method on the sign of ``phi'``, O(n) per evaluation).  Bounded
    Hessian approximations and exact line searches make every limit point stationary
    (Zoutendijk), hence the global minimum of the convex ``f``; near it the method is
    Newton's.  ``eta`` is ``IRLS_ETA`` for ``p > 2``; for ``p < 2`` it starts at
    ``1e-15`` and, while steps stall, cycles through ``1e-8, 1e-4, 1e-2`` (larger floors
    let residuals stuck near zero move or change sign), back to ``1e-15`` after any
    real decrease.

    Stopping rule: the relative duality gap ``1 - (L / ||r||_p)^p <= tol``, where
    ``L = r^T y / ||y||_q`` (``1/p + 1/q = 1``) is the lower bound on the optimal
    ``||U z - b||_p`` given by the dual point ``y = psi + W U D`` (the linearized
    ``psi`` at the Newton point) projected onto the null space of ``U^T``; it certifies
    ``f(z) - f* <= gap * f(z)``.  The method also stops (uncertified) when a full cycle of
    floors makes no progress in floating point, and when ``log`` reaches its ``maxiter``.

    Each step appends the objective (times ``exp(log_unit)``) to ``log``; the caller
    decides how the run ended.  Returns ``(z, gap, stop)`` with ``stop`` in
    ``"certified"``, ``"stalled"``, ``"exact fit"``, ``"zero gradient"``, ``"maxiter"``.
    """
    r = U @ z - b
    logf = log_lp_objective(r, p)
    floors = (IRLS_ETA,) if p > 2 else _FLOORS_SMALL_P
    level, cycle_logf = 0, logf
    gap = 1.0
    while log.n_iter < log.maxiter:
        eta = floors[level]
        m = float(np.max(np.abs(r)))
        rho = r / m
        a = np.abs(rho)
        psi = np.sign(rho) * a ** (p - 1)
        g = U.T @ psi
        if not np.any(g):
            return z, 0.0, "zero gradient"
        # weighted least squares min ||sw * (U D) + psi / sw|| with sw = sqrt(w), whose
        # normal equations are (U^T W U) D = -g; psi / sw = sign (a/f)^(p-1) f^(p/2) with
        # f = max(a, eta) <= 1 is formed without dividing (sw underflows for large p)
        floor = np.maximum(a, eta)
        with np.errstate(under="ignore"):
            sw = floor ** ((p - 2) / 2)
            rhs = -np.sign(rho) * (a / floor) ** (p - 1) * floor ** (p / 2)
            D = scipy.linalg.lstsq(sw[:, None] * U, rhs, check_finite=False,
                                   lapack_driver="gelsy")[0]
        if not np.all(np.isfinite(D)) or g @ D >= 0:
            D = -g  # cannot happen in exact arithmetic: steepest descent as a guard
        v = U @ D
        gap = min(gap, _duality_gap(U, rho, psi + sw * sw * v, p))
        if gap <= tol:
            return z, gap, "certified"
        alpha = _line_search(rho, v, p)
        z_new = z + (m * alpha) * D
        r_new = U @ z_new - b
        logf_new = log_lp_objective(r_new, p)
        decrease = -math.expm1(logf_new - logf)
        if decrease > 0:
            z, r, logf = z_new, r_new, logf_new
            gap = 1.0  # the bound found so far was for the previous point
        log.record(objective=_exp(log_unit + logf))
        if logf == -math.inf:
            return z, 0.0, "exact fit"
        if decrease > tol:
            level, cycle_logf = 0, logf
        elif level + 1 < len(floors):
            level += 1
        elif -math.expm1(logf - cycle_logf) <= 4 * _EPS:
            return z, gap, "stalled"
        else:
            level, cycle_logf = 0, logf
    return z, gap, "maxiter"


# Hessian-weight floors cycled through by _newton_irls for 1 < p < 2 (see there).
_FLOORS_SMALL_P = (1e-15, 1e-8, 1e-4, 1e-2)


def _duality_gap(U, rho, y, p):
    """Relative gap ``1 - (L / ||rho||_p)^p`` certified by the dual point ``y`` (projected
    onto the null space of ``U^T``): ``L = rho^T y / ||y||_q <= min_z ||U z - b||_p``
    (in the units of ``rho``) for any such ``y``, ``1/p + 1/q = 1``."""
    y = y - U @ (U.T @ y)
    num = float(rho @ y)
    ymax = float(np.max(np.abs(y)))
    if not num > 0 or not np.isfinite(num):
        return 1.0
    q = p / (p - 1)
    log_ynorm = math.log(ymax) + math.log(float(np.sum((np.abs(y) / ymax) ** q))) / q
    log_bound = p * (math.log(num) - log_ynorm)  # log L^p
    return max(-math.expm1(log_bound - log_lp_objective(rho, p)), 0.0)


def _scaled_dphi(rho, v, p, alpha):
    """``phi'(alpha) / (p M^(p-1))`` with ``M = max|rho + alpha v|``: continuous in
    ``alpha``, with the sign of ``phi'``, and overflow free for any ``p``."""
    t = rho + alpha * v
    M = float(np.max(np.abs(t)))
    if M == 0.0:
        return 0.0
    q = t / M
    with np.errstate(under="ignore"):
        return float(np.sum(np.sign(q) * np.abs(q) ** (p - 1) * v))


def _line_search(rho, v, p, rtol=1e-12):
    """Minimizer ``alpha > 0`` of the convex ``phi(alpha) = sum |rho + alpha v|^p`` given
    ``phi'(0) < 0``: bracket the root of ``phi'`` by doubling from the Newton step
    ``1 / (p - 1)``, then Brent's method on the scaled derivative (bisection-safe: large
    ``p`` makes ``phi'`` too steep for plain Newton steps)."""
    import scipy.optimize  # lazy, as in _l1

    if _scaled_dphi(rho, v, p, 0.0) >= 0:
        return 0.0
    lo, hi = 0.0, 1.0 / (p - 1)
    for _ in range(200):
        d = _scaled_dphi(rho, v, p, hi)
        if d == 0:
            return hi
        if d > 0:
            break
        lo, hi = hi, 2 * hi
    else:
        return lo
    return scipy.optimize.brentq(lambda a: _scaled_dphi(rho, v, p, a), lo, hi,
                                 xtol=rtol * hi, rtol=rtol, maxiter=200, disp=False)


# ------------------------------------------------------------------- 0 < p < 1


def _nonconvex(U, b, p, z_ls, tol, log, log_unit):
    """Local minimizer for ``0 < p < 1``: majorize-minimize IRLS on the smoothed
    objective ``sum (r_i^2 + eta^2)^(p/2)`` (weights ``(r_i^2 + eta^2)^(p/2 - 1)``,
    monotone; ``eta = 1e-5`` relative to ``max |b_i|``), started from the least-squares
    point, polished to the nearest vertex (minima of ``sum |r_i|^p`` for p < 1 sit where
    ``rank`` residuals vanish) and compared with the l_1 vertex; returns the better
    point and the iteration count, ``(z, n_iter)``.

    ``log`` gets the objective (times ``exp(log_unit)``) at the start, after each
    iteration and at the returned point, and is converged when the relative decrease of
    the smoothed objective falls to ``tol`` within ``log.maxiter`` iterations.
    """
    z = z_ls
    r = U @ z - b
    eta = IRLS_ETA ** 0.5
    smooth = float(np.sum((r * r + eta * eta) ** (p / 2)))
    log.record(objective=_exp(log_unit + log_lp_objective(r, p)))
    stopped_at = None
    for it in range(1, log.maxiter + 1):
        sw = (r * r + eta * eta) ** ((p - 2) / 4)
        z = scipy.linalg.lstsq(sw[:, None] * U, sw * b, check_finite=False,
                               lapack_driver="gelsy")[0]
        r = U @ z - b
        smooth_new = float(np.sum((r * r + eta * eta) ** (p / 2)))
        log.record(objective=_exp(log_unit + log_lp_objective(r, p)))
        decrease, smooth = (smooth - smooth_new) / smooth, smooth_new
        if decrease <= tol:
            stopped_at = it
            break
    z = _polish_vertex(U, b, z, p)
    z1, _, _, ok = _l1(U, b, "dual")
    better = ok and log_lp_objective(U @ z1 - b, p) < log_lp_objective(U @ z - b, p)
    if better:
        z = z1
    log.record(objective=_exp(log_unit + log_lp_objective(U @ z - b, p)))
    tail = ("; the l_1 vertex was better" if better else "") + (
        " (local minimizer: p < 1 is nonconvex)")
    if stopped_at is None:
        log.fail(f"maxiter={log.maxiter} reached{tail}")
        return z, log.maxiter
    log.converge(f"converged (relative decrease {max(decrease, 0.0):.2e} <= tol){tail}")
    return z, stopped_at
