"""The subspace power method (Kileel-Pereira, v1.3 of the reference algorithm)."""

import contextlib
import math
import time
import warnings

import numpy as np

from .._backend import from_host, host_dtype, to_host
from .._rng import check_rng
from .._threads import blas_single_threaded
from .._validation import check_int, check_option, check_real
from ..exceptions import LowrankWarning
from ._components import ComponentLog
from ._moments import MomentTensor
from ._multiindex import n_sorted
from ._power import PowerTables, find_component, shift_constant
from ._refine import refine_symmetric
from ._result import CPResult
from ._tensors import check_dense_size, dense_operand

__all__ = ["decomposition_threads", "rank_bounds", "subspace_power_method"]

# A positive ``tol`` is raised to this many machine epsilons of the working dtype.
_TOL_FLOOR_EPS = 32
# Flattenings up to this size are decomposed with BLAS on one thread.
_SMALL_DECOMPOSITION = 1024


def rank_bounds(d, order):
    """``(practical, limit)`` ranks for a symmetric tensor of side ``d`` and ``order``.

    ``limit`` is the largest rank SPM accepts: for even ``m = 2n``, ``C(d+n-1, n) - d``
    (where the components stop being identifiable from the flattening); for odd
    ``m = 2n - 1``, ``min(C(d+n-2, n-1), C(d+n-1, n) - d)`` (the smaller flattening's
    rank).  ``practical`` is where SPM with default settings still recovers generic
    tensors: ``0.8 * limit`` for even order (inferred from the reference scripts and our
    runs), ``limit`` for odd order.

    Examples
    --------
    >>> from lowrank.tensor import rank_bounds
    >>> rank_bounds(20, 4), rank_bounds(12, 3)
    ((152, 190), (12, 12))
    """
    n = math.ceil(order / 2)
    identifiable = n_sorted(d, n) - d
    if order % 2 == 0:
        return max(1, int(0.8 * identifiable)), identifiable
    limit = min(n_sorted(d, n - 1), identifiable)
    return limit, limit


def _as_operand(T, check_finite):
    if isinstance(T, MomentTensor):
        return T
    return dense_operand(T, check_finite=check_finite)


def _check_rank(rank, d, order, *, estimated):
    practical, limit = rank_bounds(d, order)
    if rank > limit:
        source = "the flattening's spectrum suggests" if estimated else "got"
        hint = (" (a noisy tensor fills the spectrum: pass `rank`)" if estimated else "")
        raise ValueError(
            f"`rank` must be at most {limit} for a symmetric tensor of order {order} and "
            f"side {d}, the largest rank SPM can identify; {source} rank={rank}{hint}.")
    if rank > practical:
        warnings.warn(
            f"rank={rank} is above {practical}, 0.8 of the identifiability limit {limit} "
            f"for order {order} and side {d}: SPM may find spurious components there "
            f"(check `converged` and the reconstruction error).", LowrankWarning,
            stacklevel=4)


def decomposition_threads(shape):
    """BLAS on one thread for a small matrix decomposition."""
    small = max(shape) <= _SMALL_DECOMPOSITION
    return blas_single_threaded() if small else contextlib.nullcontext()


def _extract(operand, xp, rank, rank_tol):
    """Orthonormal compressed bases of the flattening's top singular subspace, the
    inverse core ``K``, the spectrum and the rank."""
    m, d = operand.order, operand.dim
    n = math.ceil(m / 2)
    M = operand.flattening(n)
    # Small eigendecompositions run 10-40x slower on several BLAS threads when the cores
    # are busy (0.6 s against 0.017 s at 210 x 210 on 2 loaded cores).
    with decomposition_threads(M.shape):
        if m % 2 == 0:
            values, vectors = xp.linalg.eigh(M)
            order = xp.argsort(-xp.abs(values), stable=True)
            spectrum = xp.take(values, order, axis=0)
            left = right = xp.take(vectors, order, axis=1)
        else:
            left, spectrum, right_t = xp.linalg.svd(M, full_matrices=False)
            right = right_t.T
    magnitude = np.abs(to_host(spectrum)).astype(np.float64)
    total = float(np.sum(magnitude))
    if total == 0.0:
        raise ValueError("`T` is zero: it has no CP decomposition to find.")
    estimated = rank is None
    if estimated:
        typical = float(np.sum(magnitude**2)) / total
        rank = int(np.sum(magnitude > rank_tol * typical))
        _check_rank(rank, d, m, estimated=True)
    if magnitude[rank - 1] == 0.0:
        raise ValueError(f"`rank`={rank} exceeds the rank of the flattening "
                         f"({int(np.sum(magnitude > 0))}).")
    V = left[:, :rank]
    U = None if m % 2 == 0 else right[:, :rank]
    K = xp.eye(rank, dtype=M.dtype) / spectrum[:rank][None, :]
    return V, U, K, spectrum, rank, estimated


