"""Refinement of a symmetric CP decomposition on the CP objective.

Minimizes ``||T - sum_i s_i b_i^{(x)m}||_F^2`` over the scaled factors
``b_i = |w_i|^{1/m} a_i`` (the signs ``s_i`` of the weights are kept) by
Levenberg-Marquardt.  Everything comes from the operand's MTTKRP ``T(., b_i, ..., b_i)``
and the Gram matrix ``C = B^T B``:

- gradient block ``i``: ``2 m s_i (sum_j s_j b_j C_ji^{m-1} - T(., b_i, ..., b_i))``;
- Gauss-Newton block ``(i, j)``: ``m s_i s_j (m C_ij^{m-1} I + m (m-1) C_ij^{m-2}
  b_j b_i^T)``;
- objective: ``||T||^2 - 2 sum_i s_i T(b_i, ..., b_i) + sum_ij s_i s_j C_ij^m``.
"""

import numpy as np

from .._backend import from_host, host_dtype, to_host
from .._result import IterationLog

__all__ = ["refine_symmetric"]

_RELATIVE_DECREASE = 1e-12
_MAX_DAMPING = 1e10


class _Model:
    """The CP objective and its Gauss-Newton system at scaled factors ``B`` (host)."""

    def __init__(self, operand, signs):
        self.operand, self.xp, self.m = operand, operand.xp, operand.order
        self.signs = signs
        self.norm_squared = operand.norm_squared()

    def evaluate(self, B, like):
        """``(objective, mttkrp)`` at ``B`` (``d x r`` host array)."""
        M = to_host(self.operand.mttkrp(from_host(self.xp, B, like, dtype=like.dtype)))
        M = M.astype(np.float64)
        s, C = self.signs, B.T @ B
        value = (self.norm_squared - 2.0 * s @ np.sum(B * M, axis=0)
                 + s @ (C**self.m) @ s)
        return max(value, 0.0), M

    def system(self, B, M):
        """``(J^T J, J^T r)`` with the residual ``r = T_hat - T``, unknowns ordered by
        component (blocks of ``d``)."""
        d, r = B.shape
        m, s = self.m, self.signs
        C = B.T @ B
        outer = s[:, None] * s[None, :]
        fitted = B @ (s[:, None] * C ** (m - 1))          # column i: sum_j s_j b_j C_ji^{m-1}
        gradient = (m * s[None, :] * (fitted - M)).T.reshape(-1)
        H = np.einsum("ij,ab->iajb", m * outer * C ** (m - 1), np.eye(d))
        H += np.einsum("ij,aj,bi->iajb", m * (m - 1) * outer * C ** (m - 2), B, B)
        return H.reshape(r * d, r * d), gradient


def refine_symmetric(operand, A, weights, *, maxiter):
    """Refine ``(A, weights)``; returns ``(A, weights, history, converged)``."""
    xp, m = operand.xp, operand.order
    signs = np.where(weights < 0, -1.0, 1.0)
    B = to_host(A).astype(np.float64) * np.abs(weights)[None, :] ** (1.0 / m)
    model = _Model(operand, signs)
    scale = max(model.norm_squared, np.finfo(np.float64).tiny)
    eps = float(np.finfo(host_dtype(A.dtype)).eps)
    value, M = model.evaluate(B, A)
    damping = 1e-3
    log = IterationLog(("objective", "step"), maxiter=maxiter)
    for _ in range(maxiter):
        if value <= 100.0 * eps * scale:
            log.converge("the objective is at rounding level")
            break
        H, gradient = model.system(B, M)
        scale_h = np.mean(np.diag(H))
        improved = False
        while damping < _MAX_DAMPING:
            step = np.linalg.solve(H + damping * scale_h * np.eye(H.shape[0]), -gradient)
            candidate = B + step.reshape(B.shape[1], B.shape[0]).T
            new_value, new_M = model.evaluate(candidate, A)
            if new_value < value:
                improved = True
                damping = max(damping / 3.0, 1e-12)
                break
            damping *= 4.0
        if not improved:
            log.record(objective=np.sqrt(value / scale), step=0.0)
            log.converge("no damped Gauss-Newton step decreases the objective")
            break
        decrease = value - new_value
        B, value, M = candidate, new_value, new_M
        log.record(objective=np.sqrt(value / scale),
                   step=float(np.linalg.norm(step) / max(np.linalg.norm(B), 1e-300)))
        if decrease <= _RELATIVE_DECREASE * scale:
            log.converge("the decrease of the objective fell below 1e-12 ||T||^2")
            break
    norms = np.linalg.norm(B, axis=0)
    A = from_host(xp, B / norms[None, :], A, dtype=A.dtype)
    return A, signs * norms**m, log.history(), log.converged
