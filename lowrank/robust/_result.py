"""Result of :func:`lowrank.robust.subgradient_recovery`."""

from .._result import History, Result

__all__ = ["RecoveryResult"]


class RecoveryResult(Result):
    """Factors of the recovered low-rank matrix and the run's history.

    Attributes
    ----------
    U : ndarray (d1, r')
        The factor (``X = U U^T`` when symmetric).
    V : ndarray (d2, r') or None
        The second factor (``X = U V^T``); None when symmetric.
    X : ndarray (d1, d2)
        The recovered matrix.
    rank : int
        ``r'``, the factors' width (the rank bound the run was given).
    symmetric : bool
    converged : bool
        The iterate escaped the small start and the schedule ran to its end (``maxiter``
        or a step below ``step_tol``); the error follows the last step, recorded in
        ``history["step"]``.
    escaped : bool
        ``||U_t||_F`` grew past ``||U_0||_F / sqrt(init_scale)`` (halfway from the start's
        scale to the signal's, in logarithm).
    n_iter : int
        Iterations run.
    step_size, decay : float
        The schedule used: ``eta`` and ``rho`` of the fixed ``eta rho^t``; ``decay`` is
        NaN for the default adaptive schedule (its steps are in ``history["step"]``).
    escape_estimate : float
        The step budget the escape was estimated to need (normalized units).
    budget : float
        ``sum_t eta_t`` over the run (normalized units: the steps before division by
        ``||Q||_2`` under ``step_rule="normalized"``).
    history : History
        Per iteration: ``loss`` ``(1/m) ||A(X_t) - y||_1``, ``step`` (``eta_t`` as
        applied), ``budget`` (cumulative), ``norm_U`` (``||U_t||_F``, with ``V_t`` for
        the asymmetric case, ``sqrt(||U||^2 + ||V||^2)``), ``escaped`` (0/1), ``error``
        (``||X_t - X_true||_F / ||X_true||_F`` when ``X_true`` was given, else NaN) and
        ``time``.
    message : str
    """

    U: object
    V: object
    X: object
    rank: int
    symmetric: bool
    converged: bool
    escaped: bool
    n_iter: int
    step_size: float
    decay: float
    escape_estimate: float
    budget: float
    history: History
    message: str