def _householder(xp, y):
    """``(w, c)`` with ``H = I - c w w^T`` orthogonal and ``H e_k`` parallel to ``y``."""
    y = y / xp.linalg.vector_norm(y)
    k = y.shape[0]
    last = float(y[k - 1])
    sign = 1.0 if last >= 0 else -1.0
    w = sign * y
    w[k - 1] += 1.0
    return w, 2.0 / float(xp.sum(w * w))


def _reflect_columns(xp, V, w, c):
    """The first ``k - 1`` columns of ``V H``."""
    Vw = V @ w
    return V[:, :-1] - c * Vw[:, None] * w[None, :-1]


def _deflate(xp, V, U, K, alpha, beta):
    """Remove the found component from the bases and the inverse core."""
    if U is None:
        w, c = _householder(xp, K @ alpha)
        KH = K - c * (K @ w)[:, None] * w[None, :]
        K = (KH - c * w[:, None] * (w @ KH)[None, :])[:-1, :-1]
        return _reflect_columns(xp, V, w, c), None, K
    w_v, c_v = _householder(xp, K.T @ beta)      # both reflectors from the current K
    w_u, c_u = _householder(xp, K @ alpha)
    KH = K - c_v * (K @ w_v)[:, None] * w_v[None, :]
    K = (KH - c_u * w_u[:, None] * (w_u @ KH)[None, :])[:-1, :-1]
    return _reflect_columns(xp, V, w_v, c_v), _reflect_columns(xp, U, w_u, c_u), K


def _weight(xp, K, alpha, beta):
    if beta is None:
        return float(xp.sum(alpha * alpha)) / float(alpha @ (K @ alpha))
    norms = float(xp.linalg.vector_norm(alpha)) * float(xp.linalg.vector_norm(beta))
    return norms / float(beta @ (K @ alpha))


def _canonical(xp, A, weights, order):
    """Unit columns with their largest-magnitude entry positive (odd order: positive
    weights), ordered by decreasing |weight|; returns the permutation too."""
    A_host = to_host(A)
    signs = np.sign(A_host[np.argmax(np.abs(A_host), axis=0), np.arange(A_host.shape[1])])
    if order % 2 == 1:
        signs = np.sign(weights)
        weights = weights * signs
    signs[signs == 0] = 1.0
    permutation = np.argsort(-np.abs(weights), kind="stable")
    A = A * from_host(xp, signs, A, dtype=A.dtype)[None, :]
    A = xp.take(A, from_host(xp, permutation, A), axis=1)
    return A, weights[permutation], permutation


