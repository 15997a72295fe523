"""Warnings and errors raised by :mod:`lowrank`."""

__all__ = ["ConvergenceWarning", "LowrankWarning"]


class LowrankWarning(UserWarning):
    """Base class of the warnings that :mod:`lowrank` emits."""


class ConvergenceWarning(LowrankWarning):
    """An iterative method stopped at ``maxiter`` before reaching its tolerance.

    The result object is still returned, with ``converged=False`` and a ``message``
    that says which criterion was not met.
    """
