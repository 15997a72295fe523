"""Input checks of :func:`~lowrank.completion.altmin` that need the observations: the
device (array-API) forms, held-out validation entries and the observation counts."""

import numpy as np

from .._backend import array_namespace, is_numpy_namespace, is_sparse
from .._validation import check_int
from ._result import index_array

__all__ = ["check_enough_observations", "check_validation", "device_input"]


def device_input(observed, shape, check_finite):
    """``(xp, rows, cols, vals, shape)`` for observations in a namespace other than NumPy
    (CuPy arrays, ``cupyx`` sparse, array-API arrays), else ``None``."""
    if is_sparse(observed):
        if type(observed).__module__.startswith("scipy"):
            return None
        coo = observed.tocoo()
        xp = array_namespace(coo.data)
        rows, cols, vals, shape = coo.row, coo.col, coo.data, observed.shape
    elif isinstance(observed, (tuple, list)) and len(observed) == 3:
        values = observed[2]
        if isinstance(values, np.ndarray) or not hasattr(values, "__array_namespace__"):
            return None
        xp = array_namespace(*observed)
        rows, cols, vals = observed
        if shape is None:
            raise TypeError("`shape` is required with the (rows, cols, values) form; got None.")
    elif hasattr(observed, "__array_namespace__") and not isinstance(observed, np.ndarray):
        xp = array_namespace(observed)
        if observed.ndim != 2:
            raise ValueError(f"`observed` must be 2-D; got shape {tuple(observed.shape)}.")
        if shape is not None and tuple(shape) != tuple(observed.shape):
            raise ValueError(f"`shape` {tuple(shape)} does not match `observed` "
                             f"{tuple(observed.shape)}.")
        known = ~xp.isnan(observed)
        rows, cols = xp.nonzero(known)
        vals, shape = observed[known], observed.shape
    else:
        return None
    if is_numpy_namespace(xp):
        return None
    m, n = (check_int(s, "shape", low=1) for s in shape)
    if rows.shape[0] == 0:
        raise ValueError("`observed` has no observations.")
    if not (xp.isdtype(rows.dtype, "integral") and xp.isdtype(cols.dtype, "integral")):
        raise TypeError("`rows` and `cols` must be integer arrays.")
    if (int(xp.min(rows)) < 0 or int(xp.max(rows)) >= m or int(xp.min(cols)) < 0
            or int(xp.max(cols)) >= n):
        raise ValueError(f"observation indices must lie within shape ({m}, {n}).")
    if xp.isdtype(vals.dtype, "complex floating"):
        raise TypeError(f"`observed` values must be real; got {vals.dtype}.")
    if vals.dtype not in (xp.float32, xp.float64):
        vals = xp.astype(vals, xp.float64)
    if check_finite and not bool(xp.all(xp.isfinite(vals))):
        raise ValueError("`observed` values must be finite (no NaN or inf).")
    return xp, rows, cols, vals, (m, n)


def check_validation(validation, shape):
    """Held-out ``(rows, cols, values)`` as host arrays, checked against ``shape``."""
    if not isinstance(validation, (tuple, list)) or len(validation) != 3:
        raise TypeError("`validation` must be a tuple (rows, cols, values).")
    rows = index_array(validation[0], "validation rows", shape[0])
    cols = index_array(validation[1], "validation cols", shape[1])
    values = np.asarray(validation[2], dtype=np.float64)
    if not (rows.shape == cols.shape == values.shape):
        raise ValueError("`validation` rows, cols and values must have the same length; got "
                         f"{rows.size}, {cols.size} and {values.size}.")
    if not np.all(np.isfinite(values)):
        raise ValueError("`validation` values must be finite.")
    return rows, cols, values


def check_enough_observations(shape, row_counts, col_counts, rank, lam, biases):
    """Without a ridge, every row and column must determine its factor (and bias)."""
    if lam > 0:  # the ridge makes every row's problem well posed
        return
    m, n = shape
    nnz = int(np.sum(row_counts))
    unknowns = rank + 1 if biases else rank  # per row or column
    dof = rank * (m + n - rank) + (m + n - 1 if biases else 0)
    if nnz < dof:
        raise ValueError(f"{nnz} observations cannot determine a rank-{rank} "
                         f"{m} x {n} matrix{' with biases' if biases else ''} ({dof} degrees "
                         "of freedom); lower `rank`, observe more entries or pass "
                         "`regularization` > 0.")
    need = f"rank + 1 = {unknowns} (a bias)" if biases else f"rank={rank}"
    for counts, what in ((row_counts, "row"), (col_counts, "column")):
        short = np.flatnonzero(counts < unknowns)
        if short.size:
            i = int(short[0])
            raise ValueError(
                f"{short.size} {what}(s) have fewer than {need} observations (e.g. "
                f"{what} {i} has {int(counts[i])}), so their factors are not determined; "
                "pass `regularization` > 0 (such rows then get a small or zero factor) or "
                "drop them.")
