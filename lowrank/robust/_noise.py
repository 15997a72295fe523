"""Corruption models for robust recovery experiments (MF23, Definitions 8 and 9)."""

import numpy as np

from .._backend import array_namespace, from_host, is_numpy_namespace, to_host
from .._rng import check_rng
from .._validation import check_option, check_real

__all__ = ["corrupt"]


def corrupt(y, fraction, *, magnitude=None, distribution="uniform", rng=None,
            return_mask=False):
    """A copy of the measurements ``y`` with a random ``fraction`` of them corrupted.

    ``round(fraction * m)`` positions, drawn uniformly without replacement, get an added
    noise ``s_i`` independent of the measurements (the paper's random outlier model,
    Definition 8; ``fraction=1`` with ``"gaussian"`` is its dense noise, Definition 9):

    - ``"uniform"``: ``s_i = magnitude * U[-1, 1]`` (outliers of any size);
    - ``"gaussian"``: ``s_i ~ N(0, magnitude^2)`` (the paper's Fig. 1b uses N(0, 100) on
      a fraction, i.e. ``magnitude=10``).

    Parameters
    ----------
    y : array_like (m,)
        Clean measurements.
    fraction : float
        In ``[0, 1]``.
    magnitude : float, optional
        Default ``10 * max|y|``.
    distribution : {"uniform", "gaussian"}, default "uniform"
    rng : None, int, numpy.random.Generator, ...
    return_mask : bool, default False
        Also return the boolean mask of the corrupted positions.

    Returns
    -------
    array (m,), and the mask when ``return_mask``
        In the namespace of ``y`` (CuPy in, CuPy out); the draws are made on the host,
        so the same ``rng`` corrupts the same positions by the same amounts in any
        namespace.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.robust import corrupt
    >>> y, mask = corrupt(np.ones(10), 0.3, rng=0, return_mask=True)
    >>> int(mask.sum()), bool(np.all(y[~mask] == 1.0))
    (3, True)
    """
    if hasattr(y, "__array_namespace__") and not is_numpy_namespace(array_namespace(y)):
        # another namespace: the same draws on a host copy, moved back explicitly
        xp = array_namespace(y)
        out = corrupt(to_host(y), fraction, magnitude=magnitude, distribution=distribution,
                      rng=rng, return_mask=return_mask)
        if not return_mask:
            return from_host(xp, out, y)
        return from_host(xp, out[0], y), from_host(xp, out[1], y)
    y = np.array(y, copy=True)
    if y.ndim != 1 or y.dtype.kind not in "biuf":
        raise ValueError(f"`y` must be a 1-D real array; got shape {y.shape}, dtype "
                         f"{y.dtype}.")
    if y.dtype.kind != "f":
        y = y.astype(np.float64)
    if not np.isfinite(y).all():
        raise ValueError("`y` must contain only finite values (no NaN or inf).")
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0)
    check_option(distribution, "distribution", ("uniform", "gaussian"))
    if magnitude is None:
        magnitude = 10.0 * float(np.max(np.abs(y))) if y.size else 0.0
    magnitude = check_real(magnitude, "magnitude", low=0.0)
    rng = check_rng(rng)
    count = round(fraction * y.size)
    where = rng.choice(y.size, size=count, replace=False)
    if distribution == "uniform":
        noise = magnitude * rng.uniform(-1.0, 1.0, size=count)
    else:
        noise = magnitude * rng.standard_normal(count)
    y[where] += noise.astype(y.dtype)
    if not return_mask:
        return y
    mask = np.zeros(y.size, dtype=bool)
    mask[where] = True
    return y, mask
