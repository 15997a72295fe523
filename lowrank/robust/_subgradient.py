"""The sub-gradient method for robust low-rank recovery with an l1 loss (Ma-Fattahi)."""

import math
import warnings

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from .._backend import array_namespace, from_host, is_numpy_namespace, to_host
from .._result import IterationLog
from .._rng import check_rng
from .._validation import check_int, check_option, check_real
from ..exceptions import ConvergenceWarning
from ._device import HostView
from ._measurements import _Operator
from ._result import RecoveryResult

__all__ = ["subgradient_recovery"]

_HISTORY = ("loss", "step", "budget", "norm_U", "escaped", "error")
# The default step eta (normalized rule).
_DEFAULT_STEP = 0.1
# The iterate has escaped once ||X_t||_F reaches this share of the data's estimate of
# ||X^*||_F (the adaptive schedule holds its step at least until then).
_ESCAPED = 0.25
# After the first escape: halve the step, then decay it by this factor per step while
# no signal direction is still escaping (class _Adaptive).
_AT_FIT = 0.5
_FIT_DECAY = 0.98
# Dense eigen/singular value problems up to this many rows (sparse iterations above).
_DENSE_SPECTRUM = 800
# ||Q||_2 by a dense SVD up to this many rows, else by one subspace-iteration step per
# iteration on a block of _POWER_BLOCK vectors riding along the step's products
# (warm-started: Q changes little between steps), after _POWER_STEPS on the first.
_DENSE_NORM = 64
_POWER_STEPS = 10
_POWER_BLOCK = 4
# The stuck-direction probe solves dense eigen/singular problems up to this size.
_DENSE_PROBE = 200


