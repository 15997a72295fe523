"""l_p sensitivities: exact (one convex program per row) and cheap upper bounds."""

import itertools
import logging
import math
import time
import warnings

import numpy as np
import scipy.linalg

from .._backend import is_numpy_namespace, is_sparse
from .._linalg import default_rcond, numerical_rank
from .._result import Result
from .._rng import check_rng
from .._solvers.lp import lp_minimize
from .._validation import check_int, check_matrix, check_option, check_real
from ..exceptions import ConvergenceWarning
from ._inclusion import water_fill
from ._leverage import leverage_scores
from ._lewis import lewis_weights
from ._sample import sample_rows

__all__ = ["SensitivitiesResult", "lp_sensitivities"]

logger = logging.getLogger(__name__)

_METHODS = ("exact", "upper_bound", "sketched")

# Default sample rows of the sketched method per unit of rank: 80 r rows kept every
# sketched sensitivity within 0.8-1.2 of the exact one in our measurements (p = 1 to 4,
# Gaussian and Student-t rows, r = 5); 20 r rows gave 0.6-1.9.
_SKETCH_ROWS_PER_RANK = 80

# Largest n * C(n, rank - 1) (rows times enumerated lines) the exact method accepts for
# p < 1, where the only exact algorithm known to us is enumeration.
MAX_ENUMERATION = 10**7
# Relative duality-gap tolerance of each convex program of the exact method.
_EXACT_TOL = 1e-12


class SensitivitiesResult(Result):
    """Result of :func:`lp_sensitivities`.

    ``numpy.asarray(result)`` gives ``sensitivities``.

    Attributes
    ----------
    sensitivities : array (n,)
        The l_p sensitivities ``s_i = sup_x |a_i^T x|^p / ||A x||_p^p`` (``method="exact"``)
        or upper bounds on them (``method="upper_bound"``), in ``[0, 1]``; 0 for zero rows.
    total : float
        ``sum(sensitivities)``: the total sensitivity (or its upper bound).
    p : float
        The exponent.
    method : str
        ``"exact"``, ``"sketched"`` or ``"upper_bound"``.
    rank : int
        Numerical rank of ``A``.
    bound : str
        How the values were obtained: ``"convex programs"``, ``"linear programs"``,
        ``"enumeration"`` (p < 1), ``"leverage"`` (p = 2, exact),
        ``"programs on a Lewis sample of m rows"`` (sketched), or for upper bounds
        ``"min(lewis, leverage^(p/2))"`` (p < 2) and ``"rank^(p/2-1) * lewis"``
        (p > 2).
    converged : bool
        Whether every convex program (exact method) or the Lewis-weight iteration (upper
        bounds) met its tolerance.
    message : str
        Details (programs solved, time).
    """

    sensitivities: object
    total: float
    p: float
    method: str
    rank: int
    bound: str
    converged: bool = True
    message: str = ""

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.sensitivities, dtype=dtype)


