"""Least squares with an l_inf (coordinate-wise) guarantee by dense sketch-and-solve."""

import math
import warnings

from .._backend import norm
from .._result import Result
from .._rng import check_rng
from .._validation import check_int, check_matrix, check_option, check_real, check_vector
from ..exceptions import LowrankWarning
from ..sketch import SKETCH_KINDS
from ._lstsq import _common_dtype, _direct, _sketch_and_solve

__all__ = ["LinfLstsqResult", "linf_lstsq", "linf_sketch_size"]

# Above this fraction of n rows a sketch costs more than the direct solve it replaces.
_DIRECT_FRACTION = 0.5

_GUARANTEE = {"gaussian": "proven", "srht": "conjectured", "rademacher": "conjectured",
              "sparse_sign": "none", "countsketch": "none"}


class LinfLstsqResult(Result):
    """Result of :func:`linf_lstsq`.

    With probability at least ``1 - delta`` (``guarantee == "proven"``),

        ``||x - x*||_inf <= eps / sqrt(d) * ||A x* - b|| * ||A^+||``

    where ``x*`` is the exact least-squares solution.

    Attributes
    ----------
    x : array (d,)
        The sketch-and-solve solution.
    sketch : str
        The sketch family used (``"exact"`` when the sketch would not be smaller than A).
    sketch_size : int
        Rows of the sketch (``n`` for an exact solve).
    eps : float
        The accuracy the sketch size guarantees for the Gaussian proof (``inf`` when the
        sketch is too small for the bound); for other sketches the same number is
        reported as the Gaussian-equivalent value.
    delta : float
        Failure probability of the guarantee.
    bound_factor : float
        ``eps / sqrt(d)``: the coefficient of ``||r|| ||A^+||`` in the bound.
    guarantee : str
        ``"proven"`` (Gaussian), ``"conjectured"`` (SRHT, Rademacher: empirical support
        only), ``"none"`` (sparse sketches; counterexamples exist) or ``"exact"``.
    residual_norm : float
        ``||A x - b||``.
    message : str
        How ``x`` was computed; says why when the problem was solved directly.
    """

    x: object
    sketch: str
    sketch_size: int
    eps: float
    delta: float
    bound_factor: float
    guarantee: str
    residual_norm: float
    message: str = ""


def linf_sketch_size(d, eps=0.1, delta=0.01) -> int:
    """Gaussian sketch rows that give the l_inf guarantee with accuracy ``eps``.

    ``m = ceil((sqrt(d) + sqrt(2 ln(2/delta)) + sqrt(2 d ln(4 d/delta)) / eps)^2)``:
    the closed form of the bound in :func:`linf_lstsq`'s Notes set equal to ``eps``.

    Examples
    --------
    >>> from lowrank.regression import linf_sketch_size
    >>> linf_sketch_size(10, eps=0.5, delta=0.01)
    1036
    """
    d = check_int(d, "d", low=1)
    eps = check_real(eps, "eps", low=0.0, low_open=True)
    delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    root = (math.sqrt(d) + math.sqrt(2 * math.log(2 / delta))
            + math.sqrt(2 * d * math.log(4 * d / delta)) / eps)
    return math.ceil(root**2)


def _guaranteed_eps(d, m, delta):
    """Smallest eps the Gaussian bound certifies for an m-row sketch (inf if none)."""
    denom = 1.0 - math.sqrt(d / m) - math.sqrt(2 * math.log(2 / delta) / m)
    if denom <= 0:
        return math.inf
    return math.sqrt(2 * d * math.log(4 * d / delta)) / (math.sqrt(m) * denom)