def subgradient_recovery(measurements, y, rank, *, symmetric=True, init="spectral",
                         init_scale=1e-8, step_size=None, decay=None,
                         step_rule="normalized", maxiter=10000, step_tol=None, rng=None,
                         callback=None, X_true=None, check_finite=True) -> RecoveryResult:
    r"""Recover a low-rank matrix from corrupted linear measurements by the sub-gradient
    method on the l1 loss (Ma and Fattahi, JMLR 2023).

    Minimizes ``f(U) = (1/m) ||A(U U^T) - y||_1`` over ``U`` of width ``rank`` (the
    paper's setting: ``X = U U^T`` positive semidefinite), or
    ``(1/m) ||A(U V^T) - y||_1`` with ``symmetric=False`` (our extension), by

    .. math::

        Q_t = \tfrac1m \mathcal A^*(\operatorname{sign}(\mathcal A(U_t U_t^T) - y)),\qquad
        U_{t+1} = U_t - \eta_t (Q_t + Q_t^T) U_t

    (``U <- U - eta_t Q V``, ``V <- V - eta_t Q^T U`` when asymmetric) from a small
    spectral start, with the paper's normalized geometric step
    ``eta_t = eta rho^t / ||Q_t||_2``.  The rank may be over-estimated (up to ``d``):
    from a small start the iterate fits the signal before the spurious directions can
    grow, as long as the step budget ``sum_t eta_t`` matches what the escape from the
    start needs (too little: it never leaves the start; too much: spurious directions
    grow back).  By default the schedule adapts the budget to the problem (Notes).

    Parameters
    ----------
    measurements : GaussianMeasurements or EntryMeasurements
        The operator ``A``.
    y : array_like (m,)
        Measurements, possibly corrupted (outliers, Gaussian noise).  A CuPy (or other
        array API) array runs the data-sized work in its namespace and returns the
        factors there (Notes).
    rank : int
        ``r'``, the factors' width: an upper bound on the rank, ``1 <= r' <= min(d1,
        d2)``.
    symmetric : bool, default True
        ``X = U U^T`` (square, PSD; the paper's setting) or ``X = U V^T``.
    init : {"spectral", "random"}, default "spectral"
        ``"spectral"``: the paper's Algorithm 2, ``U_0 = alpha W sqrt(D_+)`` from the
        top ``r'`` eigenpairs of ``C = sym(A^*(sign y)) / m`` (negative ones set to 0;
        the singular triplets of ``A^*(sign y) / m`` when asymmetric);
        ``"random"``: ``U_0 = alpha G / sqrt(d)`` with ``G`` standard Gaussian (not
        covered by the paper's theory; its simulations find it behaves alike).
    init_scale : float, default 1e-8
        ``alpha``.  The final error grows with it (``alpha = 1e-3`` caps an
        over-parameterized run near ``1e-3``).
    step_size : float, optional
        ``eta``; default 0.1.
    decay : float, optional
        ``rho`` in ``(0, 1]`` for the paper's fixed schedule ``eta rho^t``.  Default: the
        adaptive schedule (Notes), which needs no tuning.
    step_rule : {"normalized", "geometric"}, default "normalized"
        ``eta rho^t / ||Q_t||_2`` (the paper's; invariant to rescaling ``A``) or
        ``eta rho^t`` (then ``eta`` depends on the operator's scale).
    maxiter : int, default 10000
    step_tol : float, optional
        Stop once the relative change a step can make, ``2 eta_t ||Q_t||_2``, is below
        it; default the dtype's ``eps`` (steps below rounding change nothing).
    rng : None, int, numpy.random.Generator, ...
        Seeds ``init="random"`` and the sparse eigensolvers' start vectors.
    callback : callable, optional
        ``callback(t, loss)`` after each iteration; return True to stop.
    X_true : array_like (d1, d2), optional
        The ground truth, for experiments: the history then records the relative error.
    check_finite : bool, default True

    Returns
    -------
    RecoveryResult
        ``U``, ``V`` (None when symmetric), ``X`` (in the namespace of ``y``), the
        schedule, the escape estimate, the budget spent and the ``history``.

    Raises
    ------
    TypeError
        ``measurements`` is not a measurement operator.
    ValueError
        ``y`` of the wrong length or not finite; ``rank`` outside ``[1, min(d1, d2)]``;
        ``symmetric=True`` with a non-square shape; bad options.

    Warns
    -----
    ConvergenceWarning
        When half the step budget is spent while ``||U_t||_F`` is still within 10x of
        ``||U_0||_F`` (the budget is likely too small to escape the small start), and
        when the run ends without having escaped.

    Notes
    -----
    **Default schedule** (ours; the paper's fixed ``eta rho^t`` is ``decay=rho``).  The
    step budget ``sum_t eta_t`` must cover the escapes from the small start, which depend
    on the problem (condition number, outlier rate, ``alpha``), and no more:
    over-parameterized directions grow with every extra unit.  No fixed ``(eta, rho)``
    serves every problem, so by default the step ``eta`` is held until ``||X_t||_F``
    reaches a quarter of ``||X^*||_F`` (a robust estimate from the median of ``|y|``);
    it is then halved and decays by 0.98 per step, paused while the sub-gradient's top
    direction (the top eigenvector of ``-sym(Q_t)``, probed every ``2 / eta`` steps)
    carries less than 1e-2 of ``||U V^T||_2``, i.e. while a weaker signal direction is
    still escaping; once none is and the loss has levelled off, the step is halved at
    every plateau of the loss, and the run stops when a step can no longer change the
    iterate (``step_tol``).  Measured on Gaussian sensing problems (``d = 16`` to 30,
    ``m = 20 d r``, up to 30 % outliers, ``kappa`` up to 10, ``r' = r`` to ``d``): final
    errors within 10x of the best of a hand-tuned ``(eta, rho)`` grid and mostly below
    it, in 1,300-5,300 iterations (figure F13).  The median of ``|y|`` needs fewer than
    half of the measurements corrupted: beyond that (the paper's Fig. 1b at 60 %), pass
    ``decay``.

    **Backend support**: NumPy, CuPy and other array API namespaces, chosen by ``y``.
    What grows with the data runs there: ``A(U V^T)``, the residual's sign and its
    adjoint's products with the factors (Gaussian matrices are moved to the device once
    when stored densely; entry measurements use index arrays sorted by row and by
    column, and segment sums for the adjoint).  The ``d x r'`` factors, the schedule,
    the norm estimate and the probes stay on the host: the factors cross over once per
    iteration, in both directions.  The result is the same algorithm's (identical
    iterates for Gaussian operators; entry sums in another order).

    **Escape estimate** (paper note; our derivation), reported in
    ``escape_estimate`` and used by the warning of a fixed schedule.  Near ``U = 0``
    the direction of ``sigma_j`` grows by about ``1 + 2 eta_t sigma_j / sigma_1`` per
    normalized step and escapes once ``sum_t eta_t >~ (sigma_1 / (2 sigma_j))
    ln(sqrt(d / r') / alpha)``, with ``sigma_1 / sigma_j`` read off the spectral start
    (its eigenvalues above twice the noise level of ``C``); doubled when asymmetric.

    Scope: the guarantees (recovery for any ``r' >= r`` with outliers of any size at a
    rate ``p < 1``; a near-minimax floor under dense Gaussian noise) are the paper's for
    ``symmetric=True`` with Gaussian measurements.  The asymmetric and entry-sampling
    paths are our extensions without such a guarantee.

    References
    ----------
    J. Ma, S. Fattahi, "Global convergence of sub-gradient method for robust matrix
    recovery: small initialization, noisy measurements, and over-parameterization",
    JMLR 24 (2023), arXiv:2202.08788.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.robust import GaussianMeasurements, corrupt, subgradient_recovery
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.standard_normal((10, 2))
    >>> X = Z @ Z.T
    >>> A = GaussianMeasurements(10, 400, rng=1)
    >>> y = corrupt(A(X), 0.1, rng=2)                    # 10 % outliers
    >>> res = subgradient_recovery(A, y, rank=10)        # over-parameterized
    >>> bool(np.linalg.norm(res.X - X) / np.linalg.norm(X) < 1e-6)
    True
    """
    op, y, xp, shape, dtype = _check_inputs(measurements, y, symmetric, check_finite)
    r = check_int(rank, "rank", low=1, high=min(shape))
    check_option(init, "init", ("spectral", "random"))
    check_option(step_rule, "step_rule", ("normalized", "geometric"))
    alpha = check_real(init_scale, "init_scale", low=0.0, low_open=True)
    eta = _DEFAULT_STEP if step_size is None else check_real(
        step_size, "step_size", low=0.0, low_open=True)
    maxiter = check_int(maxiter, "maxiter", low=1)
    eps = float(np.finfo(dtype).eps)
    step_tol = eps if step_tol is None else check_real(step_tol, "step_tol", low=0.0)
    truth = _check_truth(X_true, shape, dtype)
    rng = check_rng(rng)

    m = op.n_measurements
    on_host = is_numpy_namespace(xp)
    C = op._sign_adjoint(y)
    C = (C if on_host else HostView(C, xp, y).host_matrix()) / m
    U, V, spectrum = _start(C, r, symmetric, init, alpha, rng, dtype)
    noise = _noise_level(op, symmetric)
    estimate = _escape_estimate(spectrum, noise, shape, r, alpha)
    if not symmetric:
        estimate *= 2.0
    if decay is None:
        schedule, rho = _Adaptive(eta), float("nan")
    else:
        rho = check_real(decay, "decay", low=0.0, high=1.0, low_open=True)
        schedule = _Geometric(eta, rho)

    log = IterationLog(_HISTORY, maxiter=maxiter, callback=callback)
    state = _State(U, V, symmetric, first_escape=_ESCAPED * op._scale_estimate(y))
    total, warned = schedule.total(maxiter), False
    power = _PowerEstimate(rng, dtype)
    for t in range(maxiter):
        if on_host:
            loss, G = op._loss_and_sign_adjoint(state.U, state.V, y)   # Q = G / m
        else:                                   # the factors cross over, G stays there
            U_device = from_host(xp, state.U, y)
            V_device = U_device if symmetric else from_host(xp, state.V, y)
            loss, G = op._loss_and_sign_adjoint(U_device, V_device, y)
            G = HostView(G, xp, y)
        move_U, move_V, q_norm = power.descent(G, state)
        q_norm /= m
        if q_norm == 0.0:
            log.converge(f"zero sub-gradient after {t} iterations (the loss is at a "
                         f"minimum)")
            break
        step = schedule.scale / q_norm if step_rule == "normalized" else schedule.scale
        if 2.0 * step * q_norm <= step_tol:
            break
        state.observe(schedule.scale)
        log.record(loss=loss / m, step=step, budget=state.budget, norm_U=state.norm,
                   escaped=float(state.escaped), error=_error(state, truth))
        if not (warned or state.escaped) and state.stalled(total):
            warnings.warn(
                f"subgradient_recovery: half the step budget ({state.budget:.3g} of "
                f"{total:.3g}) is spent and ||U||_F has not grown 10x from the start: the "
                f"iterate may never escape the small initialization (escape estimate "
                f"{estimate:.3g}); raise `decay` or `step_size`, or leave `decay` at its "
                f"default.", ConvergenceWarning, stacklevel=2)
            warned = True
        state.step(move_U, move_V, step / m)
        schedule.advance(t, loss, state.fitted, lambda G=G: _stuck_direction(G, state, rng))
        if log.call_back(t, loss / m):
            break
    if not (log.converged or log.stopped_by_callback):
        message = _ending(log, state.escaped, schedule.scale, step_tol, maxiter)
        (log.converge if state.escaped else log.fail)(message)
    log.warn("subgradient_recovery")
    U, V = from_host(xp, state.U, y), from_host(xp, state.V, y)
    return RecoveryResult(U=U, V=None if symmetric else V, X=U @ V.T, rank=r,
                          symmetric=symmetric, converged=log.converged,
                          escaped=state.escaped, n_iter=log.n_iter, step_size=eta,
                          decay=rho, escape_estimate=estimate, budget=state.budget,
                          history=log.history(), message=log.message)


