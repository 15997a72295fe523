"""Row samples with l_p rescaling: ``S A`` with ``E ||S y||_p^p = ||y||_p^p``."""

import dataclasses

import numpy as np
import scipy.sparse

from .._backend import array_namespace, from_host, is_sparse, to_host
from .._result import Result
from .._rng import check_rng
from .._validation import check_int, check_matrix, check_real, check_same_namespace
from ._inclusion import SamplingProbabilities

__all__ = ["RowSample", "sample_rows"]


class RowSample(Result):
    """A rescaled row sample: the sampling-and-rescaling operator ``S`` of
    :func:`sample_rows`.

    Attributes
    ----------
    indices : array of int64 (size,)
        Sampled row indices, sorted (with repeats when ``replace``).
    weights : array (size,)
        Rescaling factors: ``q_i^{-1/p}`` (independent Bernoulli sampling) or
        ``(size * q_i / sum(q))^{-1/p}`` (with replacement).
    p : float
        The exponent the rescaling is for.
    n_rows : int
        Rows of the sampled matrix.
    replace : bool
        Whether rows were drawn with replacement.
    expected_size : float
        ``sum(min(q, 1))`` for Bernoulli sampling, the number of draws with replacement.
    matrix : array or sparse matrix (size, d)
        ``S A`` for the ``A`` that was sampled.

    Methods
    -------
    apply(X)
        ``S X = weights[:, None] * X[indices]`` for any ``X`` with ``n_rows`` rows.
    """

    indices: object
    weights: object
    p: float
    n_rows: int
    replace: bool
    expected_size: float
    matrix: object = dataclasses.field(default=None, repr=False)

    @property
    def size(self) -> int:
        """Number of sampled rows."""
        return int(self.indices.shape[0])

    def apply(self, X):
        """Return ``S X``: the sampled rows of ``X``, rescaled.

        ``X`` may be 1-D (a vector of length ``n_rows``), 2-D dense, SciPy sparse or an
        array-API array on the same device as the sample.
        """
        if is_sparse(X):
            if X.shape[0] != self.n_rows:
                raise ValueError(f"`X` must have {self.n_rows} rows; got shape {X.shape}.")
            rows = X.tocsr()[to_host(self.indices)]
            return scipy.sparse.diags(to_host(self.weights)) @ rows
        if not hasattr(X, "__array_namespace__") and not isinstance(X, np.ndarray):
            X = np.asarray(X)
        xp = array_namespace(X)
        if X.ndim not in (1, 2) or X.shape[0] != self.n_rows:
            raise ValueError(f"`X` must be 1-D or 2-D with {self.n_rows} rows; got shape "
                             f"{tuple(X.shape)}.")
        rows = xp.take(X, self.indices, axis=0)
        weights = xp.astype(self.weights, rows.dtype) if rows.dtype in (
            xp.float32, xp.float64) else self.weights
        return rows * (weights if X.ndim == 1 else weights[:, None])


def sample_rows(A, probabilities, *, p=2, replace=False, n_samples=None, rng=None,
                check_finite=True):
    r"""Sample rows of ``A`` and rescale them for an l_p subspace embedding.

    Parameters
    ----------
    A : array_like (n, d), SciPy sparse matrix or array-API array
        The matrix to sample; ``RowSample.matrix`` holds ``S A``.
    probabilities : array_like (n,) or SamplingProbabilities
        Independent sampling: inclusion probabilities ``q_i`` (values above 1 are
        clipped to 1, i.e. the row is always kept).  With ``replace=True``: sampling
        weights, normalized to a distribution.  Must be nonnegative with a positive sum.
    p : float
        Exponent of the rescaling, ``p > 0``.
    replace : bool
        ``False`` (default): keep row ``i`` independently with probability
        ``min(1, q_i)`` and weight ``q_i^{-1/p}``; the sample size is random with mean
        ``sum(min(1, q))``.  ``True``: ``n_samples`` i.i.d. draws from ``q / sum(q)``,
        row ``i`` weighted ``(n_samples q_i / sum(q))^{-1/p}``.
    n_samples : int, optional
        Number of draws with replacement (required then; unused otherwise).
    rng : None, int, numpy.random.Generator, ...
        Randomness; the same ``rng`` gives the same sample.
    check_finite : bool
        Reject NaN and inf in ``A`` and ``probabilities`` (before any work).

    Returns
    -------
    RowSample

    Notes
    -----
    Both models are unbiased in the l_p sense: ``E ||S y||_p^p = ||y||_p^p`` for every
    ``y``.  They differ in variance and in what the guarantees of
    :func:`sampling_probabilities` assume (independent sampling); keep them apart.
    Random numbers are drawn on the host (so NumPy and CuPy inputs sample the same rows
    for the same ``rng``) and the mask is moved to the input's device.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sampling import sample_rows, sampling_probabilities
    >>> A = np.random.default_rng(0).standard_normal((5000, 4))
    >>> q = sampling_probabilities(A, 1, 400)
    >>> S = sample_rows(A, q, p=1, rng=0)
    >>> S.matrix.shape == (S.size, 4), abs(S.size - 400) < 80
    (True, True)
    >>> x = np.ones(4)
    >>> ratio = np.abs(S.apply(A @ x)).sum() / np.abs(A @ x).sum()
    >>> bool(0.8 < ratio < 1.2)
    True
    """
    A, xp = check_matrix(A, "A", check_finite=check_finite)
    n = A.shape[0]
    p = check_real(p, "p", low=0.0, low_open=True)
    q = _check_probabilities(xp, probabilities, n, check_finite)
    if replace:
        if n_samples is None:
            raise ValueError("`n_samples` is required with replace=True; got None.")
        n_samples = check_int(n_samples, "n_samples", low=1)
    elif n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", low=1)
    rng = check_rng(rng)
    q_host = to_host(q).astype(np.float64)
    if replace:
        dist = q_host / q_host.sum()
        indices = np.sort(rng.choice(n, size=n_samples, p=dist))
        weights = (n_samples * dist[indices]) ** (-1.0 / p)
        expected = float(n_samples)
    else:
        q_host = np.minimum(q_host, 1.0)
        indices = np.flatnonzero(rng.random(n) < q_host)
        weights = q_host[indices] ** (-1.0 / p)
        expected = float(q_host.sum())
    indices = from_host(xp, indices.astype(np.int64), A)
    weights = from_host(xp, weights, A)
    sample = RowSample(indices=indices, weights=xp.astype(weights, A.dtype), p=p,
                       n_rows=n, replace=bool(replace), expected_size=expected)
    return dataclasses.replace(sample, matrix=sample.apply(A))


def _check_probabilities(xp, probabilities, n, check_finite):
    if isinstance(probabilities, SamplingProbabilities):
        probabilities = probabilities.probabilities
    q, q_xp = check_matrix(probabilities, "probabilities", allow_sparse=False, ndim=(1,),
                           check_finite=check_finite)
    check_same_namespace(xp, q_xp, "probabilities")
    if q.shape[0] != n:
        raise ValueError(f"`probabilities` must have {n} entries to match `A`; got "
                         f"{q.shape[0]}.")
    if bool(xp.any(q < 0)):
        raise ValueError("`probabilities` must be nonnegative; got a minimum of "
                         f"{float(xp.min(q))!r}.")
    total = float(xp.sum(q))
    if not total > 0:
        raise ValueError(f"`probabilities` must sum to a positive number; got {total!r}.")
    return q