def linf_lstsq(A, b, *, eps=0.1, delta=0.01, sketch="gaussian", sketch_size=None, rng=None,
               check_finite=True) -> LinfLstsqResult:
    """Least squares with a coordinate-wise error guarantee by dense sketch-and-solve.

    Returns ``x = argmin ||S (A x - b)||`` for a dense sketch S with enough rows that,
    with probability ``1 - delta``,
    ``||x - x*||_inf <= (eps / sqrt(d)) ||A x* - b|| ||A^+||``.

    Parameters
    ----------
    A : (n, d) array or sparse matrix
        Full column rank data, ``n >= d``.
    b : (n,) array
        Right-hand side.
    eps : float, default 0.1
        Target accuracy (> 0).
    delta : float, default 0.01
        Failure probability, ``0 < delta < 1``.
    sketch : {"gaussian", "srht", "rademacher", "sparse_sign", "countsketch"}
        ``"gaussian"`` carries the proven guarantee; ``"srht"`` and ``"rademacher"`` are
        conjectured (empirical support only); sparse sketches have no l_inf guarantee.
    sketch_size : int, optional
        Rows of the sketch; default :func:`linf_sketch_size` ``(d, eps, delta)``.  When
        it exceeds ``n / 2`` the sketch would cost more than it saves (applying a dense
        m x n sketch costs ``2 m n d`` flops against ``2 n d^2`` for a QR of ``A``), so
        the problem is solved exactly instead, with a
        :class:`~lowrank.exceptions.LowrankWarning`, ``guarantee == "exact"`` and the
        reason in ``message``: the bound then holds trivially.
    rng : None, int, SeedSequence, BitGenerator or Generator
        Source of randomness.
    check_finite : bool, default True
        Reject NaN or inf.

    Returns
    -------
    LinfLstsqResult
        ``x``, the sketch size, the certified ``eps`` and ``bound_factor``, the
        ``guarantee`` label and the residual norm.

    Raises
    ------
    ValueError
        Bad shapes, non-finite data, ``eps <= 0``, ``delta`` outside (0, 1),
        ``sketch_size < d``, unknown ``sketch``.

    Warns
    -----
    LowrankWarning
        When the sketch would have more than ``n / 2`` rows and the problem is solved
        exactly instead.

    Notes
    -----
    Proof for the Gaussian sketch (i.i.d. N(0, 1/m)): with ``A = U Sigma V^T`` and
    ``r = b - A x*`` orthogonal to ``U``, ``X = S U`` and ``y = S r`` are independent, and
    ``e_j^T (x - x*) = c^T (X^T X)^{-1} X^T y`` with ``||c|| <= ||A^+||``.  Given X this
    is Gaussian with variance at most ``||r||^2 ||c||^2 / (m sigma_min(X)^2)``; with
    ``sigma_min(X) >= 1 - sqrt(d/m) - sqrt(2 ln(2/delta)/m)`` (probability
    ``1 - delta/2``) and a union bound over the d coordinates (``delta/(2d)`` each),

        ``||x - x*||_inf <= sqrt(2 ln(4d/delta)) ||r|| ||A^+|| /
        (sqrt(m) (1 - sqrt(d/m) - sqrt(2 ln(2/delta)/m)))``,

    which is ``<= eps ||r|| ||A^+|| / sqrt(d)`` at the default sketch size.  Song, Ye,
    Yin and Zhang (ICML 2023) claim ``m = eps^-2 d log^3(n/delta)`` rows for the SRHT,
    but one step of their proof applies a bound for fixed vectors to a vector that
    depends on the sketch, so for the SRHT (and dense Rademacher) the guarantee is
    reported as conjectured.  Price, Song and Woodruff (ICALP 2017) show that
    CountSketch and leverage-score sampling can miss the l_inf bound by a factor
    ``sqrt(d)`` even when the l2 error is small.

    Cost: O(m n d) to apply a Gaussian sketch (O(n d log n) for the SRHT) plus
    O(m d^2) for the small solve; memory: the m x d sketch plus 8 MiB, since the dense
    sketch is applied in blocks and never held whole.  The guaranteed sketch size grows
    like ``d log(d) / eps^2`` and does not shrink with ``n``, so the method pays off for
    tall problems, ``n`` much larger than ``linf_sketch_size(d, eps)``.

    Backend support: as :func:`lowrank.regression.lstsq`.

    References
    ----------
    .. [1] Z. Song, M. Ye, J. Yin, L. Zhang, "A Nearly-Optimal Bound for Fast Regression
       with l_inf Guarantee", ICML 2023 (arXiv:2302.00248).
    .. [2] E. Price, Z. Song, D. P. Woodruff, "Fast regression with an l_inf guarantee",
       ICALP 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.regression import linf_lstsq
    >>> from lowrank.testing import lstsq_problem
    >>> P = lstsq_problem(20000, 4, cond=10.0, residual_norm=0.5, rng=0)
    >>> res = linf_lstsq(P.A, P.b, eps=0.5, rng=0)
    >>> res.sketch_size, res.guarantee
    (426, 'proven')
    """
    A, xp = check_matrix(A, "A", check_finite=check_finite)
    n, d = A.shape
    b, _ = check_vector(b, "b", n, check_finite=check_finite)
    eps = check_real(eps, "eps", low=0.0, low_open=True)
    delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    check_option(sketch, "sketch", SKETCH_KINDS)
    if n < d:
        raise ValueError(f"`A` must have at least as many rows as columns; got shape "
                         f"{A.shape}.")
    if sketch_size is None:
        sketch_size = linf_sketch_size(d, eps, delta)
    else:
        sketch_size = check_int(sketch_size, "sketch_size", low=d)
    rng = check_rng(rng)
    A, b = _common_dtype(xp, A, b)
    if sketch_size > _DIRECT_FRACTION * n:
        message = (f"solved exactly: the sketch would have {sketch_size} rows, more than "
                   f"half of n = {n}, and cost more than a direct solve (use a taller A or "
                   "a larger eps for a sketch that pays off)")
        warnings.warn(f"linf_lstsq: {message}.", LowrankWarning, stacklevel=2)
        x = _direct(xp, A, b).x
        used, m, guarantee, eps_cert = "exact", n, "exact", 0.0
    else:
        x = _sketch_and_solve(xp, A, b, sketch, sketch_size, rng).x
        used, m, guarantee = sketch, sketch_size, _GUARANTEE[sketch]
        eps_cert = _guaranteed_eps(d, m, delta)
        message = f"{sketch} sketch-and-solve with {m} rows ({guarantee} guarantee)"
    return LinfLstsqResult(x=x, sketch=used, sketch_size=m, eps=eps_cert, delta=delta,
                           bound_factor=eps_cert / math.sqrt(d), guarantee=guarantee,
                           residual_norm=norm(xp, b - A @ x), message=message)

