"""Result objects and the iteration bookkeeping shared by every family.

Every public function returns one result object derived from :class:`Result`, never a
tuple.  Subclasses are plain annotated classes: :class:`Result` turns each into a
dataclass with ``frozen=True, repr=False, eq=False`` (so ``==`` compares identity and
never raises on array fields), and a ``history`` field is stored as a read-only
:class:`History` of read-only float64 arrays.  Iterative methods fill ``converged``,
``n_iter``, ``message`` and ``history`` from an :class:`IterationLog`.
"""

import dataclasses
import time
import warnings
from collections.abc import Mapping

import numpy as np

from .exceptions import ConvergenceWarning

__all__ = ["History", "IterationLog", "Result", "make_history"]


class History(Mapping):
    """Per-iteration records: a read-only mapping of equal-length, read-only float64
    arrays (``history["residual"][k]`` is the value after iteration ``k + 1``)."""

    def __init__(self, columns=None):
        arrays = {}
        for name, values in dict(columns or {}).items():
            array = np.array(values, dtype=np.float64)  # a copy the caller cannot change
            array.flags.writeable = False
            arrays[name] = array
        lengths = {len(v) for v in arrays.values()}
        if len(lengths) > 1:
            raise RuntimeError(f"history columns differ in length: {lengths}")
        self._columns = arrays

    def __getitem__(self, key):
        return self._columns[key]

    def __iter__(self):
        return iter(self._columns)

    def __len__(self):
        return len(self._columns)

    def __repr__(self) -> str:
        n = len(next(iter(self._columns.values()))) if self._columns else 0
        if not n:
            return f"History({', '.join(self._columns) or 'empty'})"
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self._columns.items())
        return f"History({n} rows; last: {last})"


def make_history(**columns) -> History:
    """Build a :class:`History` from equal-length columns."""
    return History(columns)


def _short(value) -> str:
    if isinstance(value, (Result, History)):  # nested results print on one line
        return repr(value) if isinstance(value, History) else f"<{type(value).__name__}>"
    shape = getattr(value, "shape", None)
    if shape is not None and getattr(value, "ndim", 0) > 0:
        return f"<{type(value).__name__} shape={tuple(shape)} dtype={value.dtype}>"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class Result:
    """Base class of :mod:`lowrank` result objects (a frozen dataclass).

    Subclasses are made dataclasses with the same options automatically; declare their
    fields as annotations, without a ``dataclass`` decorator.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True, repr=False, eq=False)(cls)

    def __post_init__(self):
        history = getattr(self, "history", None)
        if history is not None and not isinstance(history, History):
            object.__setattr__(self, "history", History(history))

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for f in dataclasses.fields(self):
            if f.repr:
                lines.append(f"    {f.name}={_short(getattr(self, f.name))},")
        lines.append(")")
        return "\n".join(lines)


class IterationLog:
    """The bookkeeping every iterative method shares.

    One row of ``columns`` per iteration (``time``, seconds since the log was made, is
    added), the user's ``callback`` and its stop signal, and how the run ended:
    ``converged`` is True only after :meth:`converge`, i.e. when the method's
    tolerance was met; ``message`` starts as ``"maxiter=N reached"``.  :meth:`warn`
    issues the :class:`~lowrank.exceptions.ConvergenceWarning` of a run that neither
    converged nor was stopped by its callback.  Logs of runs that proceed side by side
    (say, one per right-hand side) share a clock when made with the same ``start``
    (a :func:`time.perf_counter` reading).

    Examples
    --------
    >>> from lowrank._result import IterationLog
    >>> log = IterationLog(("residual",), maxiter=3)
    >>> for k in range(1, 4):
    ...     log.record(residual=0.1**k)
    ...     if 0.1**k <= 0.05:
    ...         log.converge("residual <= 0.05")
    ...         break
    >>> log.converged, log.n_iter, log.history()["residual"].tolist()
    (True, 2, [0.1, 0.010000000000000002])
    """

    def __init__(self, columns, *, maxiter, callback=None, start=None):
        if callback is not None and not callable(callback):
            raise TypeError(f"`callback` must be callable or None; got {callback!r}.")
        self.columns = (*columns, "time")
        self.maxiter = maxiter
        self.callback = callback
        self.converged = False
        self.stopped_by_callback = False
        self.message = f"maxiter={maxiter} reached"
        self._rows = []
        self._start = time.perf_counter() if start is None else start

    @property
    def n_iter(self) -> int:
        """Rows recorded so far."""
        return len(self._rows)

    def elapsed(self) -> float:
        """Seconds since the log was made."""
        return time.perf_counter() - self._start

    def record(self, **values) -> None:
        """Append one iteration's row (every column but ``time``)."""
        row = tuple(values[name] for name in self.columns[:-1])
        if len(values) != len(row):
            unknown = sorted(set(values) - set(self.columns))
            raise RuntimeError(f"unknown history columns {unknown}")
        self._rows.append((*row, self.elapsed()))

    def extend(self, rows, *, time_offset=0.0) -> None:
        """Append rows recorded elsewhere (tuples in column order, time last)."""
        self._rows.extend((*r[:-1], r[-1] + time_offset) for r in rows)

    @property
    def rows(self):
        """The rows recorded so far (tuples in column order, time last)."""
        return list(self._rows)

    def last(self, column):
        """The latest value of ``column`` (NaN before the first row)."""
        if not self._rows:
            return float("nan")
        return self._rows[-1][self.columns.index(column)]

    def call_back(self, *args) -> bool:
        """Call the user's callback; True (and the message set) when it asks to stop."""
        if self.callback is not None and bool(self.callback(*args)):
            self.stopped_by_callback = True
            self.message = "stopped by callback"
            return True
        return False

    def converge(self, message: str) -> None:
        """The tolerance was met."""
        self.converged, self.message = True, message

    def fail(self, message: str) -> None:
        """The run ended without meeting its tolerance (divergence, stall, overflow)."""
        self.converged, self.message = False, message

    def history(self) -> History:
        """The recorded rows as a :class:`History`."""
        return History({name: [row[i] for row in self._rows]
                        for i, name in enumerate(self.columns)})

    def warn(self, what: str, *, detail: str = "", stacklevel: int = 3) -> None:
        """Warn :class:`ConvergenceWarning` unless converged or stopped by the callback
        (``"<what> did not converge: <message><detail>"``)."""
        if not (self.converged or self.stopped_by_callback):
            warnings.warn(f"{what} did not converge: {self.message}{detail}",
                          ConvergenceWarning, stacklevel=stacklevel + 1)
