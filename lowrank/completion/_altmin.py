"""Matrix completion by alternating minimization: exact (Jain-Netrapalli-Sanghavi 2013)
and robust, nearly linear time (Gu-Song-Yin-Zhang 2024): the public function.

The pieces: ``_result.py`` (:class:`CompletionResult`), ``_inputs.py`` (the checks that
need the observations), ``_loop.py`` (the one outer loop), ``_host.py`` and
``_device.py`` (the NumPy/Numba and array-API half-sweeps), ``_work.py`` (the work model).
"""

import numpy as np

from .._rng import check_rng
from .._validation import check_int, check_option, check_real
from ._device import DeviceBackend
from ._host import HostBackend
from ._inputs import check_enough_observations, check_validation, device_input
from ._loop import Settings, run_altmin
from ._observations import as_observations
from ._result import CompletionResult

__all__ = ["CompletionResult", "altmin"]

_METHODS = ("robust", "exact")
_PRECONDITIONERS = ("qr", "sketch")
_WEIGHTINGS = ("uniform", "frequency")
_CG_ROWS = ("auto", "all")


def altmin(observed, rank, *, shape=None, method="robust", solver_tol=1e-3, maxiter=100,
           tol=1e-10, regularization=0.0, biases=False, bias_regularization=None,
           weighting="uniform",
           preconditioner="qr", max_cg_steps=None, cg_rows="auto", validation=None,
           split=False, clip=None, duplicates="error", rng=None, callback=None,
           check_finite=True):
    r"""Complete a partially observed matrix by alternating minimization.

    Finds ``U`` (m x rank) and ``V`` (n x rank) minimizing

        ``f(U, V) = sum_{(i, j) observed} (M_ij - u_i^T v_j)^2
        + regularization * (sum_i c_i ||u_i||^2 + sum_j c_j ||v_j||^2)``

    with ``c = 1`` (``weighting="uniform"``, the plain ridge) or ``c`` the number of
    observations of the row or column (``weighting="frequency"``, the weighted-lambda
    regularization of Zhou et al. 2008, which suits rating data with very uneven counts).
    With ``biases=True`` the model is ``M_ij ~ mu + a_i + b_j + u_i^T v_j`` (an offset,
    row and column biases) and the penalty covers the biases too:
    ``sum_i c_i (||u_i||^2 + a_i^2) + sum_j c_j (||v_j||^2 + b_j^2)``; they are fitted
    jointly with the factors

    by alternating exact or approximate least-squares updates of ``V`` (``U`` fixed) and
    ``U`` (``V`` fixed), from the top-``rank`` singular subspace of the rescaled
    observations.  Each update splits into independent ``rank``-dimensional regressions,
    one per row or column, that read only that row's or column's observations.

    Parameters
    ----------
    observed : scipy.sparse matrix, (rows, cols, values) tuple, dense array or Observations
        The observations: a SciPy sparse matrix (its stored entries, explicit zeros
        included), a tuple of 1-D ``rows``, ``cols`` and ``values`` with ``shape``, or a
        dense array with NaN at the missing entries.
    rank : int
        Rank of the factorization, ``1 <= rank <= min(m, n)``.
    shape : (int, int), optional
        Shape of the matrix; required for the tuple form.
    method : {"robust", "exact"}
        ``"exact"``: each row's regression by its normal equations (Cholesky), cost
        ``O(|O| k^2 + (m + n) k^3)`` per sweep (``k = rank``, ``|O|`` observations).
        ``"robust"``: Gu, Song, Yin and Zhang's nearly linear time AltMin: each regression
        is solved only approximately, by preconditioned conjugate gradients warm started
        from the previous factor, so that a sweep costs ``O(|O| k s)`` with ``s`` CG steps
        per row (3-10 in practice) instead of ``O(|O| k^2)``.  See Notes.
    solver_tol : float
        Robust method: each row's CG stops when its residual falls below ``solver_tol``
        times its warm start's residual (with ``preconditioner="sketch"``, the
        preconditioned residual ``||R^-T r||``).  Tightened a thousandfold whenever a sweep lowers
        the objective by less than 0.1 % (progress has stalled), down to 1e-12.
    maxiter : int
        Maximum number of sweeps; reaching it warns
        :class:`~lowrank.exceptions.ConvergenceWarning`.
    tol : float
        Stop when the relative observed residual ``||P_O(U V^T - M)|| / ||P_O(M)||``
        is at most ``tol`` (noiseless data), or when a sweep of exact updates (exact
        method, or the robust method at its tightest tolerance) lowers the objective by
        less than ``tol`` relative to it (noisy data: a stationary point).  A positive
        ``tol`` below ``64 eps`` of the observations' dtype is raised to it (float32:
        7.6e-6), the accuracy its factors can reach (the message says so); ``tol=0`` is
        kept as it is.
    regularization : float
        Ridge weight ``lam >= 0`` of the factor penalty above.  With ``lam = 0`` every
        row and column needs at least ``rank`` observations (``rank + 1`` with biases);
        with ``lam > 0`` a row or column without observations gets a zero factor (and
        bias).
    biases : bool
        Fit an offset and row and column biases with the factors (see the objective):
        each half-sweep solves every row for ``[u_i, a_i]`` against ``[V, 1]`` on the
        values less ``mu + b_j`` (a rank ``k + 1`` regression), and every sweep ends by
        refitting ``mu`` to the mean residual, its exact minimizer, so the objective
        still falls monotonically under exact updates.  The initial factor is computed
        from the values less their mean.  The result has ``offset``, ``row_bias`` and
        ``col_bias``, used by ``predict`` and ``to_dense``.  Rating data (users x items)
        is the usual case.
    weighting : {"uniform", "frequency"}
        How the ridge weighs each row and column (see the objective above).
    preconditioner : {"qr", "sketch"}
        Robust method: ``"qr"`` (default) preconditions every row at once by the QR
        factorization of the fixed factor; ``"sketch"`` preconditions each row by the QR
        of a sparse sign sketch of its own observations (``4 rank`` sketch rows, 4
        nonzeros per observation), the paper's construction.  See Notes for why ``"qr"``
        is the default.
    max_cg_steps : int, optional
        Robust method: CG steps after which a row is finished by an exact solve (default
        ``max(5, rank // 4)`` with ``"qr"``: past it, forming the row's Gram matrix is
        cheaper; ``max(20, rank // 4)`` with ``"sketch"``, whose preconditioned systems
        contract by only about 1/2 per step, and with ``cg_rows="all"``, so that CG
        rather than the exact fallback solves the rows).
    cg_rows : {"auto", "all"}
        Robust method with ``preconditioner="qr"``: ``"auto"`` (default) solves a row
        exactly whenever the cost rule predicts its Cholesky solve cheaper than its CG
        steps (see Notes: "Which rows use CG"), a hybrid that costs what the exact method
        does at small ``rank``; ``"all"`` runs CG on every row with observations (an
        exact solve only after ``max_cg_steps`` steps or a breakdown), the paper's
        algorithm, whose sweep cost grows like ``|O| k``.  The share of rows CG solved
        is ``history["cg_fraction"]``.  (``preconditioner="sketch"`` and device inputs
        always try CG on every row.)
    validation : (rows, cols, values), optional
        Held-out entries; their RMSE is recorded per sweep in ``history``.
    split : bool
        The analysis' sample splitting (a proof device, off by default): the observations
        are split at random into ``2 maxiter + 1`` parts, one for the initialization and
        a fresh one for every half-sweep.  It spends the samples ``2 maxiter + 1`` times
        over; rows left with too few observations in a part get a (near) minimum-norm
        factor.  The residual and ``tol`` still use all observations.
    clip : float, optional
        The analysis' clipping (off by default): the incoherence ``mu`` of ``M``; entries
        of the initial factor above ``2 mu sqrt(rank / m)`` in magnitude are zeroed before
        it is re-orthonormalized.
    duplicates : {"error", "mean", "sum", "last"}
        What to do with repeated ``(row, col)`` observations.
    rng : None, int, numpy.random.Generator, ...
        Seeds the randomized SVD of the initialization.  The same ``rng`` gives the same
        result, whatever the number of threads.
    callback : callable, optional
        ``callback(sweep, U, V, residual)`` after each sweep; returning ``True`` stops.
    check_finite : bool
        Reject NaN and inf among the observed values (the dense form uses NaN to mark
        missing entries, so only inf is rejected there).

    Returns
    -------
    CompletionResult
        ``U``, ``V`` (and ``offset``, ``row_bias``, ``col_bias`` with biases),
        ``history``, ``converged``, ``predict(rows, cols)``, ``to_dense()``.

    Raises
    ------
    ValueError
        ``rank`` outside ``[1, min(m, n)]``; invalid observations; with
        ``regularization=0``, fewer observations than the ``rank (m + n - rank)``
        degrees of freedom or a row or column with fewer than ``rank`` observations
        (``rank + 1`` with biases).

    Notes
    -----
    **Initialization.** The top-``rank`` left singular vectors of ``P_O(M) / p``
    (``p = |O| / (m n)``) by a randomized SVD with 2 power iterations on the sparse
    operator (never densified); no sample splitting and no clipping (the analysis' proof
    devices, which need the unknown incoherence).

    **Robust updates.** "Robust" refers to inexact updates, not to outliers.  The paper
    preconditions each row's regression by a sketch of it (``preconditioner="sketch"``:
    ``R`` from the QR of ``S F_O``, then CG on the normal equations preconditioned by
    ``R^T R``).  By default we precondition all rows at once by the QR factorization
    ``F = Q R`` of the fixed factor and solve for ``w = R x``: with ``Q`` orthonormal and
    the observations uniform, each row's Gram matrix ``Q_O^T Q_O`` concentrates around
    ``(|O_i| / n) I`` whatever the condition number of ``M``, and CG contracts by about
    ``sqrt(k / |O_i|)`` per step, where a sketch of ``s`` rows gives only about
    ``sqrt(k / s)`` and costs ``O(s k^2)`` per row to factor.  Both reach the same
    residual sweep for sweep; the global QR's sweeps were 3.3-7.0 times faster in our
    benchmarks (n = m = 5000, k = 32 and 64, 512 and 4361 observations per row;
    ``benchmarks/bench_completion.py``, the "preconditioner" group), which is why it is
    the default (SPEC 4.4 allows it when measured faster at equal accuracy).  Each row stops
    relative to its warm start's residual, which already scales with the current error;
    a tolerance tied to the previous outer error froze at 3e-2 in review.  Convergence is
    declared only from the criteria of ``tol``: the residual (the paper note's rule) or,
    for noisy data where the residual cannot reach ``tol``, a stationary objective, and
    the latter only once the updates are exact (the robust tolerance tightened to its
    floor), so inexact updates can never fake it.

    **Which rows use CG.**  A CG step costs about ``4 k |O_i|`` flops against
    ``k^2 |O_i|`` for the row's Gram matrix, and with ``|O_i|`` observations it contracts
    by about ``sqrt(k / |O_i|)``; with ``"qr"``, each row is solved exactly when that is
    predicted cheaper (with ``"sketch"`` every row is tried by CG, as in the paper).
    Below ``k`` of about 16-32, or with few observations per row, the robust method
    therefore solves most rows exactly and costs what the exact one does (a half-sweep
    in which every row would be solved exactly skips the QR).

    **Exact rows.** A row or column with ``c >= k`` observations is solved from its
    ``k x k`` normal equations (Cholesky); with a ridge and ``c < k`` (most columns of
    rating data) from the equivalent ``c x c`` dual system
    ``(F_O F_O^T + lam I) a = m``, ``x = F_O^T a``, at ``O(c^2 k)`` instead of
    ``O(k^3)``.

    **Scaling.** The observations are divided internally by a power of 4 near their
    largest magnitude when that is far from 1 (and the factors multiplied back), so
    values near the overflow or underflow thresholds are safe.

    **Ridge.** With the QR change of variables the penalty becomes
    ``lam w^T (R R^T)^-1 w``, so both methods minimize the same ``f``.

    **Backend support.** NumPy and SciPy sparse inputs run the Numba kernels.  CuPy
    arrays (the tuple or NaN-masked dense forms) and ``cupyx`` sparse matrices, and other
    array-API namespaces, keep everything on the device: rows are bucketed by observation
    count and each bucket's regressions are solved as padded batches (batched Gram
    matrices and ``linalg.solve``, or batched CG steps).  Both backends run the same outer
    loop (initialization, scaling, biases, objective, tolerance schedule, stopping rules,
    history); on the device every exact row gets a rounding-level ridge, rows with fewer
    observations than ``rank`` use the primal form, and the robust method always tries
    CG on every row with the QR preconditioner.  ``U`` and ``V`` come back in the
    input's namespace.  ``split``, ``clip``, ``validation``, ``preconditioner="sketch"``
    and duplicate merging are NumPy-only.

    References
    ----------
    P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank matrix completion using alternating
    minimization", STOC 2013.  Y. Gu, Z. Song, J. Yin, L. Zhang, "Low rank matrix
    completion via robust alternating minimization in nearly linear time", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.completion import altmin
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 200))
    >>> mask = rng.random(M.shape) < 0.3
    >>> res = altmin(np.where(mask, M, np.nan), 5, rng=0)
    >>> res.converged, bool(np.linalg.norm(res.to_dense() - M) < 1e-6 * np.linalg.norm(M))
    (True, True)
    """
    method = check_option(method, "method", _METHODS)
    rank = check_int(rank, "rank", low=1)
    solver_tol = check_real(solver_tol, "solver_tol", low=0.0, high=1.0, low_open=True,
                            high_open=True)
    maxiter = check_int(maxiter, "maxiter", low=1)
    tol = check_real(tol, "tol", low=0.0)
    lam = check_real(regularization, "regularization", low=0.0)
    bias_lam = bias_regularization
    if bias_lam is not None:
        bias_lam = check_real(bias_lam, "bias_regularization", low=0.0, low_open=lam > 0)
        if lam == 0 and bias_lam > 0:
            raise ValueError("`bias_regularization` > 0 needs `regularization` > 0 (the "
                             "biases are penalized in the factors' ridge); got "
                             f"regularization=0 and bias_regularization={bias_lam:g}.")
    weighting = check_option(weighting, "weighting", _WEIGHTINGS)
    preconditioner = check_option(preconditioner, "preconditioner", _PRECONDITIONERS)
    by_cost = check_option(cg_rows, "cg_rows", _CG_ROWS) == "auto"
    if max_cg_steps is None:
        max_steps = max(5 if preconditioner == "qr" and by_cost else 20, rank // 4)
    else:
        max_steps = check_int(max_cg_steps, "max_cg_steps", low=0)
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable; got {type(callback).__name__}.")
    for flag, name in ((split, "split"), (biases, "biases")):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"`{name}` must be a bool; got {flag!r}.")
    if clip is not None:
        clip = check_real(clip, "clip", low=1.0)
    device = device_input(observed, shape, check_finite)
    if device is not None:
        if preconditioner != "qr" and method == "robust":
            raise ValueError("preconditioner='sketch' is supported for NumPy and SciPy input "
                             "only.")
        if split or clip is not None or validation is not None or duplicates != "error":
            raise ValueError("`split`, `clip`, `validation` and duplicates other than "
                             "'error' are supported for NumPy and SciPy input only.")
        shape = device[4]
    else:
        obs = as_observations(observed, shape=shape, duplicates=duplicates,
                              check_finite=check_finite)
        shape = obs.shape
    rank = check_int(rank, "rank", low=1, high=min(shape))
    settings = Settings(rank=rank, method=method, solver_tol=solver_tol, maxiter=maxiter,
                        tol=tol, lam=lam, weighted=weighting == "frequency",
                        max_steps=max_steps, biases=bool(biases), bias_lam=bias_lam,
                        callback=callback)
    init_rng, split_rng, sketch_rng = check_rng(rng).spawn(3)
    if device is not None:
        backend = DeviceBackend(*device, settings)
        counts = backend.by_row.counts, backend.by_col.counts
    else:
        held_out = None if validation is None else check_validation(validation, shape)
        counts = obs.row_counts(), obs.col_counts()
    check_enough_observations(shape, *counts, rank, lam, settings.biases)
    if device is None:
        backend = HostBackend(obs, settings, preconditioner=preconditioner, by_cost=by_cost,
                              held_out=held_out, split_rng=split_rng if split else None,
                              clip=clip, sketch_rng=sketch_rng)
    return run_altmin(backend, settings, init_rng)
