"""Estimated distortion of an l_p subspace embedding ``S`` of ``range(A)``."""

import math

import numpy as np

from .._backend import is_sparse, to_host
from .._linalg import default_rcond, row_norms_squared
from .._result import Result
from .._rng import check_rng
from .._validation import check_int, check_matrix, check_real
from ._basis import range_basis
from ._sample import RowSample

__all__ = ["DistortionResult", "subspace_embedding_distortion"]

_ASCENT_STEPS = 30


class DistortionResult(Result):
    """Result of :func:`subspace_embedding_distortion`.

    Attributes
    ----------
    distortion : float
        ``max |ratio - 1|`` over every direction tried, ``ratio = ||S A x||_p / ||A x||_p``:
        a lower bound on the embedding's true worst distortion.
    distortion_random : float
        The same maximum over the random directions only.
    distortion_hard : float
        The same maximum over the structured and refined directions only.
    worst_ratio : float
        ``ratio`` at the worst direction found.
    ratios : ndarray
        ``ratio`` for every direction tried: the ``n_directions`` random ones first, then
        the structured ones, then the refined ones.
    n_directions : int
        Number of random directions tried (the ``n_directions`` requested).
    n_tried : int
        Number of directions tried in all (``ratios.size``): the random ones plus the
        basis, row-concentrated and refined directions.
    p : float
        The exponent.
    """

    distortion: float
    distortion_random: float
    distortion_hard: float
    worst_ratio: float
    ratios: object
    n_directions: int
    n_tried: int
    p: float


def subspace_embedding_distortion(A, sample_or_sketch, p, *, n_directions=200, n_refine=5,
                                  rng=None, check_finite=True):
    r"""Estimate how well ``S`` preserves l_p norms on ``range(A)``.

    The distortion of ``S`` on ``range(A)`` is
    ``sup_x |(||S A x||_p / ||A x||_p) - 1|``.  Computing it is hard for ``p != 2``, so
    this reports the maximum over a test set that aims at the worst directions:

    - ``n_directions`` random directions, uniform over ``range(A)`` (Gaussian
      coefficients in an orthonormal basis ``U``, so that the conditioning of ``A`` does
      not bias them);
    - the basis directions ``U e_j``;
    - for the rows with the largest leverage scores ``tau_i``, the direction
      ``U U_i^T`` that concentrates ``A x`` on row ``i`` (the l_2-sensitivity
      maximizer); for a :class:`RowSample` also the sampled rows with the largest
      ``weight^p tau_i`` (over-represented) and the unsampled rows with the largest
      ``tau_i`` (missing);
    - ``n_refine`` local refinements: normalized gradient ascent on
      ``|log ||S U y||_p - log ||U y||_p|`` from the worst directions so far.

    Parameters
    ----------
    A : array_like (n, d), SciPy sparse matrix or array-API array
        The matrix whose column space is embedded.
    sample_or_sketch : RowSample, SketchOperator, array (m, n) or sparse matrix
        The embedding ``S``: a :class:`RowSample` (its ``apply``), a
        :mod:`lowrank.sketch` operator or an explicit ``m x n`` matrix.
    p : float
        Exponent of the norm, ``p > 0``.
    n_directions : int
        Random directions to try (``>= 0``).
    n_refine : int
        Worst directions to refine by gradient ascent (``>= 0``).
    rng : None, int, numpy.random.Generator, ...
        Seeds the random directions.
    check_finite : bool
        Reject NaN and inf in ``A`` (before any work).

    Returns
    -------
    DistortionResult
        The estimate is a lower bound on the true distortion.

    Notes
    -----
    **Backend support.** Any input :func:`leverage_scores` accepts; the ``n x rank``
    basis and its embedding are copied to the host once, where the directions are
    evaluated (the test set is small).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sampling import (sample_rows, sampling_probabilities,
    ...                               subspace_embedding_distortion)
    >>> A = np.random.default_rng(0).standard_normal((4000, 5))
    >>> S = sample_rows(A, sampling_probabilities(A, 1, 1000), p=1, rng=0)
    >>> res = subspace_embedding_distortion(A, S, 1, rng=0)
    >>> bool(0 < res.distortion < 0.5), res.distortion >= res.distortion_random
    (True, True)
    """
    A, xp = check_matrix(A, "A", check_finite=check_finite)
    p = check_real(p, "p", low=0.0, low_open=True)
    n_directions = check_int(n_directions, "n_directions", low=0)
    n_refine = check_int(n_refine, "n_refine", low=0)
    rng = check_rng(rng)
    n = A.shape[0]
    _check_embedding(sample_or_sketch, n)
    U, rank = range_basis(xp, A, default_rcond(A.shape, A.dtype))
    if rank == 0:
        raise ValueError("`A` is zero: its column space has no directions to embed.")
    U = _host(U).astype(np.float64)
    SU = _host(_embed(sample_or_sketch, U)).astype(np.float64)
    Y_random = rng.standard_normal((rank, n_directions))
    Y_hard = _structured_directions(U, sample_or_sketch, rank, p)
    Y = np.concatenate([Y_random, Y_hard], axis=1)
    log_ratios = _log_norm(SU @ Y, p) - _log_norm(U @ Y, p)
    refined = _refine(U, SU, Y, log_ratios, p, n_refine)
    ratios = np.exp(np.concatenate([log_ratios, refined]))
    errors = np.abs(ratios - 1.0)
    worst = int(np.argmax(errors))
    return DistortionResult(
        distortion=float(errors[worst]),
        distortion_random=float(errors[:n_directions].max()) if n_directions else math.nan,
        distortion_hard=float(errors[n_directions:].max()),
        worst_ratio=float(ratios[worst]), ratios=ratios, n_directions=n_directions,
        n_tried=int(ratios.size), p=p)


