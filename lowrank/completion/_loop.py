"""The one outer loop of :func:`~lowrank.completion.altmin`, for every backend.

A backend (``_host.HostBackend`` for NumPy/SciPy input and the Numba kernels,
``_device.DeviceBackend`` for CuPy and other array-API namespaces) holds the observations,
scaled by :func:`value_scale`, and provides the per-backend pieces: the initial factor, a
half-sweep (every row's regression given the fixed factor), the observed residual, the
penalty and the validation error.  This module owns everything else: the biases (by
augmenting the factors), the tolerance schedule, the stopping rules and the history.
"""

import dataclasses
import logging
import math

from .._backend import device_of
from .._result import IterationLog
from ._result import CompletionResult
from ._work import sweep_summary

__all__ = ["HISTORY", "Settings", "augment", "run_altmin", "top_left_singular_vectors",
           "value_scale"]

logger = logging.getLogger(__name__)

# The robust method tightens its per-row tolerance by this factor when a sweep lowers the
# objective by less than _STALL of its value (progress has stalled), down to
# SOLVER_TOL_FLOOR.  Converging sweeps lower it by far more (a residual falling by 0.87
# per sweep, as at condition number 100, lowers the objective by 24 %).
_TIGHTEN = 1000.0
_STALL = 1e-3
SOLVER_TOL_FLOOR = 1e-12
# A sweep of exact updates may raise the objective by rounding only (relative; at least
# PRECISION_FLOOR_ULPS units of rounding of the dtype).
_ROUNDING_RISE = 1e-12
# A positive ``tol`` below this many units of rounding of the observations' dtype is
# raised to it: float32 factors leave a relative residual of 1e-7 to 1e-6 on noiseless
# data (measured at k = 2-3), which a float64-sized ``tol`` would never accept.
PRECISION_FLOOR_ULPS = 64
# Power iterations and oversampling of the randomized SVD that initializes the factors.
_INIT_POWER_ITERATIONS = 2
INIT_OVERSAMPLING = 10
# The columns of CompletionResult.history, in order (IterationLog adds "time").
HISTORY = ("residual", "objective", "validation_rmse", "solver_tol", "mean_inner_steps",
           "max_inner_steps", "exact_rows", "cg_fraction", "rescued_rows", "work",
           "sweep_time")


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validated options of one :func:`altmin` run that every backend shares."""

    rank: int
    method: str
    solver_tol: float
    maxiter: int
    tol: float
    lam: float
    weighted: bool
    max_steps: int
    biases: bool
    bias_lam: object  # None: the factors' lam
    callback: object


def value_scale(top):
    """A power of 4 near ``top`` (the largest observed magnitude) when that lies outside
    ``[2^-20, 2^20]``, else 1: the values are divided by it, and the factors multiplied
    back by its square root, so values near the overflow or underflow thresholds are
    safe.  Powers of 4 keep the scaling and its square root exact."""
    if top == 0.0 or 2.0**-20 <= top <= 2.0**20:
        return 1.0
    return 4.0 ** round(math.log(top, 4))


def augment(xp, F, *columns):
    """``[F, c_1, c_2, ...]``: ``F`` with the ``columns`` appended (1-D arrays, or
    Python floats for constant columns)."""
    def column(c):
        if isinstance(c, float):
            return xp.full((F.shape[0], 1), c, dtype=F.dtype, device=device_of(F))
        return xp.reshape(c, (-1, 1))

    return xp.concat([F, *(column(c) for c in columns)], axis=1)


def top_left_singular_vectors(times, times_t, G, rank, qr, svd):
    """Top-``rank`` left singular vectors of the operator ``times`` (adjoint ``times_t``)
    by a randomized SVD from the Gaussian block ``G``, with power iterations."""
    Qm = qr(times(G))
    for _ in range(_INIT_POWER_ITERATIONS):
        Qn = qr(times_t(Qm))
        Qm = qr(times(Qn))
    Ub = svd(times_t(Qm).T)  # the SVD of Qm^T A (width x n)
    return Qm @ Ub[:, :rank]


class _Model:
    """The iterate: factors ``U``, ``V`` and, with biases, offset ``mu`` and biases
    ``a`` (rows) and ``b`` (columns), all in the backend's scaled units.

    A half-sweep solves for ``[x, bias / s]`` against ``[F, s 1]``: the ridge ``lam``
    on ``bias / s`` is ``lam / s^2 = bias_lam`` on the bias, so ``s = sqrt(lam /
    bias_lam)`` gives the biases their own weight.
    """

    def __init__(self, xp, U, V, offset, bias_scale):
        self.xp, self.U, self.V = xp, U, V
        self.biased = bias_scale is not None
        self.s = bias_scale
        self.offset = offset if self.biased else 0.0
        zeros = xp.zeros
        self.a = zeros(U.shape[0], dtype=U.dtype, device=device_of(U)) if self.biased else None
        self.b = zeros(V.shape[0], dtype=V.dtype, device=device_of(V)) if self.biased else None

    def fixed(self, F):
        """The fixed factor of a half-sweep: ``[F, s 1]`` with biases."""
        return augment(self.xp, F, self.s) if self.biased else F

    def unknown(self, X, bias):
        """The warm start of a half-sweep (and the ridge's unknowns): ``[X, bias / s]``
        with biases."""
        return augment(self.xp, X, bias / self.s) if self.biased else X

    def split(self, X):
        """``(factor, bias)`` of a half-sweep's solution."""
        if not self.biased:
            return X, None
        k = X.shape[1] - 1
        return X[:, :k], X[:, k] * self.s

    def prediction_factors(self):
        """``(Ua, Va)`` with ``Ua Va^T = U V^T + a 1^T + 1 b^T``."""
        if not self.biased:
            return self.U, self.V
        return augment(self.xp, self.U, self.a, 1.0), augment(self.xp, self.V, 1.0, self.b)

    def penalized(self):
        """The ridge's unknowns per row and per column."""
        return self.unknown(self.U, self.a), self.unknown(self.V, self.b)


def run_altmin(backend, settings, rng):
    """Alternating minimization on ``backend`` (see the module docstring)."""
    s = settings
    xp = backend.xp
    lam = s.lam / backend.scale
    log = IterationLog(HISTORY, maxiter=s.maxiter, callback=s.callback)
    eps = float(xp.finfo(backend.dtype).eps)
    tol, tol_note = _attainable_tol(s.tol, eps)
    rounding_rise = max(_ROUNDING_RISE, PRECISION_FLOOR_ULPS * eps)
    with backend.threads():
        offset = backend.mean_value() if s.biases else 0.0
        U = backend.initial_left_factor(rng, s.rank, offset)
        V = xp.zeros((backend.shape[1], s.rank), dtype=backend.dtype,
                     device=device_of(U))
        model = _Model(xp, U, V, offset, _bias_scale(s))
        tau, objective_old = s.solver_tol, math.inf
        for sweep in range(1, s.maxiter + 1):
            t0 = log.elapsed()
            exact_now = s.method == "exact" or tau <= SOLVER_TOL_FLOOR
            halves = []
            X, half = backend.half_sweep(
                False, model.fixed(model.U), model.unknown(model.V, model.b), tau=tau,
                exact=s.method == "exact" or sweep == 1, part=sweep, offset=model.offset,
                other_bias=model.a)
            model.V, model.b = model.split(X)
            halves.append(half)
            X, half = backend.half_sweep(
                True, model.fixed(model.V), model.unknown(model.U, model.a), tau=tau,
                exact=s.method == "exact", part=s.maxiter + sweep, offset=model.offset,
                other_bias=model.b)
            model.U, model.a = model.split(X)
            halves.append(half)
            residual, objective = _fit(backend, model, lam)
            log.record(residual=residual, objective=objective * backend.scale * backend.scale,
                       validation_rmse=backend.validation_rmse(*model.prediction_factors(),
                                                               model.offset),
                       solver_tol=tau if s.method == "robust" else 0.0,
                       **sweep_summary(halves, s.rank + s.biases, lam, s.max_steps),
                       sweep_time=log.elapsed() - t0)
            logger.debug("altmin sweep %d: residual %.3e, objective %.6e, tol %.1e",
                         sweep, residual, objective, tau)
            if not (math.isfinite(residual) and math.isfinite(objective)):
                log.fail(f"non-finite residual or objective at sweep {sweep} (overflow)")
                break
            decrease = (objective_old - objective) / objective if objective > 0 else 0.0
            root = math.sqrt(backend.scale)
            stop = log.call_back(sweep, model.U * root, model.V * root, residual)
            if residual <= tol:
                log.converge(f"residual {residual:.2e} <= tol={tol:.3g}{tol_note}")
                break
            if exact_now and -rounding_rise <= decrease <= tol:
                log.converge(f"stationary: the objective fell by {max(decrease, 0):.2e} "
                             f"<= tol={tol:.3g} in a sweep of exact updates")
                break
            if decrease < -rounding_rise:
                logger.info("altmin sweep %d raised the objective by %.2e (relative)",
                            sweep, -decrease)
            if stop:
                break
            if s.method == "robust" and decrease < _STALL:
                tau = max(tau / _TIGHTEN, SOLVER_TOL_FLOOR)
            objective_old = objective
    log.warn("altmin", detail=f" (residual {log.last('residual'):.3e} > tol={tol:.3g})")
    return _result(backend, model, settings, log)


def _attainable_tol(tol, eps):
    """``(tol, note)``: a positive ``tol`` raised to ``PRECISION_FLOOR_ULPS * eps`` (the
    note says so); ``tol = 0`` (run every sweep) is kept."""
    floor = PRECISION_FLOOR_ULPS * eps
    if 0.0 < tol < floor:
        return floor, f" (the requested tol={tol:g} is below the dtype's rounding floor)"
    return tol, ""


def _bias_scale(settings):
    """``s`` of :class:`_Model` (``None`` without biases)."""
    if not settings.biases:
        return None
    if settings.bias_lam is None or settings.lam == 0.0:
        return 1.0
    return math.sqrt(settings.lam / settings.bias_lam)


def _fit(backend, model, lam):
    """``(relative residual, objective)`` of the scaled problem; with biases the offset
    is first refitted (the mean of the residuals: the exact minimizer in ``mu``)."""
    res, total = backend.residual(*model.prediction_factors(), model.offset)
    if model.biased and backend.nnz:
        shift = total / backend.nnz
        model.offset += shift
        res = max(res - total * shift, 0.0)  # sum (e - shift)^2
    penalty = sum(backend.penalty(X, by_row) for X, by_row
                  in zip(model.penalized(), (True, False), strict=True))
    ref = backend.ref
    # (the objective may overflow to inf for values near the float range's end)
    return (math.sqrt(res / ref) if ref > 0 else math.sqrt(res)), res + lam * penalty


def _result(backend, model, settings, log):
    root = backend.dtype_scalar(math.sqrt(backend.scale))
    fields = {}
    if model.biased:
        scale = backend.dtype_scalar(backend.scale)
        fields = {"offset": float(model.offset * backend.scale),
                  "row_bias": model.a * scale, "col_bias": model.b * scale}
    return CompletionResult(U=model.U * root, V=model.V * root, rank=settings.rank,
                            method=settings.method, regularization=settings.lam,
                            converged=log.converged, n_iter=log.n_iter,
                            history=log.history(), message=log.message, **fields)
