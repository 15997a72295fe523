"""l_p regression, exactly or on a row sample of ``[A b]`` (Lewis weights, sensitivities,
leverage scores, ...)."""

import logging
import time
import warnings

import numpy as np
import scipy.sparse

from .._backend import is_numpy_namespace, is_sparse
from .._result import Result
from .._rng import check_rng
from .._solvers.lp import lp_minimize, lp_objective
from .._validation import check_int, check_matrix, check_option, check_real, check_vector
from ..exceptions import ConvergenceWarning, LowrankWarning
from ..sampling import SAMPLING_METHODS, leverage_scores, sample_rows, sampling_probabilities

__all__ = ["LpRegressionResult", "lp_regression"]

logger = logging.getLogger(__name__)

METHODS = ("exact", *SAMPLING_METHODS)

# Default expected sample size: this many rows per column of [A b], at most n.
SAMPLES_PER_COLUMN = 20


class LpRegressionResult(Result):
    """Result of :func:`lp_regression`.

    Attributes
    ----------
    x : ndarray (d,)
        The solution, float32 when ``A`` and ``b`` are float32, float64 otherwise.
    objective : float
        ``sum_i |a_i^T x - b_i|^p`` on the full data (``inf`` only on overflow).
    p : float
        The exponent.
    method : str
        ``"exact"`` or the sampling scheme.
    sample : RowSample or None
        The row sample of ``[A b]`` that was solved (``None`` for ``"exact"``).
    n_samples : int or None
        The expected sample size requested (``None`` for ``"exact"``); the realised
        size is ``sample.size``.
    n_iter : int
        Iterations of the solver (simplex/IPM iterations for ``p = 1``).
    converged : bool
        Whether the solver met its stopping rule.
    history : dict of ndarray
        ``objective`` (of the solved, possibly sampled, problem) and ``time`` (seconds
        since the start of the solve) per iteration.
    message : str
        How the solver stopped, and on which data.
    """

    x: object
    objective: float
    p: float
    method: str
    sample: object
    n_samples: int | None
    n_iter: int
    converged: bool
    history: dict
    message: str = ""


