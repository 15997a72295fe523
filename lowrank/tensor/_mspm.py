"""The multi-subspace power method for tensors of any symmetry (Wang-Pereira-Kileel-Seigal)."""

import math
import time

import numpy as np

from .._backend import from_host, host_dtype, to_host
from .._rng import check_rng
from .._validation import check_int, check_real
from ._components import ComponentLog
from ._layout import Groups, choose_flattenings
from ._power import PowerTables
from ._result import CPResult
from ._spm import _householder, decomposition_threads
from ._tensors import asymmetry, check_dense_size, input_tensor

__all__ = ["multi_subspace_power_method"]

_TOL_FLOOR_EPS = 4


def _check_symmetry(symmetry, T, xp):
    if symmetry is None:
        return Groups(tuple(range(T.ndim)), T.shape)
    if isinstance(symmetry, (str, bytes)) or not hasattr(symmetry, "__len__"):
        raise TypeError(f"`symmetry` must be a sequence of one group label per mode; got "
                        f"{symmetry!r}.")
    labels = tuple(symmetry)
    if len(labels) != T.ndim:
        raise ValueError(f"`symmetry` must have one label per mode ({T.ndim}); got "
                         f"{len(labels)} labels {labels!r}.")
    groups = Groups(labels, T.shape)
    for modes in groups.modes:
        sides = {int(T.shape[i]) for i in modes}
        if len(sides) > 1:
            raise ValueError(f"`symmetry` puts modes {modes} in one group, but their sides "
                             f"differ ({[int(T.shape[i]) for i in modes]}).")
    return groups


def _check_group_symmetry(xp, T, groups):
    tol = math.sqrt(float(np.finfo(host_dtype(T.dtype)).eps))
    for modes in groups.modes:
        if len(modes) < 2:
            continue
        others = [i for i in range(T.ndim) if i not in modes]
        part = xp.permute_dims(T, (*modes, *others))
        side = int(T.shape[modes[0]])
        rest = math.prod(int(T.shape[i]) for i in others)
        gap = asymmetry(xp, xp.reshape(part, (side,) * len(modes) + (rest,)), exclude_last=True)
        if gap > tol:
            raise ValueError(
                f"`T` must be symmetric in modes {modes} (`symmetry` groups them): swapping "
                f"two of them changes it by {gap:.3g} relative to ||T||_F (tolerance "
                f"{tol:.3g}).")


def _phi(xp, x, table, like):
    """Scaled monomials ``sqrt(mu(p)) x^p`` of the vector ``x`` (``[1]`` for degree 0)."""
    if table.n == 0:
        return xp.ones((1,), dtype=like.dtype)
    out = None
    for j in range(table.n):
        part = xp.take(x, from_host(xp, table.indices[:, j], like), axis=0)
        out = part if out is None else out * part
    return out * from_host(xp, table.sqrt_mult, like, dtype=like.dtype)


def _contract_axis(xp, B, axis, v):
    """``B`` contracted with the vector ``v`` along ``axis``, as a batch of
    vector-matrix products on a reshaped view (no transposed copy)."""
    shape = tuple(B.shape)
    pre, post = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    out = xp.matmul(v[None, :], xp.reshape(B, (pre, shape[axis], post)))
    return xp.reshape(out, shape[:axis] + shape[axis + 1:])


def _kron(xp, parts):
    out = parts[0]
    for part in parts[1:]:
        out = xp.reshape(out[:, None] * part[None, :], (-1,))
    return out


def _svd(xp, M):
    with decomposition_threads(M.shape):
        U, s, Vt = xp.linalg.svd(M, full_matrices=False)
    return U, s, Vt.T


