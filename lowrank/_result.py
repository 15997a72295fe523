"""Frozen result objects shared by every family.

Every public function returns one frozen dataclass derived from :class:`Result`,
never a tuple.  Iterative methods fill ``converged``, ``n_iter``, ``message`` and a
``history`` mapping of per-iteration NumPy arrays (always on the host: they are small).
"""

import dataclasses
from collections.abc import Mapping

import numpy as np

__all__ = ["Result", "make_history"]


def _short(value) -> str:
    if isinstance(value, Result):  # nested results (e.g. a sample) print on one line
        return f"<{type(value).__name__}>"
    shape = getattr(value, "shape", None)
    if shape is not None and getattr(value, "ndim", 0) > 0:
        return f"<{type(value).__name__} shape={tuple(shape)} dtype={value.dtype}>"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k}: {len(v)} values" if hasattr(v, "__len__") else f"{k}: {v!r}"
                          for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


@dataclasses.dataclass(frozen=True, repr=False)
class Result:
    """Base class of :mod:`lowrank` result objects (a frozen dataclass)."""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for f in dataclasses.fields(self):
            if f.repr:
                lines.append(f"    {f.name}={_short(getattr(self, f.name))},")
        lines.append(")")
        return "\n".join(lines)


def make_history(**columns) -> dict:
    """Build a ``history`` mapping of equal-length float64 NumPy arrays."""
    out = {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise RuntimeError(f"history columns differ in length: {lengths}")
    return out
