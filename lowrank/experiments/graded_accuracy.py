"""F11: relative accuracy of eigenvalues and singular values of graded matrices.

Jacobi's method with the relative stopping test ``|g_ij| <= tol sqrt(g_ii g_jj)`` gets
every eigenvalue of a positive definite ``A = D H D`` to a relative accuracy of about
``eps cond(H)``, however wide the grading ``D`` (Demmel-Veselic); LAPACK's tridiagonal
drivers promise only ``eps ||A||`` absolute accuracy (``papers/pivoted_factorizations.md``,
proposed figure F6).  Each seed draws

- (a) ``A = D H D`` with ``H = C^T C`` (``C`` a ``4n x n`` Gaussian) scaled to unit
  diagonal (``cond(H)`` about 9) and ``D = diag(10^(-g i/(n-1)))``, ``i = 0..n-1`` (the
  grading spans exactly ``g`` decades, the eigenvalues ``2 g``);
- (b) ``A = B diag(c)`` with ``B`` a ``2n x n`` Gaussian and ``c = logspace(0, -g, n)``
  (the singular values span ``g`` decades),

for ``g`` in ``{0, 4, 8, 12, 16}``.  The grading is **randomly permuted** (one
permutation per seed; solid lines): a monotone grading flatters LAPACK.  With ``D``
decreasing, ``scipy.linalg.eigh`` (``lower=True``) and ``scipy.linalg.svd`` are nearly as
accurate as Jacobi, while the increasing order, or ``lower=False``, loses every digit
(dotted lines: the decreasing order, SciPy only).  Permuting rows and columns together
(or the columns of ``B``) does not change the eigenvalues (singular values), so one
reference serves both orders.

Methods: :func:`lowrank.factorization.jacobi_eigh` /
:func:`~lowrank.factorization.jacobi_svd` with random and cyclic pivoting (default
``tol``), ``scipy.linalg.eigh`` with its default driver ``evr``, ``lower=True`` and
``lower=False`` (``evd`` returned the same eigenvalues in our runs: without eigenvectors
both end in the same tridiagonal QR), ``scipy.linalg.svd`` (``gesdd``; ``gesvd`` agreed
with it) and LAPACK's preconditioned Jacobi SVD ``scipy.linalg.lapack.dgejsv(a,
joba=0)`` (JOBA = 'C', accurate under column scaling; SciPy's default ``joba=4`` treats
small singular values as noise), whose singular values are ``sva * work[0] / work[1]``.

Error: ``max_k |x_k - x_k^ref| / |x_k^ref|`` against a reference computed by mpmath
(``mpmath.eigsy`` / ``mpmath.svd_r`` at ``mp.dps = 60``) from the same float64 matrix.
mpmath is optional (it comes with the ``test`` extra): without it the errors are NaN and
``data["note"]`` says so.  Lines: the median over the seeds, the band their range; the
gray line is ``eps cond(H)`` (``eps cond(B)``), the scale of Jacobi's error.

``paper`` runs n = 60 with 10 seeds (minutes on 2 cores, mostly mpmath); ``small`` n = 24
with 5 seeds (about 20 s).
"""

import logging
import time

import numpy as np
import scipy.linalg

from .._rng import check_rng, kernel_seed
from .._threads import single_threaded
from .._validation import check_option
from ..factorization import jacobi_eigh, jacobi_svd
from ._common import prepare_figure
from ._tensor_common import band, trial_rng

__all__ = ["MPMATH_MISSING", "dgejsv_singular_values", "graded_problems", "n_steps", "plot",
           "relative_error", "run", "to_rows"]

logger = logging.getLogger(__name__)

FIGURE_ID = "F11"
TITLE = ("factorization: relative eigenvalue / singular value accuracy on graded matrices, "
         "Jacobi vs LAPACK")
#: Size of the figure in inches.
FIGURE_SIZE = (14, 6.2)

EIG_METHODS = ("jacobi_random", "jacobi_cyclic", "evr_lower", "evr_upper")
SVD_METHODS = ("jacobi_random", "jacobi_cyclic", "gesdd", "dgejsv")
ORDERINGS = ("permuted", "decreasing")
LABELS = {"jacobi_random": "jacobi, random pivots", "jacobi_cyclic": "jacobi, cyclic",
          "evr_lower": "scipy eigh (evr), lower=True",
          "evr_upper": "scipy eigh (evr), lower=False",
          "gesdd": "scipy svd (gesdd)", "dgejsv": "LAPACK dgejsv, joba=0"}