class _State:
    """The factors (``V is U`` when symmetric) and what the loop tracks about them."""

    def __init__(self, U, V, symmetric, *, first_escape):
        self.U, self.V, self.symmetric = U, (U if symmetric else V), symmetric
        self.first_escape = first_escape
        self.norm0 = self.norm = _norm(self)
        self.budget, self.escaped, self.fitted = 0.0, False, False

    def observe(self, scale):
        self.budget += scale
        self.norm = _norm(self)
        self.fitted = _product_frobenius(self) >= self.first_escape
        self.escaped = self.escaped or self.fitted

    def stalled(self, total):
        return self.budget >= total / 2 and self.norm < 10.0 * self.norm0

    def step(self, move_U, move_V, step):
        """``U -= step move_U`` (and ``V -= step move_V``): the moves are ``Q V`` and
        ``Q^T U`` (``Q U + Q^T U`` when symmetric) of the current factors."""
        if self.symmetric:
            self.U = self.V = self.U - step * move_U
        else:
            self.U, self.V = self.U - step * move_U, self.V - step * move_V

    def X(self):
        return self.U @ self.V.T


class _Geometric:
    """``eta rho^t``."""

    def __init__(self, eta, rho):
        self.scale, self.rho = eta, rho

    def total(self, maxiter):
        if self.rho == 1.0:
            return self.scale * maxiter
        return self.scale * (1.0 - self.rho**maxiter) / (1.0 - self.rho)

    def advance(self, t, loss, fitted, stuck):
        self.scale *= self.rho