def subspace_power_method(T, rank=None, *, maxiter=5000, ntries=3, tol=1e-14, rng=None,
                          rank_tol=1e-4, accept_tol=1e-2, shift="adaptive", refine=False,
                          refine_maxiter=100, callback=None, check_finite=True):
    """Symmetric CP decomposition by the subspace power method (SPM).

    Finds ``T ~ sum_i weights[i] * a_i^{(x) m}`` with unit ``a_i`` for a real symmetric
    tensor of order ``m >= 3`` (even or odd), one component at a time
    (Kileel-Pereira, v1.3 of the reference algorithm):

    1. extract the top ``rank`` subspace of the flattening ``mat(T)`` (``d^n x
       d^(m-n)``, ``n = ceil(m/2)``), working in symmetric-compressed coordinates
       (``C(d+n-1, n)`` instead of ``d^n`` rows): an eigendecomposition for even ``m``,
       an SVD for odd ``m``; estimate the rank from its spectrum when not given;
    2. maximize ``F(x) = ||P_V x^{(x)n}||^2`` on the unit sphere by the shifted power
       iteration with the adaptive shift, from up to ``ntries`` random points of the
       subspace (on the host the first start alone, then the others as one batch if it
       is rejected; other backends run all of them as one batch); accept a start once
       ``1 - F(x) < accept_tol``;
    3. read the weight from the inverse core (``||alpha||^2 / alpha^T K alpha``, odd
       order ``||alpha|| ||beta|| / beta^T K alpha``) and deflate the subspace by a
       Householder reflection (two for odd order), never touching ``T``.

    Parameters
    ----------
    T : array (d,) * m or MomentTensor
        A symmetric tensor (checked: swapping two modes may change it by at most
        ``sqrt(eps)`` relative to its norm), or a :class:`MomentTensor` given by samples.
    rank : int, optional
        The number of components.  Estimated when ``None``: the number of flattening
        eigenvalues (singular values) above ``rank_tol * sum(s^2) / sum(|s|)``, a
        threshold relative to the spectrum (scaling ``T`` does not change it).  Noisy
        tensors need ``rank`` given.  At most :func:`rank_bounds` ``[1]``
        (``C(d+n-1, n) - d`` for even order, ``d`` for order 3); above 0.8 of that
        limit for even order a :class:`~lowrank.exceptions.LowrankWarning` says that SPM
        may fail.
    maxiter : int, default 5000
        Power iterations per component.
    ntries : int, default 3
        Random starts per component; the restarts run as one batch (matrix products).
    tol : float, default 1e-14
        A start stops when its step ``||x_new - x||`` falls below ``tol``; a positive
        ``tol`` below 32 machine epsilons of the dtype (7.1e-15 for float64, 3.8e-6 for
        float32) is raised to that floor.
    rng : None, int, array_like or numpy.random.Generator
        Seeds the random starts; the same ``rng`` gives the same factors.
    rank_tol : float, default 1e-4
        Relative threshold of the rank estimate.
    accept_tol : float, default 1e-2
        A start is accepted when ``1 - F(x) < accept_tol`` (``F = 1`` at a component).
    shift : {"adaptive", "fixed"}, default "adaptive"
        ``"adaptive"``: ``sqrt((n-1)/n) * h(F)`` with ``h(F) = sqrt(2F(1-F))`` above
        ``F = 2/3`` and ``1 - F/2`` below (v1.3); ``"fixed"``: ``sqrt((n-1)/n)``.
    refine : bool, default False
        Polish the answer on the CP objective ``||T - sum_i w_i a_i^{(x)m}||_F`` by
        Levenberg-Marquardt (damped Gauss-Newton) steps on all scaled factors at once
        (helps at high noise, where SPM's answer is a good start but not the best fit).
        A step solves a dense system of side ``rank * d``: cheap for the sizes of the
        paper's noise experiments, ``O((rank d)^3)`` in general.
    refine_maxiter : int, default 100
        Refinement steps at most.
    callback : callable, optional
        ``callback(position, weight, factor)`` after each component is found (``factor``
        is unit-norm); return True to stop with the components found so far.
    check_finite : bool, default True
        Reject NaN and inf in ``T``.

    Returns
    -------
    CPResult
        ``weights``, ``factors`` (``d x rank``, unit columns), ``rank``,
        ``rank_estimated``, ``spectrum``, ``converged``, ``n_iter``, ``n_restarts``,
        ``timings`` (``extract``, ``power``, ``deflate``, ``refine``), ``history`` (one
        row per component) and ``to_tensor()``.

    Raises
    ------
    ValueError
        Order below 3, unequal sides, side 1, a tensor that is not symmetric, NaN/inf,
        ``rank`` outside ``[1, rank_bounds(d, m)[1]]`` (also for an estimated rank), or
        a bad option.
    MemoryError
        When the compressed flattening (``C(d+n-1, n) x C(d+m-n-1, m-n)``) would take
        more than half the machine's memory.

    Warns
    -----
    ConvergenceWarning
        When a component's starts were all rejected or refinement hit
        ``refine_maxiter``.
    LowrankWarning
        When ``rank`` is above the practical limit (even order).

    See Also
    --------
    multi_subspace_power_method : tensors without full symmetry.
    MomentTensor : moment tensors given by samples.

    Notes
    -----
    Cost: the flattening's eigendecomposition, ``O(C(d+n-1, n)^3)``, then per power
    step two products with the ``C(d+n-1, n) x k`` basis for the whole batch of starts.
    The power iterations run in a Numba kernel for NumPy input.

    Backend support: NumPy, CuPy and other array API namespaces (the power iteration
    runs as array operations there; the random starts are drawn on the host, so a given
    ``rng`` gives the same starts everywhere).

    References
    ----------
    J. Kileel, J. M. Pereira, "Subspace power method for symmetric tensor
    decomposition", Numerical Algorithms (2025), arXiv:1912.04007.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.tensor import subspace_power_method, symmetric_tensor
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((10, 12))
    >>> T = symmetric_tensor(np.ones(12), A, 4)
    >>> res = subspace_power_method(T, rng=0)
    >>> res.rank, res.converged
    (12, True)
    >>> bool(np.linalg.norm(res.to_tensor() - T) < 1e-10 * np.linalg.norm(T))
    True
    """
    operand = _as_operand(T, check_finite)
    xp, d, m = operand.xp, operand.dim, operand.order
    if d < 2:
        raise ValueError(f"`T` must have side d >= 2; got shape {(d,) * m}.")
    if rank is not None:
        rank = check_int(rank, "rank", low=1)
        _check_rank(rank, d, m, estimated=False)
    maxiter = check_int(maxiter, "maxiter", low=1)
    ntries = check_int(ntries, "ntries", low=1)
    tol = check_real(tol, "tol", low=0.0)
    rank_tol = check_real(rank_tol, "rank_tol", low=0.0, high=1.0, low_open=True, high_open=True)
    accept_tol = check_real(accept_tol, "accept_tol", low=0.0, high=1.0, low_open=True)
    check_option(shift, "shift", ("adaptive", "fixed"))
    refine_maxiter = check_int(refine_maxiter, "refine_maxiter", low=1)
    rng = check_rng(rng)
    n = math.ceil(m / 2)
    itemsize = host_dtype(operand.dtype).itemsize
    check_dense_size(operand.flattening_shape(n), itemsize, "The compressed flattening")
    floor = _TOL_FLOOR_EPS * float(np.finfo(host_dtype(operand.dtype)).eps)
    if 0.0 < tol < floor:
        tol = floor

    components = ComponentLog(maxiter=maxiter, callback=callback)
    timings = {"extract": 0.0, "power": 0.0, "deflate": 0.0, "refine": 0.0}
    start = time.perf_counter()
    V, U, K, spectrum, rank, estimated = _extract(operand, xp, rank, rank_tol)
    timings["extract"] = time.perf_counter() - start

    tables = PowerTables(xp, d, n, V)
    low_tables = None if U is None else PowerTables(xp, d, n - 1, V) if n > 1 else None
    power_options = dict(maxiter=maxiter, tol=tol, shift=shift_constant(n),
                         adaptive=shift == "adaptive", accept_tol=accept_tol)
    columns = []
    for k in range(rank, 0, -1):
        tick = time.perf_counter()
        x, f, iterations, accepted, rejected, batch_iter = find_component(
            tables, V, rng, ntries, **power_options)
        tock = time.perf_counter()
        timings["power"] += tock - tick
        alpha = V.T @ tables.monomials(x[:, None])[:, 0]
        beta = None if U is None else U.T @ _low_monomials(low_tables, d, x)
        weight = _weight(xp, K, alpha, beta)
        if k > 1:
            V, U, K = _deflate(xp, V, U, K, alpha, beta)
        timings["deflate"] += time.perf_counter() - tock
        columns.append(x)
        if components.add(weight, x, iterations=iterations, objective=f, accepted=accepted,
                          rejected=rejected, n_iter=batch_iter):
            break

    A = xp.stack(columns, axis=1)
    weights = np.asarray(components.weights, dtype=np.float64)
    refinement = None
    refine_ok = True
    if refine:
        tick = time.perf_counter()
        A, weights, refinement, refine_ok = refine_symmetric(operand, A, weights,
                                                             maxiter=refine_maxiter)
        timings["refine"] = time.perf_counter() - tick
    A, weights, permutation = _canonical(xp, A, weights, m)
    failure = (None if refine_ok else
               f"refinement did not converge in refine_maxiter={refine_maxiter} steps")
    message = components.finish("subspace_power_method", rank=rank, ntries=ntries,
                                accept_tol=accept_tol, failure=failure,
                                success=" and refined" if refine else "")
    return CPResult(
        weights=from_host(xp, weights, A, dtype=A.dtype), factors=A, rank=len(columns),
        rank_estimated=estimated, order=m, symmetry=(0,) * m, spectrum=spectrum,
        converged=components.log.converged, n_iter=components.n_iter,
        n_restarts=components.n_restarts, timings=timings,
        history=components.history(permutation), refinement=refinement, message=message)


def _low_monomials(low_tables, d, x):
    """Scaled monomials of degree ``n - 1`` of ``x`` (odd order; ``x`` itself when
    ``n - 1 = 1``, whose monomials are the coordinates)."""
    if low_tables is None:
        return x
    return low_tables.monomials(x[:, None])[:, 0]