class _Sweeper:
    """Alternating shifted power updates of the free groups' vectors to maximize
    ``||basis^T phi(x)||^2`` over the groups on a flattening's rows."""

    def __init__(self, xp, flattening, like):
        self.xp, self.flat = xp, flattening
        pairs = zip(flattening.groups.dims, flattening.rows, strict=True)
        self.tables = {g: PowerTables(xp, N, l, like)
                       for g, (N, l) in enumerate(pairs) if l >= 2}
        self.like = like

    def contract_others(self, basis_tensor, x, g):
        """The basis contracted with every row group's monomials but ``g``'s
        (``D_g x k``)."""
        W = basis_tensor
        for h in range(len(self.flat.rows) - 1, -1, -1):
            if h != g:
                W = _contract_axis(self.xp, W, h,
                                   _phi(self.xp, x.get(h), self.flat.row_tables[h], self.like))
        return W

    def run(self, basis, x, free, *, maxiter, tol, accept_tol):
        """Returns ``(x, f, iterations, stopped)``."""
        xp, flat = self.xp, self.flat
        basis_tensor = xp.reshape(basis, (*flat.row_sizes, basis.shape[1]))
        f, iterations, stopped = 0.0, 0, False
        for _ in range(maxiter):
            largest = 0.0
            for g in free:
                degree = flat.rows[g]
                W = self.contract_others(basis_tensor, x, g)
                Y = W @ (W.T @ _phi(xp, x[g], flat.row_tables[g], self.like))
                if degree == 1:
                    grad = Y
                else:
                    tables = self.tables[g]
                    low = tables.monomials(x[g][:, None], high=False)
                    grad = tables.contract(Y[:, None], tables.weight, low)[:, 0] / degree
                f = float(xp.sum(grad * x[g]))
                if degree > 1:
                    h = math.sqrt(max(2 * f * (1 - f), 0.0)) if f > 2 / 3 else 1 - f / 2
                    grad = grad + math.sqrt(1 - 1 / degree) * h * x[g]
                new = grad / xp.linalg.vector_norm(grad)
                largest = max(largest, float(xp.max(xp.abs(new - x[g]))))
                x[g] = new
            iterations += 1
            if largest < tol:
                stopped = True
                break
        return x, f, iterations, stopped and 1.0 - f < accept_tol


def _search(sweeper, basis, x_fixed, free, groups, rng, like, *, ntries, options):
    """Up to ``ntries`` random starts of the free groups; the first accepted, else the
    best.  Returns ``(x, f, iterations, accepted, rejected)``."""
    xp = sweeper.xp
    best = None
    iterations = rejected = 0
    for _ in range(ntries):
        x = dict(x_fixed)
        for g in free:
            z = rng.standard_normal(groups.dims[g])
            x[g] = from_host(xp, z / np.linalg.norm(z), like, dtype=like.dtype)
        x, f, its, accepted = sweeper.run(basis, x, free, **options)
        iterations += its
        if best is None or f > best[1]:
            best = (x, f)
        if accepted:
            return x, f, iterations, True, rejected
        rejected += 1
    return best[0], best[1], iterations, False, rejected


