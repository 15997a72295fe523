"""Inclusion probabilities: the result type of :func:`sampling_probabilities` and the
water filling that turns scores and a sample budget into probabilities."""


import numpy as np

from .._backend import is_numpy_namespace
from .._result import Result

__all__ = ["SamplingProbabilities", "water_fill"]


class SamplingProbabilities(Result):
    """Result of :func:`sampling_probabilities`.

    ``numpy.asarray(result)`` gives ``probabilities``; pass the result itself to
    :func:`sample_rows`.

    Attributes
    ----------
    probabilities : array (n,)
        Independent inclusion probabilities ``q_i = min(1, c s_i)`` in ``[0, 1]``.
    scores : array (n,)
        The importance scores ``s`` (method dependent, see
        :func:`sampling_probabilities`).
    method : str
        The sampling scheme.
    p : float
        The exponent of the embedding.
    n_samples : float
        The requested expected sample size.
    expected_size : float
        ``sum(probabilities)``: ``n_samples``, or the number of rows with a positive score
        when that is smaller.
    total_score : float
        ``sum`` of the method's raw scores: the rank for leverage scores and Lewis weights,
        the total sensitivity (or its upper bound) for sensitivity sampling.
    """

    probabilities: object
    scores: object
    method: str
    p: float
    n_samples: float
    expected_size: float
    total_score: float

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.probabilities, dtype=dtype)


def water_fill(xp, scores, budget):
    """``q = min(1, c * scores)`` with ``c`` such that ``sum(q) = budget``.

    All rows with a positive score get ``q = 1`` when there are at most ``budget`` of
    them.  Exact: the top ``k`` rows are clipped, the smallest ``k`` for which the
    remaining budget ``budget - k`` spread over the other scores keeps them below 1.
    """
    positive = scores > 0
    n_positive = int(xp.sum(xp.astype(positive, xp.int64)))
    if n_positive == 0:
        raise ValueError("every score is zero: there is nothing to sample.")
    if budget >= n_positive:
        return xp.astype(positive, xp.float64)
    desc = xp.flip(xp.sort(scores))
    tail = xp.flip(xp.cumulative_sum(xp.flip(desc)))    # tail[k] = sum(desc[k:])
    k = xp.arange(desc.shape[0], dtype=xp.float64)
    with np.errstate(all="ignore"):  # tails of zero scores give inf / nan: never picked
        c = (budget - k) / tail
        fits = (c * desc <= 1.0) & (k < budget) & (desc > 0)
    first = int(xp.argmax(xp.astype(fits, xp.int8)))
    c_star = float(c[first])
    with np.errstate(over="ignore"):  # c_star * s may overflow for clipped rows: q = 1
        q = xp.minimum(c_star * scores, 1.0)
    if is_numpy_namespace(xp):
        return np.asarray(q, dtype=np.float64)
    return q