class _Adaptive:
    """The default schedule, in three phases.

    - *escape*: hold ``eta`` until ``||X_t||_F`` reaches a quarter of the data's estimate
      of ``||X^*||_F``;
    - *fit*: halve the step, then decay it by ``0.98`` per step, except while the last
      probe (every ``patience = 2 / eta`` steps) found a signal direction still escaping
      (:func:`_stuck_direction`); leave when a probe finds none and the loss has not
      improved by a relative ``1e-3`` for ``patience`` steps;
    - *finish*: halve the step whenever the best loss has not improved for ``patience``
      steps.

    Smaller steps after the first escape let later (weaker) directions escape on less
    budget, since the fitted directions' oscillation, proportional to the step, no longer
    dominates the residual; the spurious directions of an over-parameterized run grow
    with the budget, so the schedule spends little more than the escapes need.
    """

    def __init__(self, eta):
        self.scale = eta
        self.patience = math.ceil(2.0 / eta)
        self.phase = "escape"
        self.paused = False
        self.best = math.inf
        self.last = self.probe = 0

    def total(self, maxiter):
        return self.scale * maxiter

    def advance(self, t, loss, fitted, stuck):
        if self.phase == "escape":
            if fitted:
                self.phase, self.last, self.probe = "fit", t, t
                self.scale *= _AT_FIT
            return
        if loss < self.best * (1.0 - (1e-3 if self.phase == "fit" else 0.0)):
            self.last = t
        self.best = min(self.best, loss)
        if self.phase == "fit":
            if t - self.probe >= self.patience:
                self.probe = t
                self.paused = stuck()
                if not self.paused and t - self.last >= self.patience:
                    self.phase, self.last = "finish", t
            if not self.paused:
                self.scale *= _FIT_DECAY
            return
        if t - self.last >= self.patience:
            self.scale *= 0.5
            self.last = t


