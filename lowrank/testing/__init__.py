"""Generators of structured test problems and checks for randomized linear algebra.

Used by :mod:`lowrank`'s own tests and offered to users who write property-based tests
of randomized algorithms:

- :func:`low_rank_matrix`: a rank-k matrix with a chosen spectrum and row coherence;
- :func:`lstsq_problem`: an ill-conditioned least-squares problem with a known solution;
- :func:`sparse_corruption`: a sparse matrix of outliers;
- :func:`observation_mask`: uniformly sampled entries for matrix completion;
- :func:`graded_spd_matrix`: a symmetric positive definite ``D B D`` with graded scales;
- :func:`symmetric_cp_problem`, :func:`cp_problem`: low-rank tensors (symmetric, partially
  symmetric or asymmetric) with their planted decomposition; :func:`symmetric_noise`:
  a symmetrized Gaussian tensor of unit Frobenius norm; :func:`factor_match_score`: the
  factor cosines after optimal matching;
- :mod:`lowrank.testing.strategies`: hypothesis strategies built on these (imported only
  when used, so hypothesis stays a test-time dependency);
- :func:`assert_orthonormal`, :func:`adjoint_test`: checks.
"""


import numpy as np

from .._result import Result
from .._rng import check_rng
from .._validation import check_dtype_arg, check_int, check_option, check_real, check_shape
from ..tensor import cp_tensor, symmetric_tensor, symmetrize

__all__ = [
    "CPProblem",
    "LstsqProblem",
    "adjoint_test",
    "assert_orthonormal",
    "coherence",
    "cp_problem",
    "factor_match_score",
    "graded_spd_matrix",
    "low_rank_matrix",
    "lstsq_problem",
    "observation_mask",
    "orthonormal_matrix",
    "sparse_corruption",
    "symmetric_cp_problem",
    "symmetric_noise",
]


def orthonormal_matrix(n, k, *, rng=None, dtype=np.float64):
    """A Haar-distributed n x k matrix with orthonormal columns (``k <= n``).

    Examples
    --------
    >>> from lowrank.testing import orthonormal_matrix, assert_orthonormal
    >>> assert_orthonormal(orthonormal_matrix(50, 4, rng=0))
    """
    n = check_int(n, "n", low=1)
    k = check_int(k, "k", low=1, high=n)
    rng = check_rng(rng)
    Q, R = np.linalg.qr(rng.standard_normal((n, k)))
    Q *= np.sign(np.diag(R))  # sign fix makes the distribution Haar
    return Q.astype(check_dtype_arg(dtype) or np.float64)


def coherence(U) -> float:
    """Coherence mu(U) = (n / k) max_i ||P_U e_i||^2 of the column space of ``U`` (n x k).

    Ranges from 1 (incoherent) to n / k (a coordinate vector in the span).
    """
    Q = np.linalg.qr(np.asarray(U, dtype=np.float64))[0]
    n, k = Q.shape
    return float(n / k * np.max(np.sum(Q * Q, axis=1)))


def _basis_with_coherence(n, k, target, rng):
    """Orthonormal n x k basis whose coherence is close to ``target`` (bisection on a mix
    of a Haar basis and the first k coordinate vectors)."""
    haar = orthonormal_matrix(n, k, rng=rng)
    if target is None or target <= coherence(haar):
        return haar
    spike = np.zeros((n, k))
    spike[np.arange(k), np.arange(k)] = 1.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        t = 0.5 * (lo + hi)
        if coherence((1 - t) * haar + t * spike) < target:
            lo = t
        else:
            hi = t
    return np.linalg.qr((1 - hi) * haar + hi * spike)[0]