def lp_sensitivities(A, p, *, method="exact", n_samples=None, rcond=None, rng=None,
                     check_finite=True):
    r"""l_p sensitivities of the rows of ``A`` (exact, or upper bounds for sampling).

    The sensitivity of row ``i`` is

        ``s_i = sup_{A x != 0} |a_i^T x|^p / ||A x||_p^p
        = 1 / min { ||A x||_p^p : a_i^T x = 1 }``,

    in ``[0, 1]``, invariant under ``A -> A T`` for invertible ``T``.  Their sum, the
    total sensitivity ``S``, lies in ``[r^{p/2}, r]`` for ``p <= 2`` and ``[r, r^{p/2}]``
    for ``p >= 2`` (``r = rank(A)``); at ``p = 2`` the sensitivities are the leverage
    scores.  Sampling rows proportionally to them gives l_p subspace embeddings
    (:func:`sampling_probabilities` with ``method="sensitivity"``).

    Parameters
    ----------
    A : array_like (n, d) or SciPy sparse matrix
        The data.  ``method="exact"`` densifies sparse input; ``"upper_bound"`` does not
        (and also accepts array-API arrays).
    p : float
        Exponent, a finite real ``p > 0``.
    method : {"exact", "sketched", "upper_bound"}
        - ``"exact"``: ``A`` is replaced by an orthonormal basis ``U`` of its column space
          (thin SVD, cut-off ``rcond``), then one program per nonzero row,
          ``min ||U x||_p^p  s.t.  u_i^T x = 1``, solved as an unconstrained l_p
          regression in ``x = u_i / ||u_i||^2 + N z`` (``N`` an orthonormal basis of
          ``u_i``'s orthogonal complement): a linear program (HiGHS) for ``p = 1``, the
          certified Newton/IRLS method of :func:`lp_regression` for ``p > 1``, the leverage
          scores for ``p = 2``.  For ``0 < p < 1`` (nonconvex) the minimum sits where
          ``r - 1`` other residuals vanish, so all ``C(n, r - 1)`` such lines are
          enumerated: exact, but only for tiny problems (``ValueError``, before any
          work, when ``n max_{j < k} C(n, j) > 10^7``, ``k = min(n, d)``).  ``n`` programs of
          size ``n x (r - 1)``: meant for small ``n`` (tests, references, figures);
          a fraction of a second at ``n = 120, d = 4``.
        - ``"upper_bound"``: from the leverage scores ``tau`` and the l_p Lewis weights
          ``w`` (:func:`leverage_scores`, :func:`lewis_weights`): ``min(w_i, tau_i^{p/2})``
          for ``p < 2`` (``s_i <= w_i`` and ``s_i <= tau_i^{p/2}``), ``tau`` for
          ``p = 2`` (exact) and ``min(1, r^{p/2-1} w_i)`` for ``p > 2``
          (``s_i <= r^{p/2-1} w_i``).  The bound used is reported in ``bound``; the price
          of sampling with it is the oversampling factor ``total / S``.  For ``p > 2``
          it is proportional to the Lewis weights, so sensitivity sampling with it equals
          Lewis-weight sampling.
        - ``"sketched"``: the exact programs solved against a small l_p subspace
          embedding ``T A`` instead of ``A``: ``s_i ~ 1 / min { ||T A x||_p^p :
          a_i^T x = 1 }`` with the *unscaled* row ``a_i`` of ``A``, ``T`` a Lewis-weight
          sample of ``n_samples`` rows.  An eps-embedding gives every ``s_i`` within a
          factor ``(1 +- eps)^p``.  Still ``n`` programs, but of size
          ``n_samples x (r - 1)``; for ``p = 1`` about 2 ms each.  Rows kept in ``T``
          must not be scored by their sensitivity *inside* ``T A``: a kept row carries
          the weight ``q_i^{-1/p}``, which inflates it by about ``1 / q_i``.
    n_samples : int, optional
        Expected rows of the sample of ``method="sketched"``; default ``min(n, 80 r)``
        (measured: every value within 0.8-1.2 of the exact one for p from 1 to 4).
        Doubled (up to ``n``) while the sample has a lower rank than ``A``.
    rcond : float, optional
        Singular values below ``rcond * s_max`` count as zero; default
        ``max(n, d) * eps`` of the dtype of ``A``.
    rng : None, int, numpy.random.Generator, ...
        Randomness of the sample of ``method="sketched"``.
    check_finite : bool
        Reject NaN and inf in ``A`` (before any work).

    Returns
    -------
    SensitivitiesResult
        ``sensitivities`` in the float dtype of ``A`` (integers give float64), ``total``,
        ``p``, ``method``, ``rank``, ``bound``, ``converged``, ``message``.

    Raises
    ------
    ValueError
        ``p`` not a finite number ``> 0``, unknown ``method``, non-finite ``A``, or
        ``p < 1`` with ``method="exact"`` on a problem too large to enumerate.
    TypeError
        Complex or non-numeric ``A``; a non-NumPy array with ``method="exact"``.

    Warns
    -----
    ConvergenceWarning
        When a program of the exact method (or the Lewis-weight iteration) stops at its
        iteration limit.

    Notes
    -----
    The relations behind the bounds (Woodruff-Yasuda 2023 and Chen-Derezinski 2021):
    ``s_i <= w_i``, ``s_i <= tau_i^{p/2}`` and ``w_i <= r^{1-p/2} s_i`` for ``p <= 2``;
    ``w_i <= s_i <= r^{p/2-1} w_i`` for ``p >= 2``.  The tests check them against the
    exact values.

    Backend support: ``"exact"`` and ``"sketched"``: NumPy and SciPy sparse
    (densified).  ``"upper_bound"``:
    whatever :func:`leverage_scores` and :func:`lewis_weights` accept; the result is in
    the namespace of ``A``.

    References
    ----------
    .. [1] D. P. Woodruff, T. Yasuda, "Sharper bounds for l_p sensitivity sampling",
       ICML 2023, arXiv:2306.00732.
    .. [2] M. B. Cohen, R. Peng, "l_p row sampling by Lewis weights", STOC 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.sampling import lp_sensitivities
    >>> A = np.random.default_rng(0).standard_t(2, size=(60, 3))
    >>> exact = lp_sensitivities(A, 1)
    >>> bool(3**0.5 - 1e-9 <= exact.total <= 3)      # r^(p/2) <= S <= r for p <= 2
    True
    >>> bound = lp_sensitivities(A, 1, method="upper_bound")
    >>> bool(np.all(bound.sensitivities >= exact.sensitivities - 1e-9)), bound.bound
    (True, 'min(lewis, leverage^(p/2))')
    """
    method = check_option(method, "method", _METHODS)
    p = check_real(p, "p", low=0.0, low_open=True)
    A, xp = check_matrix(A, "A", check_finite=check_finite)
    if method != "upper_bound" and not is_numpy_namespace(xp):
        raise TypeError("`A` must be a NumPy array or a SciPy sparse matrix for "
                        f"method={method!r}; got {type(A).__name__}.")
    rcond = default_rcond(A.shape, A.dtype) if rcond is None else check_real(
        rcond, "rcond", low=0.0, high=1.0, high_open=True)
    if n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", low=1)
    rng = check_rng(rng)
    if method == "upper_bound":
        return _upper_bound(xp, A, p, rcond)
    if method == "sketched":
        if p < 1:
            raise ValueError(f"method='sketched' needs `p` >= 1 (convex programs); got "
                             f"p={p!r}. Use method='exact' (enumeration) for tiny problems "
                             "or method='upper_bound'.")
        return _sketched(np.asarray(A.toarray() if is_sparse(A) else A), p, n_samples,
                         rcond, rng)
    if p < 1:
        _check_enumeration_size(A.shape, p)
    return _exact(np.asarray(A.toarray() if is_sparse(A) else A), p, rcond)