def lp_regression(A, b, p, *, method="lewis", n_samples=None, tol=1e-10, maxiter=None,
                  rng=None, check_finite=True) -> LpRegressionResult:
    r"""l_p regression ``min_x sum_i |a_i^T x - b_i|^p``, exactly or on a row sample.

    Parameters
    ----------
    A : (n, d) array_like or SciPy sparse matrix
        The data (may be rank deficient: a minimizer in the row space of ``A`` is
        returned).  Sparse ``A`` is densified for ``"exact"`` and only the sampled rows
        are densified otherwise.
    b : (n,) array_like
        The response.
    p : float
        Exponent, a finite real ``p > 0``.  ``p < 1`` is nonconvex: a local minimizer is
        returned with a :class:`~lowrank.exceptions.LowrankWarning`.
    method : str
        ``"lewis"`` (default), ``"exact"``, ``"uniform"``, ``"leverage"``,
        ``"root_leverage"``, ``"sensitivity"`` or ``"combined"``.
        ``"exact"`` solves the full problem.  Every other value is a scheme of
        :func:`lowrank.sampling.sampling_probabilities`: the probabilities are computed
        on ``M = [A b]`` (the response is embedded, so that the sample is an l_p subspace
        embedding of the whole space the residuals live in), rows are kept independently
        by :func:`lowrank.sampling.sample_rows` and rescaled by ``q_i^{-1/p}``, and the
        rescaled sample ``S [A b]`` is solved exactly.  For an eps-embedding the
        result is a ``(1 + O(eps))``-approximate minimizer of the full problem.
        ``"lewis"`` (the default) needs ``O~(d / eps^2)`` rows for ``p < 2`` and
        ``O~(d^{p/2} / eps^2)`` for ``p > 2``.
    n_samples : int, optional
        Expected number of sampled rows, ``>= 1`` (capped at ``n``).  Default
        ``min(n, 20 (d + 1))``: in practice 10 to 50 rows per column of ``[A b]`` give a
        few percent excess objective for ``p <= 2`` (more are needed for larger ``p``);
        increase it for a tighter answer.
    tol : float, default 1e-10
        Solver tolerance, ``0 < tol < 1``: for ``1 < p < inf`` the relative duality gap
        at which the Newton/IRLS solver stops (it certifies
        ``f(x) - f* <= tol * f(x)`` for the solved problem); for ``p < 1`` the relative
        decrease of the objective.  Unused for ``p = 1`` (HiGHS' own tolerances) and
        ``p = 2``.
    maxiter : int, optional
        Iteration limit of the iterative solvers (default 200 for ``p > 1``, 500 for
        ``p < 1``); reaching it warns :class:`~lowrank.exceptions.ConvergenceWarning`.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Randomness of the sample; the same ``rng`` gives the same ``x``.
    check_finite : bool, default True
        Reject NaN and inf in ``A`` and ``b``.

    Returns
    -------
    LpRegressionResult
        ``x``, ``objective`` (on the full data), ``p``, ``method``, ``sample``,
        ``n_samples``, ``n_iter``, ``converged``, ``history``, ``message``.

    Raises
    ------
    ValueError
        ``p`` not a finite number ``> 0``, unknown ``method``, ``n_samples < 1``, wrong
        length of ``b``, non-finite data, ``tol`` outside ``(0, 1)``, ``maxiter < 1``.
    TypeError
        Complex or non-numeric data; arrays from a namespace other than NumPy.

    Warns
    -----
    ConvergenceWarning
        When the solver stops at ``maxiter`` (or HiGHS reports a failure).
    LowrankWarning
        For ``p < 1`` (nonconvex), and when the sample has a lower rank than ``A`` (the
        sampled problem would not determine ``x``): the full problem is then solved
        instead, and ``message`` says so.

    Notes
    -----
    **Solvers** (on the full data or the sample; ``A`` is first replaced by an
    orthonormal basis of its column space, a thin SVD):

    - ``p = 1``: the linear program ``max b^T y  s.t.  A^T y = 0, -1 <= y <= 1`` (the
      dual of ``min sum t  s.t.  -t <= A x - b <= t``: ``d`` equality rows instead of
      ``2 n`` inequalities) by HiGHS (:func:`scipy.optimize.linprog`); ``x`` is minus
      the equality constraints' marginals, then polished to the exact interpolating
      vertex.
    - ``1 < p < inf``: a modified Newton method: the IRLS direction (the weighted least
      squares step with weights ``max(|r_i|, eta)^{p-2}``, i.e. ``(p - 1)`` times the
      Newton step with floored Hessian weights) followed by an exact line search on the
      convex ``alpha -> ||r + alpha A D||_p^p`` (Brent root-finding on its slope, O(n) per
      evaluation).  Every step decreases the objective and every limit point is the
      global minimizer.  It stops when the duality gap certified by a dual point ``y``
      (``A^T y = 0``: ``||r*||_p >= r^T y / ||y||_q``) is below ``tol``.  Residuals are
      scaled by their maximum before powering, so ``p = 20`` or ``50`` is safe.
    - ``p = 2``: least squares.
    - ``0 < p < 1``: majorize-minimize IRLS from the least-squares point, polished to a
      vertex and compared with the l_1 solution (local minimizer only).

    **Sampling.** With inclusion probabilities ``q`` and weights ``q_i^{-1/p}``,
    ``E ||S y||_p^p = ||y||_p^p`` for every ``y``; if ``S`` is an eps-subspace embedding
    of ``range([A b])`` then the minimizer ``x_S`` of ``||S (A x - b)||_p`` satisfies
    ``||A x_S - b||_p <= (1 + eps) / (1 - eps) min_x ||A x - b||_p``.

    Backend support: NumPy and SciPy sparse.

    References
    ----------
    .. [1] M. B. Cohen, R. Peng, "l_p row sampling by Lewis weights", STOC 2015.
    .. [2] D. P. Woodruff, T. Yasuda, "Sharper bounds for l_p sensitivity sampling",
       ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.regression import lp_regression
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((5000, 4))
    >>> b = A @ np.ones(4) + rng.standard_t(1.5, 5000)      # heavy-tailed noise
    >>> exact = lp_regression(A, b, 1, method="exact")
    >>> res = lp_regression(A, b, 1, n_samples=400, rng=0)  # Lewis-weight sample
    >>> res.sample.size < 500, bool(res.objective <= 1.1 * exact.objective)
    (True, True)
    """
    method = check_option(method, "method", METHODS)
    A, xp = check_matrix(A, "A", check_finite=check_finite)
    if not is_numpy_namespace(xp):
        raise TypeError("`A` must be a NumPy array or a SciPy sparse matrix; got "
                        f"{type(A).__name__}.")
    n, d = A.shape
    b, xp_b = check_vector(b, "b", n, check_finite=check_finite)
    if not is_numpy_namespace(xp_b):
        raise TypeError(f"`b` must be a NumPy array; got {type(b).__name__}.")
    p = check_real(p, "p", low=0.0, low_open=True)
    if n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", low=1)
    tol = check_real(tol, "tol", low=0.0, high=1.0, low_open=True, high_open=True)
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", low=1)
    rng = check_rng(rng)
    out_dtype = np.float32 if (A.dtype == np.float32 and b.dtype == np.float32) \
        else np.float64
    b64 = np.asarray(b, dtype=np.float64)
    start = time.perf_counter()
    sample, message_tail = None, ""
    if method == "exact":
        sol = _solve(_dense64(A), b64, p, tol, maxiter)
    else:
        n_samples = min(n, SAMPLES_PER_COLUMN * (d + 1)) if n_samples is None \
            else min(n, n_samples)
        sample = _sample(A, b64, p, method, n_samples, rng)
        SM = _dense64(sample.matrix)
        sol = _solve(SM[:, :d], SM[:, d], p, tol, maxiter) if sample.size else None
        if sol is None or sol.rank < d:
            rank_A = _rank(A)
            if sol is None or sol.rank < rank_A:
                got = 0 if sol is None else sol.rank
                warnings.warn(
                    f"lp_regression: the {method!r} sample of {sample.size} rows has rank "
                    f"{got} < rank(A) = {rank_A}, so it does not determine x; solving the "
                    "full problem instead (increase n_samples).", LowrankWarning,
                    stacklevel=2)
                sol = _solve(_dense64(A), b64, p, tol, maxiter)
                message_tail = " (full data: the sample was rank deficient)"
            else:
                message_tail = f" (sample of {sample.size} rows)"
        else:
            message_tail = f" (sample of {sample.size} rows)"
    x = sol.x
    objective = lp_objective(A @ x - b64, p)
    logger.info("lp_regression(p=%g, %s) on %dx%d: objective %.6g, %d iterations, %.3fs",
                p, method, n, d, objective, sol.n_iter, time.perf_counter() - start)
    if p < 1:
        warnings.warn(f"lp_regression: p={p:g} < 1 is nonconvex; the result is a local "
                      "minimizer (no global guarantee).", LowrankWarning, stacklevel=2)
    if not sol.converged:
        warnings.warn(f"lp_regression (p={p:g}) did not converge: {sol.message}",
                      ConvergenceWarning, stacklevel=2)
    return LpRegressionResult(
        x=x.astype(out_dtype), objective=objective, p=p, method=method, sample=sample,
        n_samples=None if method == "exact" else n_samples, n_iter=sol.n_iter,
        converged=sol.converged, history=sol.history, message=sol.message + message_tail)


def _solve(A, b, p, tol, maxiter):
    return lp_minimize(A, b, p, tol=tol, maxiter=maxiter, warn=False)


def _dense64(A):
    if is_sparse(A):
        A = A.toarray()
    return np.asarray(A, dtype=np.float64)


def _sample(A, b, p, method, n_samples, rng):
    """Sample rows of ``M = [A b]`` with the scheme's probabilities computed on ``M``."""
    if is_sparse(A):
        M = scipy.sparse.hstack([A, scipy.sparse.csr_matrix(b[:, None])], format="csr",
                                dtype=np.float64)
    else:
        M = np.concatenate([np.asarray(A, dtype=np.float64), b[:, None]], axis=1)
    probs = sampling_probabilities(M, p, n_samples, method=method, check_finite=False)
    return sample_rows(M, probs, p=p, rng=rng, check_finite=False)


def _rank(A):
    return leverage_scores(A, check_finite=False).rank