def low_rank_matrix(shape, rank, *, singular_values=None, cond=None, coherence=None,
                    rng=None, dtype=np.float64):
    """A rank-``rank`` matrix ``U diag(s) V^T`` with a chosen spectrum and coherence.

    Parameters
    ----------
    shape : (int, int)
        Shape (m, n).
    rank : int
        Rank k, ``1 <= k <= min(m, n)``.
    singular_values : array_like of length k, optional
        The nonzero singular values.  Default: geometric from 1 to ``1/cond`` (all ones
        when ``cond`` is None).
    cond : float, optional
        Ratio of the largest to the smallest nonzero singular value (>= 1).
    coherence : float, optional
        Target coherence of both singular subspaces, in ``[1, min(m, n)/k]``; default a
        Haar-random subspace.  A Haar subspace already has coherence about
        ``1 + O(sqrt(log(n) / k))`` above 1; targets below that value give the Haar
        subspace (coherence is raised by mixing in coordinate vectors, never lowered).
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.
    dtype : float32 or float64

    Returns
    -------
    ndarray of shape ``shape``

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.testing import low_rank_matrix
    >>> M = low_rank_matrix((30, 20), 3, cond=10.0, rng=0)
    >>> int(np.linalg.matrix_rank(M))
    3
    """
    m, n = check_shape(shape)
    k = check_int(rank, "rank", low=1, high=min(m, n))
    rng = check_rng(rng)
    if singular_values is not None and cond is not None:
        raise ValueError("give at most one of `singular_values` and `cond`.")
    if singular_values is None:
        c = 1.0 if cond is None else check_real(cond, "cond", low=1.0)
        s = np.geomspace(1.0, 1.0 / c, k)
    else:
        s = np.asarray(singular_values, dtype=np.float64)
        if s.shape != (k,) or np.any(s < 0) or not np.all(np.isfinite(s)):
            raise ValueError(f"`singular_values` must be {k} finite non-negative numbers; "
                             f"got {singular_values!r}.")
    if coherence is not None:
        coherence = check_real(coherence, "coherence", low=1.0, high=min(m, n) / k)
    U = _basis_with_coherence(m, k, coherence, rng)
    V = _basis_with_coherence(n, k, coherence, rng)
    return ((U * s) @ V.T).astype(check_dtype_arg(dtype) or np.float64)


class LstsqProblem(Result):
    """A least-squares problem ``min ||A x - b||`` with its exact solution.

    Attributes
    ----------
    A : ndarray (n, d)
    b : ndarray (n,)
    x : ndarray (d,)
        The exact minimizer (up to the rounding of forming ``A`` and ``b``).
    residual : ndarray (n,)
        ``b - A x``, orthogonal to the range of ``A``.
    cond : float
        Condition number of ``A``.
    """

    A: np.ndarray
    b: np.ndarray
    x: np.ndarray
    residual: np.ndarray
    cond: float