def _check_embedding(S, n):
    if isinstance(S, RowSample):
        if S.n_rows != n:
            raise ValueError(f"the sample is of a matrix with {S.n_rows} rows, but `A` has "
                             f"{n} rows.")
        return
    shape = getattr(S, "shape", None)
    if shape is None or len(shape) != 2 or not hasattr(S, "__matmul__"):
        raise TypeError("`sample_or_sketch` must be a RowSample, a sketch operator or an "
                        f"m x n matrix; got {type(S).__name__}.")
    if shape[1] != n:
        raise ValueError(f"`sample_or_sketch` must have {n} columns to match `A`; got shape "
                         f"{tuple(shape)}.")


def _embed(S, U):
    return S.apply(U) if isinstance(S, RowSample) else S @ U


def _structured_directions(U, S, rank, p):
    """Basis directions and row-concentrated directions ``U_i^T`` (columns)."""
    tau = row_norms_squared(np, U)
    order = np.argsort(-tau, kind="stable")
    rows = [order[: 2 * rank]]
    if isinstance(S, RowSample):
        idx = _host(S.indices).astype(np.int64)
        if idx.size:
            weight = _host(S.weights).astype(np.float64) ** p * tau[idx]
            rows.append(idx[np.argsort(-weight, kind="stable")[:rank]])
        missing = np.ones(U.shape[0], dtype=bool)
        missing[idx] = False
        rows.append(order[missing[order]][:rank])
    picked = np.unique(np.concatenate(rows))
    return np.concatenate([np.eye(rank), U[picked].T], axis=1)


def _log_norm(T, p):
    """``log ||T[:, j]||_p`` per column, overflow-free for large ``p``."""
    scale = np.max(np.abs(T), axis=0)
    safe = np.where(scale > 0, scale, 1.0)
    with np.errstate(divide="ignore"):
        return np.log(safe) + np.log(np.sum((np.abs(T) / safe) ** p, axis=0)) / p


def _log_norm_grad(M, y, p):
    """``(log ||M y||_p, its gradient in y)``."""
    t = M @ y
    scale = np.max(np.abs(t))
    if scale == 0:
        return -np.inf, np.zeros_like(y)
    u = np.abs(t) / scale
    with np.errstate(divide="ignore", invalid="ignore"):
        powered = np.where(u > 0, u ** (p - 1.0), 0.0) * np.sign(t)
    total = np.sum(u**p)
    return math.log(scale) + math.log(total) / p, (M.T @ powered) / (scale * total)


def _refine(U, SU, Y, log_ratios, p, n_refine):
    """Log-ratios reached by gradient ascent on ``|log ratio|`` from the worst starts."""
    out = []
    for j in np.argsort(-np.abs(log_ratios), kind="stable")[:n_refine]:
        y = Y[:, j] / np.linalg.norm(Y[:, j])
        best = log_ratios[j]
        step = 0.5
        for _ in range(_ASCENT_STEPS):
            ls, gs = _log_norm_grad(SU, y, p)
            lu, gu = _log_norm_grad(U, y, p)
            direction = np.sign(ls - lu) * (gs - gu)
            direction -= (direction @ y) * y
            size = np.linalg.norm(direction)
            if not np.isfinite(size) or size == 0:
                break
            while step > 1e-4:
                trial = y + step * direction / size
                trial /= np.linalg.norm(trial)
                value = float(_log_norm(SU @ trial[:, None], p)[0]
                              - _log_norm(U @ trial[:, None], p)[0])
                if abs(value) > abs(best):
                    y, best = trial, value
                    step = min(1.0, 2 * step)
                    break
                step /= 2
            else:
                break
        out.append(best)
    return np.asarray(out, dtype=np.float64)


def _host(x):
    return x.toarray() if is_sparse(x) else to_host(x)