def multi_subspace_power_method(T, rank=None, *, symmetry=None, maxiter=5000, ntries=5,
                                tol=1e-15, rng=None, rank_tol=1e-4, accept_tol=1e-2,
                                callback=None, check_finite=True):
    """CP decomposition of a tensor of any symmetry by the multi-subspace power method.

    Finds ``T ~ sum_i weights[i] * (x) over modes of a_{mode, i}`` with unit factors,
    where modes in one symmetry group share their factor (Wang-Pereira-Kileel-Seigal,
    MSPM, reference v1.0):

    1. flatten ``T`` with ``l_g`` copies of each group ``g`` on the rows, choosing the
       flattening with the largest admissible rank, compressed group by group; take
       its top ``rank`` singular subspaces ``U1`` (rows) and ``V1`` (columns);
    2. for each component, maximize ``||U1^T (x) phi(x_g)||^2`` by alternating shifted
       power updates over the row groups (the partially symmetric singular vector
       tuples of singular value one); groups with no copy on the rows are found the same
       way on a second flattening whose rows hold them, with the found vectors fixed;
    3. read the weight from the undeflated factorization
       (``||alpha|| ||beta|| / beta^T S^{-1} alpha``) and deflate the row subspace by a
       Householder reflection.

    Parameters
    ----------
    T : array of order >= 3
        The tensor (sides may differ between groups).
    rank : int, optional
        The number of components; estimated from the flattening's singular values
        (``> rank_tol * sum(s^2) / sum(s)``) when ``None``.  At most the flattening's
        admissible rank (``min(N^2 - 2N, N)`` rows-to-columns for an ``N x N x N``
        asymmetric tensor, i.e. ``N``).
    symmetry : sequence of hashable, optional
        One group label per mode: modes with the same label are symmetric, e.g.
        ``(0, 0, 1)`` for a tensor symmetric in its first two modes.  ``None`` (the
        default) treats every mode as its own group (no symmetry).
    maxiter : int, default 5000
        Sweeps per start (one sweep updates every free group once).
    ntries : int, default 5
        Random starts per component, tried in turn until one is accepted.
    tol : float, default 1e-15
        A start stops when no entry of any vector moves by more than ``tol`` in a
        sweep (raised to 4 machine epsilons of the dtype).
    rng : None, int, array_like or numpy.random.Generator
        Seeds the random starts.
    rank_tol : float, default 1e-4
        Relative threshold of the rank estimate.
    accept_tol : float, default 1e-2
        A start is accepted when ``1 - F < accept_tol``.
    callback : callable, optional
        ``callback(position, weight, vectors)`` after each component (``vectors``: one
        unit vector per group); return True to stop.
    check_finite : bool, default True
        Reject NaN and inf in ``T``.

    Returns
    -------
    CPResult
        ``factors`` is a list with one ``d_mode x rank`` matrix per mode (modes of one
        group share the same matrix), ``symmetry`` the normalized group labels; see
        :class:`CPResult`.

    Raises
    ------
    ValueError
        Order below 3, NaN/inf, symmetry labels of the wrong length or grouping modes of
        different sides or in which ``T`` is not symmetric, ``rank`` above the
        admissible rank, or a bad option.

    Warns
    -----
    ConvergenceWarning
        When a component's starts were all rejected.

    See Also
    --------
    subspace_power_method : fully symmetric tensors.

    Notes
    -----
    Backend support: NumPy, CuPy and other array API namespaces (array operations; the
    random starts are drawn on the host).

    References
    ----------
    K. Wang, J. M. Pereira, J. Kileel, A. Seigal, "Multi-subspace power method for
    decomposing all tensors", arXiv:2510.18627 (2025).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.tensor import cp_tensor, multi_subspace_power_method
    >>> rng = np.random.default_rng(0)
    >>> A, C = rng.standard_normal((8, 5)), rng.standard_normal((6, 5))
    >>> T = cp_tensor(np.ones(5), [A, A, C])          # symmetric in modes 0 and 1
    >>> res = multi_subspace_power_method(T, symmetry=(0, 0, 1), rng=0)
    >>> res.rank, res.converged
    (5, True)
    >>> bool(np.linalg.norm(res.to_tensor() - T) < 1e-10 * np.linalg.norm(T))
    True
    """
    T, xp = input_tensor(T, "T", min_order=3, check_finite=check_finite)
    groups = _check_symmetry(symmetry, T, xp)
    if rank is not None:
        rank = check_int(rank, "rank", low=1)
    maxiter = check_int(maxiter, "maxiter", low=1)
    ntries = check_int(ntries, "ntries", low=1)
    tol = check_real(tol, "tol", low=0.0)
    rank_tol = check_real(rank_tol, "rank_tol", low=0.0, high=1.0, low_open=True, high_open=True)
    accept_tol = check_real(accept_tol, "accept_tol", low=0.0, high=1.0, low_open=True)
    rng = check_rng(rng)
    flattenings = choose_flattenings(groups)
    limit = min((f.admissible for f, _ in flattenings), default=0)
    if limit < 1 or sum(len(new) for _, new in flattenings) < len(groups):
        raise ValueError(f"`T` of shape {tuple(T.shape)} with symmetry {groups.labels} has "
                         f"no set of flattenings that identifies even one component.")
    first = flattenings[0][0]
    if rank is not None and rank > limit:
        raise ValueError(f"`rank` must be at most {limit}, the admissible rank of the best "
                         f"flattening of a tensor of shape {tuple(T.shape)} with symmetry "
                         f"{groups.labels}; got rank={rank}.")
    _check_group_symmetry(xp, T, groups)
    itemsize = host_dtype(T.dtype).itemsize
    for flat, _ in flattenings:
        check_dense_size(flat.shape, itemsize, "The compressed flattening")
    floor = _TOL_FLOOR_EPS * float(np.finfo(host_dtype(T.dtype)).eps)
    tol = max(tol, floor) if tol > 0 else tol

    timings = {"extract": 0.0, "power": 0.0, "deflate": 0.0, "refine": 0.0}
    start = time.perf_counter()
    grouped = xp.permute_dims(T, groups.axes)
    M1 = _compressed(xp, grouped, first)
    U1, s1, V1 = _svd(xp, M1)
    spectrum = s1
    magnitude = to_host(s1).astype(np.float64)
    if float(np.sum(magnitude)) == 0.0:
        raise ValueError("`T` is zero: it has no CP decomposition to find.")
    estimated = rank is None
    if estimated:
        rank = int(np.sum(magnitude > rank_tol * np.sum(magnitude**2) / np.sum(magnitude)))
        if rank > limit:
            raise ValueError(
                f"`rank` must be at most {limit} (the admissible rank); the flattening's "
                f"singular values suggest rank={rank} (a noisy tensor fills the spectrum: "
                f"pass `rank`).")
    U1, V1 = U1[:, :rank], V1[:, :rank]
    U1_full = U1
    K_full = 1.0 / s1[:rank]
    K = xp.eye(rank, dtype=T.dtype) * K_full[:, None]          # r x k (V1 coords x U1 coords)
    extras = [(_Sweeper(xp, flat, U1), _svd(xp, _compressed(xp, grouped, flat))[0][:, :rank],
               new) for flat, new in flattenings[1:]]
    timings["extract"] = time.perf_counter() - start

    sweep1, free1 = _Sweeper(xp, first, U1), flattenings[0][1]
    options = dict(maxiter=maxiter, tol=tol, accept_tol=accept_tol)
    components = ComponentLog(maxiter=maxiter, callback=callback)
    vectors = []
    for k in range(rank, 0, -1):
        tick = time.perf_counter()
        x, f, its, accepted, rejected = _search(sweep1, U1, {}, free1, groups, rng, U1,
                                                ntries=ntries, options=options)
        for sweeper, basis, new in extras:
            x, f2, its2, ok2, rej2 = _search(sweeper, basis, x, new, groups, rng, U1,
                                             ntries=ntries, options=options)
            f, its, accepted, rejected = min(f, f2), its + its2, accepted and ok2, rejected + rej2
        tock = time.perf_counter()
        timings["power"] += tock - tick
        alpha = U1_full.T @ _kron(xp, [_phi(xp, x[g], t, U1) for g, t in
                                       enumerate(first.row_tables)])
        beta = V1.T @ _kron(xp, [_phi(xp, x[g], t, U1) for g, t in
                                 enumerate(first.col_tables)])
        norms = float(xp.linalg.vector_norm(alpha)) * float(xp.linalg.vector_norm(beta))
        weight = norms / float(xp.sum(beta * K_full * alpha))
        if k > 1:
            w, c = _householder(xp, K.T @ beta)
            U1 = U1[:, :-1] - c * (U1 @ w)[:, None] * w[None, :-1]
            K = K[:, :-1] - c * (K @ w)[:, None] * w[None, :-1]
        timings["deflate"] += time.perf_counter() - tock
        vectors.append([x[g] for g in range(len(groups))])
        if components.add(weight, vectors[-1], iterations=its, objective=f,
                          accepted=accepted, rejected=rejected, n_iter=its):
            break

    factors, weights, permutation = _canonical(xp, groups, vectors,
                                               np.asarray(components.weights))
    message = components.finish("multi_subspace_power_method", rank=rank, ntries=ntries,
                                accept_tol=accept_tol)
    like = factors[0]
    return CPResult(
        weights=from_host(xp, weights, like, dtype=like.dtype), factors=factors,
        rank=len(vectors), rank_estimated=estimated, order=T.ndim, symmetry=groups.labels,
        spectrum=spectrum, converged=components.log.converged, n_iter=components.n_iter,
        n_restarts=components.n_restarts, timings=timings,
        history=components.history(permutation), refinement=None, message=message)


