"""Row-sampling probabilities for l_p subspace embeddings."""

from .._validation import check_matrix, check_option, check_real, check_same_namespace
from ._inclusion import SamplingProbabilities, water_fill
from ._leverage import leverage_scores
from ._lewis import lewis_weights
from ._sensitivity import lp_sensitivities

__all__ = ["SAMPLING_METHODS", "sampling_probabilities"]

SAMPLING_METHODS = ("leverage", "root_leverage", "lewis", "sensitivity", "combined", "uniform")


def sampling_probabilities(A, p, n_samples, *, method="lewis", sensitivities=None,
                           tol=1e-3, check_finite=True):
    r"""Inclusion probabilities for sampling rows of ``A`` into an l_p subspace embedding.

    Each scheme scores the rows, ``s_i >= 0``; the probabilities are
    ``q_i = min(1, c s_i)`` with ``c`` chosen so that ``sum(q) = n_samples`` exactly
    (rows whose ``c s_i`` would exceed 1 are always kept and the rest share the
    remaining budget).  Sample with :func:`sample_rows`, which rescales kept rows by
    ``q_i^{-1/p}`` so that ``E ||S y||_p^p = ||y||_p^p``.

    Parameters
    ----------
    A : array_like (n, d), SciPy sparse matrix or array-API array
        Rows to sample.  For regression pass ``[A b]`` (embed the response too).
    p : float
        Exponent of the embedding, ``p > 0``.
    n_samples : float
        Expected number of sampled rows, ``>= 1``.
    method : {"lewis", "leverage", "root_leverage", "sensitivity", "combined", "uniform"}
        Scores ``s``, with ``tau`` the leverage scores, ``w`` the l_p Lewis weights,
        ``sens`` the l_p sensitivities (or upper bounds) and ``r = rank(A)``:

        - ``"lewis"``: ``s = w`` (Cohen-Peng); ``O~(d / eps^2)`` rows for ``p < 2`` and
          ``O~(d^{p/2} / eps^2)`` for ``p > 2`` (Woodruff-Yasuda 2023).
        - ``"leverage"``: ``s = tau``; the l_2 scheme (``O(d log d / eps^2)`` at
          ``p = 2``; no l_p guarantee of its own otherwise).
        - ``"root_leverage"``: ``s = max(tau^{p/2} / sum tau^{p/2}, tau / r)``: the
          ``tau^{p/2}`` scores of Woodruff-Yasuda, floored at leverage sampling.
          Without the floor a row orthogonal to the others (``tau = w = sens = 1``) can be
          dropped with constant probability.  Experimental: no bound is documented.
        - ``"sensitivity"``: ``s = sens``; ``O~(d^{1-p/2} S / eps^2)`` rows for
          ``1 <= p < 2`` (Chen-Derezinski 2021, which supersedes the ``S^{2/p}`` bound of
          Woodruff-Yasuda 2023) and ``O~(S^{2-2/p} / eps^2)`` for ``p > 2``, ``S`` the total
          sensitivity.
        - ``"combined"``: ``s = tau / r + sens / sum(sens)``: the l_2-augmented scheme
          for ``p <= 2`` (``O~((S + d) / eps^2)``, Munteanu-Omlor 2024) and the
          leverage + sensitivity mixture of Woodruff-Yasuda 2023 for ``p > 2``
          (``O~(d^{2/p} S^{2-4/p} / eps^2)``; the paper's exact mixture weights were not
          confirmed, an equal mixture is used).
        - ``"uniform"``: ``s = 1``.
    sensitivities : array_like (n,), optional
        Sensitivities to use for ``"sensitivity"`` and ``"combined"``, e.g. exact ones
        from :func:`lp_sensitivities`.  Default: the upper bounds
        ``lp_sensitivities(A, p, method="upper_bound")`` (for ``p > 2`` these are
        proportional to the Lewis weights, so sensitivity sampling then equals Lewis
        sampling; only sharper sensitivities show the gain).
    tol : float
        Tolerance of the Lewis-weight iteration of ``method="lewis"`` (log metric, see
        :func:`lewis_weights`).  Sampling needs the weights only up to a constant
        factor, so the default ``1e-3`` (weights within about 0.1 %) stops the
        iteration two to five times earlier than a tolerance at rounding level.
    check_finite : bool
        Reject NaN and inf (before any work).

    Returns
    -------
    SamplingProbabilities

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sampling import sampling_probabilities
    >>> A = np.random.default_rng(0).standard_t(1.5, size=(2000, 5))
    >>> q = sampling_probabilities(A, 1, 200)
    >>> round(float(q.probabilities.sum()), 6), bool(q.probabilities.max() <= 1)
    (200.0, True)
    """
    method = check_option(method, "method", SAMPLING_METHODS)
    A, xp = check_matrix(A, "A", check_finite=check_finite)
    p = check_real(p, "p", low=0.0, low_open=True)
    n_samples = check_real(n_samples, "n_samples", low=1.0)
    tol = check_real(tol, "tol", low=0.0, low_open=True)
    n = A.shape[0]
    if sensitivities is not None:
        if method not in ("sensitivity", "combined"):
            raise ValueError("`sensitivities` is only used by method='sensitivity' or "
                             f"'combined'; got method={method!r}.")
        sensitivities = _check_scores(xp, sensitivities, "sensitivities", n)
    raw = _scores(xp, A, p, method, sensitivities, tol)
    scores = raw if method not in ("root_leverage", "combined") else _mixture(xp, A, p,
                                                                              method, raw)
    q = water_fill(xp, scores, n_samples)
    return SamplingProbabilities(
        probabilities=xp.astype(q, A.dtype), scores=scores, method=method, p=p,
        n_samples=n_samples, expected_size=float(xp.sum(q)),
        total_score=float(xp.sum(raw)))


def _check_scores(xp, values, name, n):
    values, values_xp = check_matrix(values, name, allow_sparse=False, ndim=(1,))
    check_same_namespace(xp, values_xp, name)
    if values.shape[0] != n:
        raise ValueError(f"`{name}` must have {n} entries to match `A`; got "
                         f"{values.shape[0]}.")
    if bool(xp.any(values < 0)):
        raise ValueError(f"`{name}` must be nonnegative.")
    if not float(xp.sum(values)) > 0:
        raise ValueError(f"`{name}` must have a positive sum; got {float(xp.sum(values))!r}.")
    return xp.astype(values, xp.float64)


def _scores(xp, A, p, method, sensitivities, tol):
    """The raw scores of the method (before mixing with leverage scores)."""
    n = A.shape[0]
    if method == "uniform":
        return xp.ones(n, dtype=xp.float64)
    if method in ("leverage", "root_leverage"):
        return _float64(xp, leverage_scores(A, check_finite=False).scores)
    if method == "lewis":
        if p == 2:
            return _float64(xp, leverage_scores(A, check_finite=False).scores)
        return _float64(xp, lewis_weights(A, p, tol=tol, check_finite=False).weights)
    if sensitivities is not None:
        return sensitivities
    return _float64(xp, lp_sensitivities(A, p, method="upper_bound",
                                         check_finite=False).sensitivities)


def _mixture(xp, A, p, method, raw):
    if method == "root_leverage":
        tau = raw
        root = tau ** (p / 2.0)
        return xp.maximum(root / xp.sum(root), tau / xp.sum(tau))
    tau = _float64(xp, leverage_scores(A, check_finite=False).scores)
    return tau / xp.sum(tau) + raw / xp.sum(raw)


def _float64(xp, x):
    return xp.astype(x, xp.float64)