# ------------------------------------------------------------------------- bounds


def _upper_bound(xp, A, p, rcond):
    lev = leverage_scores(A, rcond=rcond, check_finite=False)
    tau, rank = lev.scores, lev.rank
    if p == 2 or rank == 0:
        s, bound, converged, message = tau, "leverage", True, "leverage scores (exact)"
    else:
        lew = lewis_weights(A, p, rcond=rcond, check_finite=False)
        w, converged, message = lew.weights, lew.converged, f"lewis_weights: {lew.message}"
        if p < 2:
            s, bound = xp.minimum(w, tau ** (p / 2.0)), "min(lewis, leverage^(p/2))"
        else:
            s, bound = w * float(rank) ** (p / 2.0 - 1.0), "rank^(p/2-1) * lewis"
    s = xp.clip(xp.astype(s, A.dtype), 0.0, 1.0)
    return SensitivitiesResult(sensitivities=s, total=float(xp.sum(s)), p=p,
                               method="upper_bound", rank=int(rank), bound=bound,
                               converged=bool(converged), message=message)


# -------------------------------------------------------------------------- exact


def _orthonormal_basis(A, rcond):
    """``(U, rank)``: an orthonormal basis of ``range(A)`` (float64) whose rows are
    exactly zero where the rows of ``A`` are."""
    U, s, _ = scipy.linalg.svd(np.asarray(A, dtype=np.float64), full_matrices=False,
                               check_finite=False, lapack_driver="gesdd")
    rank = numerical_rank(np, s, rcond)
    U = U[:, :rank]
    U[~np.any(A != 0, axis=1)] = 0.0
    return U, rank