def lstsq_problem(n, d, *, cond=1e8, residual_norm=1e-2, spectrum="geometric",
                  coherence=None, rng=None, dtype=np.float64):
    """An n x d least-squares problem with condition number ``cond`` and known solution.

    ``A = U diag(s) V^T`` with Haar (or coherent) ``U``, ``V``; the solution ``x`` is a
    random unit vector and ``b = A x + r`` with ``r`` orthogonal to range(A) and
    ``||r|| = residual_norm * ||A x||`` (``r = 0`` when ``n == d``).

    Parameters
    ----------
    n, d : int
        Shape, ``n >= d``.
    cond : float
        Condition number (>= 1).
    residual_norm : float
        Size of the residual relative to ``||A x||`` (>= 0).
    spectrum : {"geometric", "linear"}
        Spacing of the singular values between 1 and ``1/cond``.
    coherence : float, optional
        Target coherence of the column space (default Haar, incoherent).
    rng : None, int, SeedSequence, BitGenerator or Generator
    dtype : float32 or float64

    Returns
    -------
    LstsqProblem

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.testing import lstsq_problem
    >>> P = lstsq_problem(200, 5, cond=1e4, rng=0)
    >>> bool(np.allclose(np.linalg.lstsq(P.A, P.b, rcond=None)[0], P.x))
    True
    """
    n = check_int(n, "n", low=1)
    d = check_int(d, "d", low=1, high=n)
    cond = check_real(cond, "cond", low=1.0)
    residual_norm = check_real(residual_norm, "residual_norm", low=0.0)
    check_option(spectrum, "spectrum", ("geometric", "linear"))
    rng = check_rng(rng)
    dtype = check_dtype_arg(dtype) or np.dtype(np.float64)
    s = (np.geomspace(1.0, 1.0 / cond, d) if spectrum == "geometric"
         else np.linspace(1.0, 1.0 / cond, d))
    if coherence is not None:
        coherence = check_real(coherence, "coherence", low=1.0, high=n / d)
    U = _basis_with_coherence(n, d, coherence, rng) if n > d else orthonormal_matrix(n, d,
                                                                                    rng=rng)
    V = orthonormal_matrix(d, d, rng=rng)
    A = ((U * s) @ V.T).astype(dtype)
    x = rng.standard_normal(d)
    x /= np.linalg.norm(x)
    Ax = A.astype(np.float64) @ x
    if n == d:  # a square A has no residual space: the system is consistent
        r = np.zeros(n)
    else:
        g = rng.standard_normal(n)
        r = g - U @ (U.T @ g)
        r *= residual_norm * np.linalg.norm(Ax) / np.linalg.norm(r)
    b = (Ax + r).astype(dtype)
    return LstsqProblem(A=A, b=b, x=x.astype(dtype), residual=r.astype(dtype), cond=cond)


def sparse_corruption(shape, fraction, *, magnitude=1.0, rng=None, dtype=np.float64):
    """A dense matrix with ``round(fraction * size)`` nonzero outliers at random positions.

    Outlier values are uniform in ``[-magnitude, magnitude]``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.testing import sparse_corruption
    >>> int(np.count_nonzero(sparse_corruption((10, 10), 0.1, rng=0)))
    10
    """
    m, n = check_shape(shape)
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0)
    magnitude = check_real(magnitude, "magnitude", low=0.0, low_open=True)
    rng = check_rng(rng)
    count = round(fraction * m * n)
    out = np.zeros(m * n, dtype=check_dtype_arg(dtype) or np.float64)
    where = rng.choice(m * n, size=count, replace=False)
    values = rng.uniform(-magnitude, magnitude, size=count)
    values[values == 0] = magnitude
    out[where] = values
    return out.reshape(m, n)


def observation_mask(shape, n_observed, *, rng=None):
    """A boolean mask with ``n_observed`` entries drawn uniformly without replacement.

    Examples
    --------
    >>> from lowrank.testing import observation_mask
    >>> int(observation_mask((5, 4), 7, rng=0).sum())
    7
    """
    m, n = check_shape(shape)
    n_observed = check_int(n_observed, "n_observed", low=0, high=m * n)
    rng = check_rng(rng)
    mask = np.zeros(m * n, dtype=bool)
    mask[rng.choice(m * n, size=n_observed, replace=False)] = True
    return mask.reshape(m, n)


