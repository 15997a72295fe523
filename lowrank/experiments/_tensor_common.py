"""Helpers shared by the tensor figures F6-F9 (private).

tensorly is an optional competitor: :func:`load_tensorly` returns ``None`` when it is
missing, and the figures then skip its curves with a note in their data.  Everything
here runs the competitors exactly as a user would (public tensorly functions, NumPy
backend); the callers pin the threads (:func:`lowrank._threads.single_threaded`) so that
every method runs on one BLAS thread.
"""

import contextlib
import time
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["TENSORLY_MISSING", "ParafacRun", "band", "global_numpy_seed", "load_tensorly",
           "run_parafac", "run_symmetric_power_iteration", "trial_rng"]

#: The note a figure records when tensorly is not installed.
TENSORLY_MISSING = ("tensorly is not installed (pip install tensorly): its curves are "
                    "skipped")


def load_tensorly():
    """The ``tensorly`` module, or ``None`` when it is not installed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # import-time deprecation notices
            import tensorly
            import tensorly.decomposition  # the competitors live there
    except ImportError:
        return None
    return tensorly


def trial_rng(seed, *keys):
    """A Generator for one trial: ``default_rng([seed, *keys])``, so that each trial's
    data does not depend on which other trials or methods ran (some are dropped on
    time)."""
    return np.random.default_rng([int(seed), *(int(k) for k in keys)])


@contextlib.contextmanager
def global_numpy_seed(seed):
    """Seed the legacy global ``numpy.random`` state for the block, then restore it.

    tensorly's ``symmetric_parafac_power_iteration`` draws its starts from the global
    state and takes no seed; this makes its runs reproducible without leaking a changed
    state to the caller.
    """
    state = np.random.get_state()  # noqa: NPY002 (tensorly reads the legacy state)
    np.random.seed(int(seed) % 2**32)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


@dataclass
class ParafacRun:
    """One tensorly ``parafac`` run: the dense estimate, its factors and weights, the
    wall-clock time, the ALS iterations, whether it stopped before ``n_iter_max`` on its
    tolerance (``converged``) and whether the time limit cut it (``cut``)."""

    estimate: np.ndarray
    weights: np.ndarray
    factors: list
    time: float
    n_iter: int
    converged: bool
    cut: bool


def run_parafac(tl, T, rank, *, init, n_iter_max, tol, seed, linesearch=True,
                time_limit=None):
    """``tensorly.decomposition.parafac(T, rank, init=..., n_iter_max=..., tol=...,
    random_state=seed, linesearch=...)`` on the NumPy backend, timed.

    ``time_limit`` (seconds) stops the run after the first ALS iteration that ends past
    it (through parafac's ``callback``, which is called once at the start and after every
    iteration); ``None`` never stops it.  The reconstruction is not timed.
    """
    from tensorly.decomposition import parafac

    state = {"calls": 0, "cut": False, "deadline": np.inf}

    def callback(_cp, _error):
        state["calls"] += 1
        if time.perf_counter() > state["deadline"]:
            state["cut"] = True
            return True
        return False

    with tl.backend_context("numpy"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tensorly's own deprecation and SVD notices
        tensor = tl.tensor(T)
        start = time.perf_counter()
        if time_limit is not None:
            state["deadline"] = start + time_limit
        cp = parafac(tensor, rank, init=init, n_iter_max=n_iter_max, tol=tol,
                     random_state=int(seed) % 2**32, linesearch=linesearch,
                     callback=callback)
        elapsed = time.perf_counter() - start
        weights, factors = cp
        weights = np.asarray(tl.to_numpy(weights), dtype=np.float64)
        factors = [np.asarray(tl.to_numpy(f), dtype=np.float64) for f in factors]
        estimate = np.asarray(tl.to_numpy(tl.cp_to_tensor(cp)), dtype=np.float64)
    n_iter = max(state["calls"] - 1, 0)
    converged = not state["cut"] and n_iter < n_iter_max
    return ParafacRun(estimate=estimate, weights=weights, factors=factors, time=elapsed,
                      n_iter=n_iter, converged=converged, cut=state["cut"])


def run_symmetric_power_iteration(tl, T, rank, *, seed):
    """``tensorly.decomposition.symmetric_parafac_power_iteration(T, rank)`` with its
    defaults (10 starts of 10 iterations per component, deflating the full tensor),
    timed; its starts come from the global NumPy state, seeded with ``seed`` for the
    call.  Returns ``(estimate, factors, weights, seconds)``."""
    from tensorly.decomposition import symmetric_parafac_power_iteration

    with tl.backend_context("numpy"), warnings.catch_warnings(), global_numpy_seed(seed):
        warnings.simplefilter("ignore")
        tensor = tl.tensor(T)
        start = time.perf_counter()
        weights, factor = symmetric_parafac_power_iteration(tensor, rank)
        elapsed = time.perf_counter() - start
        weights = np.asarray(tl.to_numpy(weights), dtype=np.float64)
        factor = np.asarray(tl.to_numpy(factor), dtype=np.float64)
        estimate = np.asarray(tl.to_numpy(tl.cp_to_tensor((weights, [factor] * T.ndim))),
                              dtype=np.float64)
    return estimate, factor, weights, elapsed


def band(values, axis=-1, low=0.2, high=0.8):
    """``(median, quantile low, quantile high)`` over ``axis``, ignoring NaN (NaN where
    every value is NaN, without a warning)."""
    values = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        return (np.nanmedian(values, axis=axis), np.nanquantile(values, low, axis=axis),
                np.nanquantile(values, high, axis=axis))