def _check_enumeration_size(shape, p):
    n = shape[0]
    k = min(shape)  # the rank is at most k; it is not computed (the check precedes any work)
    # The rank r - 1 <= k - 1 is unknown, and C(n, j) is not monotone in j: bound the
    # number of lines by its largest value over j <= k - 1.
    lines = math.comb(n, min(k - 1, n // 2))
    if n * lines > MAX_ENUMERATION:
        raise ValueError(
            f"`A` of shape {tuple(shape)} is too large for exact l_p sensitivities with p={p!r} "
            f"< 1: the nonconvex programs are solved by enumerating up to "
            f"max_j C(n, j) = {lines} lines (j < min(n, d)), and n times that must be <= "
            f"{MAX_ENUMERATION}. Use method='upper_bound'.")


def _exact(A, p, rcond):
    t0 = time.perf_counter()
    n = A.shape[0]
    U, rank = _orthonormal_basis(A, rcond)
    converged, n_programs = True, 0
    if rank == 0:
        s, bound = np.zeros(n), "A is zero"
    elif p == 2:
        s, bound = np.einsum("ij,ij->i", U, U), "leverage"
    elif p < 1:
        s, bound = enumerate_sensitivities(U, p), "enumeration"
    else:
        s, converged, n_programs = _convex_programs(U, p)
        bound = "linear programs" if p == 1 else "convex programs"
    s = np.clip(s, 0.0, 1.0).astype(A.dtype)
    message = (f"{n_programs} programs solved in {time.perf_counter() - t0:.3g}s"
               if n_programs else f"computed in {time.perf_counter() - t0:.3g}s")
    logger.info("lp_sensitivities(p=%g, exact) on %dx%d: %s", p, n, A.shape[1], message)
    if not converged:
        warnings.warn("lp_sensitivities: some convex programs stopped at their iteration "
                      "limit; the values may be slightly too small.", ConvergenceWarning,
                      stacklevel=3)
    return SensitivitiesResult(sensitivities=s, total=float(np.sum(s, dtype=np.float64)),
                               p=p, method="exact", rank=rank, bound=bound,
                               converged=converged, message=message)


def _convex_programs(U, p, constraints=None):
    """``s_i = ||u_i||^p / min { ||U x||_p^p : c^T x = 1 }`` with ``c = u_i / ||u_i||``
    for ``p >= 1``; ``x = c + N z`` makes each program an unconstrained l_p regression
    ``min_z ||U N z + U c||_p^p`` with orthonormal ``U N``.  ``constraints`` (rows
    ``u_i``) defaults to the rows of ``U``."""
    C = U if constraints is None else constraints
    r = U.shape[1]
    norms = np.sqrt(np.einsum("ij,ij->i", C, C))
    s = np.zeros(C.shape[0])
    converged, count = True, 0
    for i in np.flatnonzero(norms > 0):
        c = C[i] / norms[i]
        Uc = U @ c
        if r == 1:
            value = float(np.sum(np.abs(Uc) ** p))
        else:
            Q = scipy.linalg.qr(c[:, None], check_finite=False)[0]
            sol = lp_minimize(U @ Q[:, 1:], -Uc, p, tol=_EXACT_TOL, orthonormal=True,
                              warn=False)
            value = sol.objective
            converged &= sol.converged
            count += 1
        s[i] = math.exp(p * math.log(norms[i]) - math.log(value))
    return s, converged, count


def enumerate_sensitivities(U, p, *, chunk=4096):
    """Exact sensitivities for ``0 < p <= 1`` by enumeration (private; also the test
    reference for ``p = 1``).

    For ``p <= 1`` the objective ``||U x||_p^p`` is concave on each cell of the
    hyperplane arrangement ``{u_k^T x = 0}``, so ``min ||U x||_p^p`` over ``u_i^T x = 1``
    is attained at a vertex: on a line ``span(w_S)`` where ``r - 1`` rows ``S`` vanish.
    Hence ``s_i = max_S |u_i^T w_S|^p / ||U w_S||_p^p`` over the (r-1)-subsets ``S`` of
    rows whose ``U_S`` has rank ``r - 1`` (``w_S`` spans its null space).
    """
    n, r = U.shape
    best = np.zeros(n)
    if r == 1:
        return _line_ratios(U, np.ones((1, 1)), p)
    nonzero = np.flatnonzero(np.any(U != 0, axis=1))
    subsets = itertools.combinations(nonzero, r - 1)
    while True:
        block = np.array(list(itertools.islice(subsets, chunk)), dtype=np.int64)
        if block.size == 0:
            return best
        _, sv, Vt = np.linalg.svd(U[block], full_matrices=True)  # (C, r-1, r)
        keep = sv[:, -1] > 1e-10 * sv[:, 0]
        if np.any(keep):
            best = np.maximum(best, _line_ratios(U, Vt[keep, -1, :].T, p, block[keep]))


def _line_ratios(U, W, p, zero_rows=None):
    """``max_j |u_i^T w_j|^p / ||U w_j||_p^p`` over the columns ``w_j`` of ``W``; the rows
    ``zero_rows[j]`` vanish on ``w_j`` by construction and are set to exactly 0 (their
    rounding errors, raised to a power p < 1, would not be negligible)."""
    V = np.abs(U @ W)
    if zero_rows is not None:
        V[zero_rows, np.arange(V.shape[1])[:, None]] = 0.0
    V /= V.max(axis=0)
    P = V ** p
    return np.max(P / P.sum(axis=0), axis=1)


# ----------------------------------------------------------------------- sketched


def _sketched(A, p, n_samples, rcond, rng):
    """Exact programs against a Lewis-weight sample ``T A`` (see ``lp_sensitivities``)."""
    t0 = time.perf_counter()
    n = A.shape[0]
    A64 = np.asarray(A, dtype=np.float64)
    lewis = lewis_weights(A64, p, rcond=rcond, check_finite=False)
    rank = lewis.rank
    if rank == 0:
        return SensitivitiesResult(sensitivities=np.zeros(n, dtype=A.dtype), total=0.0, p=p,
                                   method="sketched", rank=0, bound="A is zero")
    m = n_samples or min(n, _SKETCH_ROWS_PER_RANK * rank)
    while True:
        q = water_fill(np, np.asarray(lewis.weights, dtype=np.float64), min(m, n))
        TA = sample_rows(A64, q, p=p, rng=rng, check_finite=False).matrix
        U, s, Vt = scipy.linalg.svd(TA, full_matrices=False, check_finite=False)
        rank_T = numerical_rank(np, s, rcond)
        if rank_T >= rank or m >= n:
            break
        m = min(n, 2 * m)
    # T A x = U (diag(s) Vt x) = U z and a_i^T x = (diag(1/s) Vt a_i)^T z.
    U, s, Vt = U[:, :rank_T], s[:rank_T], Vt[:rank_T]
    C = (A64 @ Vt.T) / s
    values, converged, count = _convex_programs(U, p, constraints=C)
    values = np.clip(values, 0.0, 1.0)
    message = (f"{count} programs on a sample of {TA.shape[0]} rows solved in "
               f"{time.perf_counter() - t0:.3g}s")
    logger.info("lp_sensitivities(p=%g, sketched) on %dx%d: %s", p, n, A.shape[1], message)
    converged = converged and lewis.converged
    if not converged:
        warnings.warn("lp_sensitivities: some convex programs (or the Lewis-weight "
                      "iteration of the sample) stopped at their iteration limit; the values "
                      "may be slightly off.", ConvergenceWarning, stacklevel=3)
    return SensitivitiesResult(
        sensitivities=values.astype(A.dtype), total=float(values.sum()), p=p,
        method="sketched", rank=rank, bound=f"programs on a Lewis sample of {TA.shape[0]} rows",
        converged=converged, message=message)