def graded_spd_matrix(n, *, grading=1e-8, cond=10.0, rng=None, dtype=np.float64):
    """A graded symmetric positive definite matrix ``A = D B D``.

    ``B`` is SPD with condition number ``cond`` (Haar eigenvectors, geometric spectrum)
    and ``D = diag(d)`` with ``d`` geometric from 1 to ``grading``, so ``cond(A)`` is
    about ``cond / grading**2`` while ``A`` is determined to high *relative* accuracy by
    its entries: the test matrices on which Jacobi methods are far more accurate than
    QR-based eigensolvers (Demmel and Veselic 1992).

    Parameters
    ----------
    n : int
        Order, ``n >= 1``.
    grading : float
        The smallest scale, ``0 < grading <= 1``.
    cond : float
        Condition number of ``B``, ``>= 1``.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.
    dtype : float32 or float64

    Returns
    -------
    ndarray (n, n)
        Exactly symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.testing import graded_spd_matrix
    >>> A = graded_spd_matrix(6, grading=1e-6, rng=0)
    >>> bool(np.all(A == A.T)), bool(np.all(np.linalg.eigvalsh(A) > 0))
    (True, True)
    """
    n = check_int(n, "n", low=1)
    grading = check_real(grading, "grading", low=0.0, high=1.0, low_open=True)
    cond = check_real(cond, "cond", low=1.0)
    rng = check_rng(rng)
    Q = orthonormal_matrix(n, n, rng=rng)
    B = (Q * np.geomspace(1.0, 1.0 / cond, n)) @ Q.T
    d = np.geomspace(1.0, grading, n)
    A = d[:, None] * B * d[None, :]
    A = (A + A.T) / 2
    return A.astype(check_dtype_arg(dtype) or np.float64)


def assert_orthonormal(Q, *, atol=None):
    """Assert that the columns of ``Q`` are orthonormal: ``||Q^T Q - I||_max <= atol``.

    The default tolerance is ``100 * n * eps`` for the dtype of ``Q``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.testing import assert_orthonormal
    >>> assert_orthonormal(np.eye(4)[:, :2])
    """
    Q = np.asarray(Q)
    if Q.ndim != 2:
        raise ValueError(f"`Q` must be 2-D; got shape {Q.shape}.")
    eps = np.finfo(Q.dtype if Q.dtype.kind == "f" else np.float64).eps
    tol = 100 * max(Q.shape) * eps if atol is None else atol
    err = np.max(np.abs(Q.T @ Q - np.eye(Q.shape[1])))
    if not err <= tol:
        raise AssertionError(f"columns are not orthonormal: max |Q^T Q - I| = {err:.3e} > "
                             f"{tol:.3e}")


def adjoint_test(op, *, n_trials=3, rtol=None, rng=None, dtype=np.float64):
    """Check ``<y, op @ x> == <op.T @ y, x>`` for random ``x``, ``y``; return the worst
    relative mismatch (AssertionError when above ``rtol``).

    ``op`` is any object with ``shape``, ``op @ x`` and ``op.T @ y`` (a sketch operator,
    a SciPy ``LinearOperator``-like object with ``.T``).  The mismatch is
    ``|<y, op x> - <op^T y, x>| / (||op x|| ||y|| + ||op^T y|| ||x||)``; the default
    ``rtol`` is ``1000 * eps``.

    Examples
    --------
    >>> from lowrank.sketch import GaussianSketch
    >>> from lowrank.testing import adjoint_test
    >>> adjoint_test(GaussianSketch(10, 50, rng=0)) < 1e-12
    True
    """
    rng = check_rng(rng)
    m, n = op.shape
    dtype = np.dtype(dtype)
    tol = 1000 * np.finfo(dtype).eps if rtol is None else rtol
    worst = 0.0
    for _ in range(check_int(n_trials, "n_trials", low=1)):
        x = rng.standard_normal(n).astype(dtype)
        y = rng.standard_normal(m).astype(dtype)
        ax = np.asarray(op @ x, dtype=np.float64)
        aty = np.asarray(op.T @ y, dtype=np.float64)
        lhs = float(y.astype(np.float64) @ ax)
        rhs = float(aty @ x.astype(np.float64))
        scale = (np.linalg.norm(ax) * np.linalg.norm(y)
                 + np.linalg.norm(aty) * np.linalg.norm(x))
        worst = max(worst, abs(lhs - rhs) / scale if scale > 0 else abs(lhs - rhs))
    if not worst <= tol:
        raise AssertionError(f"adjoint test failed: relative mismatch {worst:.3e} > {tol:.3e}")
    return float(worst)


