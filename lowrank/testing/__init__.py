"""Generators of structured test problems and checks for randomized linear algebra.

Used by :mod:`lowrank`'s own tests and offered to users who write property-based tests
of randomized algorithms:

- :func:`low_rank_matrix`: a rank-k matrix with a chosen spectrum and row coherence;
- :func:`lstsq_problem`: an ill-conditioned least-squares problem with a known solution;
- :func:`sparse_corruption`: a sparse matrix of outliers;
- :func:`observation_mask`: uniformly sampled entries for matrix completion;
- :func:`graded_spd_matrix`: a symmetric positive definite ``D B D`` with graded scales;
- :mod:`lowrank.testing.strategies`: hypothesis strategies built on these (imported only
  when used, so hypothesis stays a test-time dependency);
- :func:`assert_orthonormal`, :func:`adjoint_test`: checks.
"""


import numpy as np

from .._result import Result
from .._rng import check_rng
from .._validation import check_dtype_arg, check_int, check_option, check_real, check_shape

__all__ = [
    "LstsqProblem",
    "adjoint_test",
    "assert_orthonormal",
    "coherence",
    "graded_spd_matrix",
    "low_rank_matrix",
    "lstsq_problem",
    "observation_mask",
    "orthonormal_matrix",
    "sparse_corruption",
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