def _stuck_direction(Q, state, rng):
    """Whether the sub-gradient points along a direction the iterate has barely grown
    into: the top eigenvector ``u`` of ``-sym(Q)`` (top singular pair ``(u, v)`` of
    ``-Q`` when asymmetric) carries ``|u^T U V^T v| < 1e-2 ||U V^T||_2``.  Near a fit
    ``Q`` is the sign pattern of a residual in the span of the fitted directions."""
    found = _top_direction(Q, state.symmetric, rng)
    if found is None:
        return False
    u, v = found
    along = abs(float((state.U.T @ u) @ (state.V.T @ v)))
    _, Ru = np.linalg.qr(state.U)
    _, Rv = np.linalg.qr(state.V)
    return along < 1e-2 * float(np.linalg.norm(Ru @ Rv.T, 2))


def _top_direction(Q, symmetric, rng):
    """``(u, v)``: the top eigenvector of ``-sym(Q)`` (``u = v``; None when its top
    eigenvalue is not positive), or the top singular pair of ``Q``.  Dense solvers up to
    ``_DENSE_PROBE`` rows, Lanczos (a few digits suffice) above."""
    d = min(Q.shape)
    if d <= _DENSE_PROBE:
        Q = _dense(Q).astype(np.float64)
        if symmetric:
            values, vectors = np.linalg.eigh(-(Q + Q.T) / 2)
            return (vectors[:, -1], vectors[:, -1]) if values[-1] > 0 else None
        P, _, Wt = np.linalg.svd(Q)
        return P[:, 0], Wt[0]
    start = rng.standard_normal(d)
    if symmetric:
        minus_sym = scipy.sparse.linalg.LinearOperator(
            Q.shape, matvec=lambda x: -(Q @ x + Q.T @ x) / 2, dtype=np.float64)
        values, vectors = scipy.sparse.linalg.eigsh(minus_sym, k=1, which="LA", v0=start,
                                                    tol=1e-6)
        return (vectors[:, 0], vectors[:, 0]) if values[0] > 0 else None
    if isinstance(Q, HostView):
        Q = scipy.sparse.linalg.LinearOperator(Q.shape, matvec=Q.__matmul__,
                                               rmatvec=Q.T.__matmul__, dtype=Q.dtype)
    P, _, Wt = scipy.sparse.linalg.svds(Q, k=1, v0=start, tol=1e-6)
    return P[:, 0], Wt[0]


def _product_frobenius(state):
    """``||U V^T||_F`` from the small Gram matrices."""
    gram_v = state.U.T @ state.U if state.symmetric else state.V.T @ state.V
    return math.sqrt(max(float(np.sum((state.U.T @ state.U) * gram_v)), 0.0))


def _ending(log, escaped, scale, step_tol, maxiter):
    if not escaped:
        return (f"the iterate did not escape the small initialization in {log.n_iter} "
                f"iterations (||X_t||_F stayed below {_ESCAPED} times the data's estimate "
                f"of ||X*||_F)")
    if log.n_iter < maxiter:
        return (f"the step decayed below step_tol={step_tol:.3g} after {log.n_iter} "
                f"iterations")
    return f"maxiter={maxiter} reached with the step at {scale:.3g}"