def _compressed(xp, grouped, flat):
    """The compressed flattening of the grouped tensor."""
    row_pos, col_pos, row_scale, col_scale = flat.positions(tuple(grouped.shape))
    values = xp.take(xp.reshape(grouped, (-1,)),
                     from_host(xp, (row_pos[:, None] + col_pos[None, :]).ravel(), grouped),
                     axis=0)
    M = xp.reshape(values, (row_pos.size, col_pos.size))
    rs = from_host(xp, row_scale, grouped, dtype=grouped.dtype)
    cs = from_host(xp, col_scale, grouped, dtype=grouped.dtype)
    return rs[:, None] * M * cs[None, :]


def _canonical(xp, groups, vectors, weights):
    """Per-mode factor matrices with each group's columns sign-fixed (largest entry
    positive, the sign moved to the weight; then, if some group has odd multiplicity,
    the first such group takes the sign of a negative weight) and components by
    decreasing |weight|."""
    weights = weights.astype(np.float64).copy()
    per_group = []
    for g in range(len(groups)):
        X = xp.stack([v[g] for v in vectors], axis=1)
        host = to_host(X)
        signs = np.sign(host[np.argmax(np.abs(host), axis=0), np.arange(host.shape[1])])
        signs[signs == 0] = 1.0
        weights *= signs ** groups.mults[g]
        per_group.append(X * from_host(xp, signs, X, dtype=X.dtype)[None, :])
    odd = [g for g in range(len(groups)) if groups.mults[g] % 2]
    if odd:  # a group of odd multiplicity takes the weight's sign
        signs = np.where(weights < 0, -1.0, 1.0)
        weights *= signs
        X = per_group[odd[0]]
        per_group[odd[0]] = X * from_host(xp, signs, X, dtype=X.dtype)[None, :]
    permutation = np.argsort(-np.abs(weights), kind="stable")
    order = None
    factors = []
    for g_of_mode in groups.labels:
        X = per_group[g_of_mode]
        order = from_host(xp, permutation, X) if order is None else order
        factors.append(xp.take(X, order, axis=1))
    return factors, weights[permutation], permutation