class CPProblem(Result):
    """A tensor with a planted CP decomposition ``sum_i weights[i] (x)_mode A_mode[:, i]``.

    Attributes
    ----------
    tensor : ndarray
        The dense tensor.
    weights : ndarray (rank,)
    factors : ndarray (d, rank) or list of ndarray
        Unit-norm columns: one matrix for a symmetric tensor, else one per mode (modes of
        one symmetry group share the same array).
    symmetry : tuple of int
        The group of each mode.
    """

    tensor: np.ndarray
    weights: np.ndarray
    factors: object
    symmetry: tuple


def _unit_columns(A):
    return A / np.linalg.norm(A, axis=0)[None, :]


def _draw_weights(weights, rank, rng):
    if isinstance(weights, str):
        check_option(weights, "weights", ("ones", "signed", "exp"))
        if weights == "ones":
            return np.ones(rank)
        if weights == "signed":  # magnitudes in [0.5, 1.5], random signs
            return rng.choice([-1.0, 1.0], rank) * rng.uniform(0.5, 1.5, rank)
        return np.exp(rng.uniform(-1.0, 1.0, rank))
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (rank,):
        raise ValueError(f"`weights` must have shape ({rank},); got {weights.shape}.")
    return weights


def symmetric_cp_problem(d, rank, order, *, weights="ones", correlated=False, rng=None,
                         dtype=np.float64):
    """A symmetric tensor ``sum_i weights[i] a_i^{(x) order}`` with known factors.

    Parameters
    ----------
    d, rank, order : int
        Side, number of components and order (``>= 2``).
    weights : {"ones", "signed", "exp"} or array (rank,), default "ones"
        ``"ones"``: weight 1 on the drawn (not normalized) factors, as in the SPM
        papers' figures, so the returned weights are ``||a_i||^order``.  Otherwise the
        weights of the unit-norm factors: random signs with magnitudes in
        ``[0.5, 1.5]`` (``"signed"``: bounded away from 0, so the rank is well
        defined), ``exp(U[-1, 1])`` (``"exp"``, the MSPM paper), or given.
    correlated : bool, default False
        Draw ``a_i ~ (N(0, I) + 1) / sqrt(d)`` (pairwise correlated, the SPM noise
        figures) instead of ``N(0, I) / sqrt(d)``.
    rng, dtype
        Seed and float dtype of the tensor.

    Returns
    -------
    CPProblem
        ``factors`` has unit columns.

    Examples
    --------
    >>> from lowrank.testing import symmetric_cp_problem
    >>> p = symmetric_cp_problem(5, 3, 4, rng=0)
    >>> p.tensor.shape, p.factors.shape
    ((5, 5, 5, 5), (5, 3))
    """
    d = check_int(d, "d", low=1)
    rank = check_int(rank, "rank", low=1)
    order = check_int(order, "order", low=2)
    dtype = check_dtype_arg(dtype) or np.float64
    rng = check_rng(rng)
    A = rng.standard_normal((d, rank))
    if correlated:
        A = A + 1.0
    A /= np.sqrt(d)
    norms = np.linalg.norm(A, axis=0)
    w = _draw_weights(weights, rank, rng)
    if isinstance(weights, str) and weights == "ones":
        w = w * norms**order
    A = A / norms[None, :]
    T = symmetric_tensor(w, A, order).astype(dtype)
    return CPProblem(tensor=T, weights=w, factors=A, symmetry=(0,) * order)