COLORS = {"jacobi_random": "tab:blue", "jacobi_cyclic": "tab:cyan",
          "evr_lower": "tab:red", "evr_upper": "tab:orange", "gesdd": "tab:red",
          "dgejsv": "tab:purple"}
MARKERS = {"jacobi_random": "o", "jacobi_cyclic": "s", "evr_lower": "v", "evr_upper": "^",
           "gesdd": "v", "dgejsv": "D"}
#: Decimal digits of the mpmath reference.
DPS = 60
#: The note a run records when mpmath is not installed.
MPMATH_MISSING = ("mpmath is not installed (pip install mpmath): no reference, the errors "
                  "are NaN")
#: No column is timed.
TIMING_COLUMNS = ()

_SCALES = {
    # for the test suite only: seconds
    "tiny": {"n": 8, "seeds": 2, "gradings": (0, 8, 16)},
    # a few seeds at a small n: about 20 s (the mpmath reference dominates)
    "small": {"n": 24, "seeds": 5, "gradings": (0, 4, 8, 12, 16)},
    "paper": {"n": 60, "seeds": 10, "gradings": (0, 4, 8, 12, 16)},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def n_steps(scale="small"):
    """Number of (grading, seed) trials :func:`run` reports.

    Examples
    --------
    >>> from lowrank.experiments.graded_accuracy import n_steps
    >>> n_steps("small"), n_steps("paper")
    (25, 50)
    """
    sizes = _sizes(scale)
    return len(sizes["gradings"]) * sizes["seeds"]


def graded_problems(n, g, rng):
    """``(A_eig, A_svd, perm_eig, perm_svd, cond_H, cond_B)``: the graded matrices of one
    seed with their grading **decreasing** (``D`` and ``c`` from 1 down to ``10^-g``) and
    the permutations that scramble it (``A_eig[p][:, p]``, ``A_svd[:, q]``).

    ``rng`` (a Generator) is consumed in the same order whatever ``g``, so one seed gives
    the same ``H``, ``B`` and permutations at every grading.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.graded_accuracy import graded_problems
    >>> A, M, p, q, kh, kb = graded_problems(5, 8, np.random.default_rng(0))
    >>> float(A[0, 0]), round(float(A[-1, -1]), 20)   # unit diagonal of H, graded
    (1.0, 1e-16)
    >>> M.shape, sorted(p.tolist()) == list(range(5)), 1 < kh < 100
    ((10, 5), True, True)
    """
    C = rng.standard_normal((4 * n, n))
    H = C.T @ C
    d = np.sqrt(np.diag(H))
    H = H / np.outer(d, d)
    np.fill_diagonal(H, 1.0)
    B = rng.standard_normal((2 * n, n))
    perm_eig, perm_svd = rng.permutation(n), rng.permutation(n)
    D = 10.0 ** (-g * np.arange(n) / max(n - 1, 1))
    A_eig = D[:, None] * H * D[None, :]
    A_svd = B * np.logspace(0, -g, n)[None, :]
    return (A_eig, A_svd, perm_eig, perm_svd, float(np.linalg.cond(H)),
            float(np.linalg.cond(B)))


def relative_error(values, reference):
    """``max_k |values_k - reference_k| / |reference_k|`` (both sorted the same way).

    Examples
    --------
    >>> from lowrank.experiments.graded_accuracy import relative_error
    >>> round(relative_error([1.0, 2.5e-10], [1.0, 2e-10]), 12)
    0.25
    """
    values, reference = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    return float(np.max(np.abs(values - reference) / np.abs(reference)))


def dgejsv_singular_values(A):
    """Singular values (descending) of ``A`` by LAPACK ``dgejsv`` with ``joba=0`` (JOBA =
    'C') and no singular vectors: ``sva * work[0] / work[1]`` (``dgejsv`` returns them
    scaled).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.graded_accuracy import dgejsv_singular_values
    >>> A = np.random.default_rng(0).standard_normal((6, 4))
    >>> bool(np.allclose(dgejsv_singular_values(A), np.linalg.svd(A, compute_uv=False)))
    True
    """
    sva, _u, _v, work, _iwork, info = scipy.linalg.lapack.dgejsv(
        np.asfortranarray(A, dtype=np.float64), joba=0, jobu=3, jobv=3)
    if info != 0:
        raise np.linalg.LinAlgError(f"dgejsv failed with info = {info}")
    return np.sort(sva * (work[0] / work[1]))[::-1]


def _load_mpmath():
    try:
        import mpmath
    except ImportError:
        return None
    return mpmath


def _reference(mpmath, A, what):
    """Eigenvalues (ascending) or singular values (descending) of the float64 ``A`` by
    mpmath at :data:`DPS` digits, rounded to float64."""
    if mpmath is None:
        size = A.shape[1]
        return np.full(size, np.nan)
    with mpmath.workdps(DPS):
        M = mpmath.matrix(A.tolist())
        if what == "eig":
            values = mpmath.eigsy(M, eigvals_only=True)
        else:
            values = mpmath.svd_r(M, compute_uv=False)
        out = np.array([float(v) for v in values], dtype=np.float64)
    return np.sort(out) if what == "eig" else np.sort(out)[::-1]


def _eigenvalues(method, A, seed):
    if method == "jacobi_random":
        return jacobi_eigh(A, pivoting="random", rng=seed).eigenvalues
    if method == "jacobi_cyclic":
        return jacobi_eigh(A, pivoting="cyclic").eigenvalues
    return scipy.linalg.eigh(A, lower=method == "evr_lower", eigvals_only=True, driver="evr")


def _singular_values(method, A, seed):
    if method == "jacobi_random":
        return jacobi_svd(A, pivoting="random", rng=seed).s
    if method == "jacobi_cyclic":
        return jacobi_svd(A, pivoting="cyclic").s
    if method == "gesdd":
        return scipy.linalg.svd(A, compute_uv=False, lapack_driver="gesdd")
    return dgejsv_singular_values(A)


def run(scale="small", rng=0, progress=None):
    """Run F11: every method on the graded matrices of every seed and grading.

    Parameters
    ----------
    scale : {"small", "paper"}
        Problem sizes (see the module docstring).
    rng : None, int or numpy.random.Generator
        Seed of the matrices, the permutations and the random pivots.
    progress : callable, optional
        Called with the number of trials done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``n``, ``seeds``, ``gradings``, ``eig_methods``, ``svd_methods``, ``orderings``;
        ``eig_error`` and ``svd_error`` (``methods x orderings x gradings x seeds``: the
        largest relative error); ``cond_H`` and ``cond_B`` (``seeds``); ``smallest_eig``
        and ``smallest_sv`` (``gradings x seeds``, the reference's smallest value);
        ``reference`` (how it was computed) and ``note``.
    """
    sizes = _sizes(scale)
    n, seeds, gradings = sizes["n"], sizes["seeds"], tuple(sizes["gradings"])
    mpmath = _load_mpmath()
    seed = kernel_seed(check_rng(rng))
    eig = np.full((len(EIG_METHODS), len(ORDERINGS), len(gradings), seeds), np.nan)
    svd = np.full((len(SVD_METHODS), len(ORDERINGS), len(gradings), seeds), np.nan)
    cond_H, cond_B = np.empty(seeds), np.empty(seeds)
    smallest_eig, smallest_sv = np.full((len(gradings), seeds), np.nan), np.full(
        (len(gradings), seeds), np.nan)
    start = time.perf_counter()
    with single_threaded():
        for k, g in enumerate(gradings):
            for s in range(seeds):
                A_eig, A_svd, p, q, cond_H[s], cond_B[s] = graded_problems(
                    n, g, trial_rng(seed, s))
                ref_eig = _reference(mpmath, A_eig, "eig")
                ref_sv = _reference(mpmath, A_svd, "svd")
                smallest_eig[k, s], smallest_sv[k, s] = ref_eig[0], ref_sv[-1]
                pivots = kernel_seed(trial_rng(seed, s, k, 1))
                for o, ordering in enumerate(ORDERINGS):
                    A = A_eig[np.ix_(p, p)] if ordering == "permuted" else A_eig
                    M = A_svd[:, q] if ordering == "permuted" else A_svd
                    for j, method in enumerate(EIG_METHODS):
                        eig[j, o, k, s] = relative_error(_eigenvalues(method, A, pivots),
                                                         ref_eig)
                    for j, method in enumerate(SVD_METHODS):
                        svd[j, o, k, s] = relative_error(_singular_values(method, M, pivots),
                                                         ref_sv)
                if progress is not None:
                    progress(1)
    logger.info("F11 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {"figure": FIGURE_ID, "scale": scale, "n": n, "seeds": seeds,
            "gradings": np.asarray(gradings, dtype=float), "eig_methods": list(EIG_METHODS),
            "svd_methods": list(SVD_METHODS), "orderings": list(ORDERINGS),
            "eig_error": eig, "svd_error": svd, "cond_H": cond_H, "cond_B": cond_B,
            "smallest_eig": smallest_eig, "smallest_sv": smallest_sv,
            "reference": "" if mpmath is None else f"mpmath {mpmath.__version__}, "
                                                   f"mp.dps = {DPS}",
            "note": MPMATH_MISSING if mpmath is None else ""}


def to_rows(data):
    """One CSV row per (problem, method, ordering, grading): the median, smallest and
    largest of the seeds' largest relative errors."""
    rows = []
    for problem, methods, key in (("eig", data["eig_methods"], "eig_error"),
                                  ("svd", data["svd_methods"], "svd_error")):
        for j, method in enumerate(methods):
            for o, ordering in enumerate(data["orderings"]):
                for k, g in enumerate(data["gradings"]):
                    errors = data[key][j, o, k]
                    mid, lo, hi = band(errors, low=0.0, high=1.0)
                    rows.append({"problem": problem, "method": method, "ordering": ordering,
                                 "n": data["n"], "g": float(g), "seeds": errors.size,
                                 "max_rel_error_median": float(mid),
                                 "max_rel_error_min": float(lo),
                                 "max_rel_error_max": float(hi)})
    return rows


def plot(data, *, fig=None):
    """Draw F11: the largest relative error against the grading ``g``, (a) eigenvalues,
    (b) singular values.

    Parameters
    ----------
    data : dict
        The output of :func:`run`.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into; a new one (no pyplot state) by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = prepare_figure(fig, FIGURE_SIZE)
    axes = fig.subplots(1, 2, squeeze=False)[0]
    g = np.asarray(data["gradings"], dtype=float)
    eps = float(np.finfo(np.float64).eps)
    panels = (("eig", data["eig_methods"], "eig_error", data["cond_H"],
               f"(a) eigenvalues of D H D, n = {data['n']}", "ε·cond(H)"),
              ("svd", data["svd_methods"], "svd_error", data["cond_B"],
               f"(b) singular values of B·diag(c), {2 * data['n']} × {data['n']}",
               "ε·cond(B)"))
    permuted, monotone = data["orderings"].index("permuted"), data["orderings"].index(
        "decreasing")
    for ax, (_, methods, key, cond, title, guide) in zip(axes, panels, strict=True):
        for j, method in enumerate(methods):
            color, marker = COLORS.get(method), MARKERS.get(method, "o")
            mid, lo, hi = band(data[key][j, permuted], low=0.0, high=1.0)
            ax.plot(g, mid, color=color, marker=marker, lw=1.6,
                    label=LABELS.get(method, method) + " (permuted)")
            ax.fill_between(g, lo, hi, color=color, alpha=0.12, lw=0)
            if not method.startswith("jacobi"):
                ax.plot(g, band(data[key][j, monotone], low=0.0, high=1.0)[0], color=color,
                        ls=":", marker=marker, mfc="none", lw=1.2,
                        label=LABELS.get(method, method) + " (decreasing grading)")
        ax.axhline(eps * float(np.median(cond)), color="0.5", ls="-.", lw=1,
                   label=f"{guide} (median)")
        ax.set_yscale("log")
        ax.set_xticks(g)
        ax.grid(True, which="major", alpha=0.3)
        ax.set_xlabel("grading g (decades of D, or of c)")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
        if data.get("note"):
            ax.text(0.97, 0.03, data["note"], transform=ax.transAxes, ha="right",
                    va="bottom", fontsize=8,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    axes[0].set_ylabel("max_k |x̂_k − x_k| / |x_k|  (median over seeds, band: range)")
    fig.suptitle(f"F11: relative accuracy on graded matrices, grading randomly permuted "
                 f"(dotted: decreasing, which flatters LAPACK); {data['seeds']} seeds, "
                 f"reference: {data['reference'] or 'none'}", fontsize=10.5)
    return fig