def _check_inputs(op, y, symmetric, check_finite):
    """``(op, y, xp, shape, dtype)``: ``y`` cast to the operator's dtype in its own
    namespace ``xp`` (NumPy for lists and other array-likes)."""
    if not isinstance(op, _Operator):
        raise TypeError(f"`measurements` must be a GaussianMeasurements or "
                        f"EntryMeasurements operator; got {type(op).__name__}.")
    xp = array_namespace(y) if hasattr(y, "__array_namespace__") else np
    if is_numpy_namespace(xp):
        xp, y = np, np.asarray(y)
    if tuple(y.shape) != (op.n_measurements,):
        raise ValueError(f"`y` must have shape ({op.n_measurements},), one value per "
                         f"measurement; got {tuple(y.shape)}.")
    if not xp.isdtype(y.dtype, ("bool", "integral", "real floating")):
        raise TypeError(f"`y` must be real; got dtype {y.dtype}.")
    y = xp.astype(y, op._xp_dtype(xp), copy=False)
    if check_finite and not bool(xp.all(xp.isfinite(y))):
        raise ValueError("`y` must contain only finite values (no NaN or inf).")
    if symmetric and op.shape[0] != op.shape[1]:
        raise ValueError(f"symmetric=True needs square matrices (X = U U^T); the "
                         f"operator's shape is {op.shape}: use symmetric=False.")
    return op, y, xp, op.shape, op.dtype


def _check_truth(X_true, shape, dtype):
    if X_true is None:
        return None
    X_true = np.asarray(to_host(X_true), dtype=dtype)
    if X_true.shape != shape:
        raise ValueError(f"`X_true` must have shape {shape}; got {X_true.shape}.")
    scale = float(np.linalg.norm(X_true))
    return X_true, scale if scale > 0 else 1.0


def _start(C, r, symmetric, init, alpha, rng, dtype):
    """``(U_0, V_0, spectrum)``: the small start and the top ``r`` eigenvalues (singular
    values) of the spectral matrix ``C``, descending."""
    d1, d2 = C.shape
    if symmetric:
        values, vectors = _top_eigen(C, r, rng)
        spectrum = values
        if init == "spectral":
            U = alpha * vectors * np.sqrt(np.maximum(values, 0.0))
        else:
            U = alpha * rng.standard_normal((d1, r)) / math.sqrt(d1)
        return U.astype(dtype), None, spectrum
    left, values, right = _top_singular(C, r, rng)
    if init == "spectral":
        root = np.sqrt(values)
        U, V = alpha * left * root, alpha * right * root
    else:
        U = alpha * rng.standard_normal((d1, r)) / math.sqrt(d1)
        V = alpha * rng.standard_normal((d2, r)) / math.sqrt(d2)
    return U.astype(dtype), V.astype(dtype), values


def _dense(C):
    return C.toarray() if scipy.sparse.issparse(C) or isinstance(C, HostView) else \
        np.asarray(C)


def _top_eigen(C, r, rng):
    d = C.shape[0]
    if d <= _DENSE_SPECTRUM or r >= d - 1:
        S = _dense(C).astype(np.float64)
        values, vectors = np.linalg.eigh((S + S.T) / 2)
        return values[::-1][:r], vectors[:, ::-1][:, :r]
    S = ((C + C.T) / 2).astype(np.float64)
    values, vectors = scipy.sparse.linalg.eigsh(S, k=r, which="LA",
                                                v0=rng.standard_normal(d))
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order]


def _top_singular(C, r, rng):
    if min(C.shape) <= _DENSE_SPECTRUM or r >= min(C.shape) - 1:
        P, s, Qt = np.linalg.svd(_dense(C).astype(np.float64), full_matrices=False)
        return P[:, :r], s[:r], Qt[:r].T
    P, s, Qt = scipy.sparse.linalg.svds(C.astype(np.float64), k=r,
                                        v0=rng.standard_normal(min(C.shape)))
    order = np.argsort(s)[::-1]
    return P[:, order], s[order], Qt[order].T


