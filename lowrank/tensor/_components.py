"""The per-component bookkeeping SPM and MSPM share (private)."""

import numpy as np

from .._result import History, IterationLog

__all__ = ["ComponentLog"]

_HISTORY = ("component", "iterations", "objective", "accepted", "rejected_starts", "weight")


class ComponentLog:
    """One row per component found, the user's callback, the run's totals and its
    closing message."""

    def __init__(self, *, maxiter, callback):
        self.log = IterationLog(_HISTORY, maxiter=maxiter, callback=callback)
        self.weights = []
        self.n_iter = self.n_restarts = 0
        self.all_accepted = True

    def add(self, weight, found, *, iterations, objective, accepted, rejected, n_iter):
        """Record a component; True when the callback asks to stop."""
        self.weights.append(weight)
        self.n_iter += n_iter
        self.n_restarts += rejected
        self.all_accepted &= accepted
        position = len(self.weights) - 1
        self.log.record(component=position, iterations=iterations, objective=objective,
                        accepted=float(accepted), rejected_starts=rejected, weight=weight)
        return self.log.call_back(position, weight, found)

    def finish(self, name, *, rank, ntries, accept_tol, failure=None, success=""):
        """Set the message and convergence flag (``failure``: a later phase's reason
        to fail), warn if needed, and return the message."""
        log = self.log
        if log.stopped_by_callback:
            message = f"stopped by callback after {len(self.weights)} of {rank} components"
        elif not self.all_accepted:
            rejected = sum(1 for row in log.rows if not row[3])
            message = (f"{rejected} of {rank} components were not accepted after {ntries} "
                       f"starts (best 1 - F above accept_tol={accept_tol:g}); the rank may "
                       f"be too high, or the tensor noisy: noise lowers the maximum of F "
                       f"below 1, so pass a larger accept_tol (e.g. 0.05) when the "
                       f"reconstruction error is at the noise level")
            log.fail(message)
        elif failure is not None:
            message = failure
            log.fail(message)
        else:
            message = f"all {rank} components accepted{success}"
            log.converge(message)
        log.warn(name)
        return message

    def history(self, permutation):
        """The history with ``component`` giving each row's position in the output."""
        position = np.empty_like(permutation)
        position[permutation] = np.arange(permutation.size)
        rows = self.log.history()
        columns = {name: np.asarray(rows[name]) for name in rows}
        if columns["component"].size:
            columns["component"] = position[columns["component"].astype(np.int64)].astype(float)
        return History(columns)