def cp_problem(shape, rank, *, symmetry=None, weights="exp", rng=None, dtype=np.float64):
    """A tensor of any symmetry with a planted CP decomposition.

    Parameters
    ----------
    shape : tuple of int
        The tensor's shape; modes in one symmetry group must have equal sides.
    rank : int
    symmetry : sequence, optional
        One group label per mode (``None``: every mode its own group).
    weights : {"exp", "ones", "signed"} or array, default "exp"
        As in :func:`symmetric_cp_problem` (``"exp"``: ``exp(U[-1, 1])``, the MSPM
        paper's choice).
    rng, dtype
        Seed and float dtype.

    Returns
    -------
    CPProblem
        Unit Gaussian factors, one list entry per mode.

    Examples
    --------
    >>> from lowrank.testing import cp_problem
    >>> p = cp_problem((4, 4, 3), 2, symmetry=(0, 0, 1), rng=0)
    >>> p.factors[0] is p.factors[1], p.tensor.shape
    (True, (4, 4, 3))
    """
    shape = tuple(check_int(s, "shape", low=1) for s in shape)
    rank = check_int(rank, "rank", low=1)
    labels = tuple(range(len(shape))) if symmetry is None else tuple(symmetry)
    if len(labels) != len(shape):
        raise ValueError(f"`symmetry` must have one label per mode ({len(shape)}); got "
                         f"{labels!r}.")
    dtype = check_dtype_arg(dtype) or np.float64
    rng = check_rng(rng)
    by_label = {}
    factors = []
    for side, label in zip(shape, labels, strict=True):
        if label not in by_label:
            by_label[label] = _unit_columns(rng.standard_normal((side, rank)))
        elif by_label[label].shape[0] != side:
            raise ValueError(f"`symmetry` groups modes of different sides; got shape {shape} "
                             f"and symmetry {labels}.")
        factors.append(by_label[label])
    w = _draw_weights(weights, rank, rng)
    T = cp_tensor(w, factors).astype(dtype)
    first = {}
    normalized = tuple(first.setdefault(label, len(first)) for label in labels)
    return CPProblem(tensor=T, weights=w, factors=factors, symmetry=normalized)


def symmetric_noise(d, order, *, rng=None, dtype=np.float64):
    """A symmetric Gaussian tensor of unit Frobenius norm: an i.i.d. Gaussian tensor of
    the given ``order``, symmetrized over all permutations of its modes, then scaled.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.testing import symmetric_noise
    >>> N = symmetric_noise(4, 3, rng=0)
    >>> round(float(np.linalg.norm(N)), 12), bool(np.allclose(N, N.transpose(2, 0, 1)))
    (1.0, True)
    """
    d = check_int(d, "d", low=1)
    order = check_int(order, "order", low=1)
    dtype = check_dtype_arg(dtype) or np.float64
    rng = check_rng(rng)
    N = symmetrize(rng.standard_normal((d,) * order))
    return (N / np.linalg.norm(N)).astype(dtype)


def factor_match_score(true, estimate):
    """Mean absolute cosine between matched columns of two factor matrices.

    Columns are matched one to one by maximizing the total ``|cos|``
    (:func:`scipy.optimize.linear_sum_assignment`); for lists of per-mode factors the
    cosines of the modes are multiplied first (so a component counts as found only when
    every mode is).  Missing columns score 0.

    Returns
    -------
    score : float
        In ``[0, 1]``; 1 when the estimate matches the truth up to permutation and sign.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.testing import factor_match_score
    >>> A = np.eye(3)
    >>> factor_match_score(A, -A[:, ::-1])
    1.0
    """
    from scipy.optimize import linear_sum_assignment  # keeps ``import lowrank`` cheap

    trues = list(true) if isinstance(true, (list, tuple)) else [true]
    estimates = list(estimate) if isinstance(estimate, (list, tuple)) else [estimate]
    if len(trues) != len(estimates):
        raise ValueError(f"`true` and `estimate` must have the same number of modes; got "
                         f"{len(trues)} and {len(estimates)}.")
    cosines = None
    for A, B in zip(trues, estimates, strict=True):
        A = _unit_columns(np.asarray(A, dtype=np.float64))
        B = _unit_columns(np.asarray(B, dtype=np.float64))
        c = np.abs(A.T @ B)
        cosines = c if cosines is None else cosines * c
    rows, cols = linear_sum_assignment(-cosines)
    return float(np.sum(cosines[rows, cols]) / cosines.shape[0])