def _noise_level(op, symmetric):
    """The spectral norm of ``C``'s noise part (its part for unrelated signs): about
    ``(sqrt(d1) + sqrt(d2)) / sqrt(m)`` for Gaussian measurements, and for ``m``
    entries of size ``1/m``, ``(sqrt(m / d1) + sqrt(m / d2)) / m``."""
    d1, d2 = op.shape
    m = op.n_measurements
    if hasattr(op, "rows"):
        level = (math.sqrt(m / d1) + math.sqrt(m / d2)) / m
    else:
        level = (math.sqrt(d1) + math.sqrt(d2)) / math.sqrt(m)
    return level / math.sqrt(2.0) if symmetric else level


def _escape_estimate(spectrum, noise, shape, r, alpha):
    """``(lambda_1 / (2 lambda_s)) ln(sqrt(d / r) / alpha)`` for the smallest signal
    value ``lambda_s`` (above twice the noise level; ``lambda_1`` if none is)."""
    spectrum = np.asarray(spectrum, dtype=np.float64)
    top = float(spectrum[0]) if spectrum.size and spectrum[0] > 0 else 1.0
    signal = spectrum[spectrum > 2.0 * noise]
    smallest = float(signal[-1]) if signal.size else top
    d = max(shape)
    return (top / (2.0 * smallest)) * math.log(max(math.sqrt(d / r), 1.0) / alpha)


class _PowerEstimate:
    """``||Q||_2`` alongside the factor moves ``Q V`` and ``Q^T U``.

    Small dense ``Q`` (at most ``_DENSE_NORM`` rows or columns) get an exact norm.
    Otherwise a block ``P`` of ``_POWER_BLOCK`` orthonormal vectors rides along as more
    columns of the two products the step needs anyway, ``Q [V, P]`` then
    ``Q^T [U, Q P]``: one step of subspace iteration on ``Q^T Q`` per iteration,
    warm-started from the last (the sign pattern changes little between iterations), at
    no extra pass over ``Q`` (the products are memory-bound); the estimate
    ``||Q^T Q P||_2^(1/2)`` is a lower bound.  The first call takes ``_POWER_STEPS``
    steps more.
    """

    def __init__(self, rng, dtype):
        self.rng, self.dtype, self.P = rng, dtype, None

    def descent(self, Q, state):
        """``(move_U, move_V, ||Q||_2)`` for the current factors (``move_V`` is None
        when symmetric)."""
        right = state.U if state.symmetric else state.V
        if not scipy.sparse.issparse(Q) and min(Q.shape) <= _DENSE_NORM:
            QR, QtU = Q @ right, Q.T @ state.U
            norm = float(np.linalg.norm(_dense(Q), 2))
        else:
            if self.P is None:
                self.P = self._warm_start(Q)
            r = right.shape[1]
            left = Q @ np.hstack((right, self.P))
            back = Q.T @ np.hstack((state.U, left[:, r:]))
            QR, QtU, W = left[:, :r], back[:, :r], back[:, r:]
            norm = math.sqrt(float(np.linalg.norm(W, 2)))
            if norm > 0.0:
                self.P = np.linalg.qr(W)[0]
        if state.symmetric:
            return QR + QtU, None, norm
        return QR, QtU, norm

    def _warm_start(self, Q):
        block = min(_POWER_BLOCK, min(Q.shape))
        P = np.linalg.qr(self.rng.standard_normal((Q.shape[1], block)))[0]
        for _ in range(_POWER_STEPS):
            W = Q.T @ (Q @ P)
            if not np.any(W):
                break
            P = np.linalg.qr(W)[0]
        return P.astype(self.dtype)


def _norm(state):
    """``||U||_F`` (``sqrt(||U||_F^2 + ||V||_F^2)`` when asymmetric)."""
    if state.symmetric:
        return float(np.linalg.norm(state.U))
    return math.hypot(float(np.linalg.norm(state.U)), float(np.linalg.norm(state.V)))


def _error(state, truth):
    if truth is None:
        return float("nan")
    X_true, scale = truth
    return float(np.linalg.norm(state.X() - X_true)) / scale
