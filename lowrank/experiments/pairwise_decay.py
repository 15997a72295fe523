"""F10: off-diagonal decay per step of the pairwise factorizations, by pivoting rule.

The four factorizations of :mod:`lowrank.factorization` are one pairwise procedure
(``papers/pivoted_factorizations.md``, proposed figure F5): pick a pair ``i < j`` and
apply the 2 x 2 rotation or elimination that zeroes the Gram entry ``g_ij``.  Each seed
draws one Wishart problem, ``B`` a ``2n x n`` Gaussian, and runs all four on the **same**
Gram matrix ``G = B^T B``:

- (a) eigendecomposition, two-sided rotations on ``M = B^T B``
  (:func:`~lowrank.factorization.jacobi_eigh`);
- (b) SVD, one-sided rotations on the columns of ``B``
  (:func:`~lowrank.factorization.jacobi_svd`);
- (c) QR, one-sided eliminations on the columns of ``B``
  (:func:`~lowrank.factorization.gram_schmidt_qr`);
- (d) Cholesky, two-sided eliminations on ``M``
  (:func:`~lowrank.factorization.elimination_cholesky`);

each with the pivoting rules ``"random"`` (pairs uniform and independent,
Detherage-Shah), ``"cyclic"`` (row-cyclic sweeps) and ``"greedy"`` (the pair of largest
``|g_ij| / sqrt(g_ii g_jj)``).  The x axis counts steps in sweeps of ``N = n (n - 1) / 2``
steps.  Top row: ``off^2(G) / off^2(G_0)`` (``off^2`` the squared Frobenius norm of the
off-diagonal part of the current Gram matrix); for the rotations (a, b) the dotted line
is ``(1 - 2/(n(n-1)))^k``, the exact expectation of the random rule when no pair is
skipped (our derivation; every rotation moves ``2 g_ij^2`` onto the diagonal).  It is
not a bound for eliminations: an elimination refills entries ``(k, j)`` and may raise
``off^2``.  Bottom row: the potential ``Phi(G) = sum_k log g_kk - log det G`` (the log of
the Hadamard ratio, zero iff ``G`` is diagonal), which **either** kind lowers by
``-log(1 - rho_ij^2)`` per step, relative to ``Phi(G_0)``.  Lines: the median over the
seeds; the band: 10-90 % of the seeds for the random rule.

How the curves are recorded.  The public functions record their history once per sweep,
too coarse here, so the module runs the same engine (``lowrank._kernels.pairwise``:
``apply_pairs_two_sided`` / ``apply_pairs_one_sided``, ``greedy_two_sided`` /
``greedy_one_sided``) on chunks of ``N / chunks`` pairs and measures ``off^2`` and
``Phi`` after each chunk.  It reproduces the public runs exactly: the pairs of a sweep
are drawn as ``lowrank.factorization._pairwise.run_pairwise`` draws them, from the
same seed, the same default ``tol`` skips the same pairs, and a run stops after the first
sweep whose largest scaled entry is at most ``tol`` (or, cyclic, that applies no
transform).  For the first seed of each size the public function is also called with the
same seed: ``public_sweeps`` and ``public_transforms`` hold its sweeps and transforms
applied, equal to the engine's for the random and cyclic rules (the greedy one-sided
kernel rebuilds its Gram matrix from the columns at each chunk instead of carrying it
through the sweep, so rounding may make greedy SVD and QR differ slightly).  After
convergence every pair is skipped and the matrix no longer changes: the last values are
carried to the end.

Measurements.  ``off^2`` sums the squared off-diagonal entries directly (the one-sided
Gram matrix is formed from the current columns), so it reaches rounding level (about
``1e-28`` relative) instead of cancelling at ``1e-16``.  ``Phi = -log det C`` for the
unit-diagonal ``C = D^-1/2 G D^-1/2`` is evaluated as ``-sum_k log1p(-s_k)`` with
``s_k`` the squared off-diagonal part of row ``k`` of the Cholesky factor of ``C``
(two-sided) or of column ``k`` of the ``R`` of the column-normalized matrix (one-sided),
which keeps its relative accuracy when ``Phi`` is tiny.  Values below ``1e-32`` (exact
zeros: a cyclic elimination sweep diagonalizes exactly) are drawn at ``1e-32``.

``paper`` runs n = 64 and 256 with 20 seeds (about 15 minutes on 2 cores); ``small`` n = 32 and
64 with 10 seeds (seconds).
"""

import logging
import time

import numpy as np

from .. import _kernels
from .._rng import check_rng, kernel_seed
from .._threads import single_threaded
from .._validation import check_option
from ..factorization import elimination_cholesky, gram_schmidt_qr, jacobi_eigh, jacobi_svd
from ._common import prepare_figure
from ._tensor_common import band, trial_rng

__all__ = ["expectation", "n_steps", "plot", "potential", "run", "to_rows"]

logger = logging.getLogger(__name__)

FIGURE_ID = "F10"
TITLE = ("factorization: off-diagonal decay per step, random vs cyclic vs greedy pivoting, "
         "eigh / SVD / QR / Cholesky")
#: Size of the figure in inches.
FIGURE_SIZE = (17, 8.5)

FACTORIZATIONS = ("eigh", "svd", "qr", "cholesky")
RULES = ("random", "cyclic", "greedy")
#: ``(two-sided, kind)`` of each factorization (kind 0 rotation, 1 elimination).
_SETUP = {"eigh": (True, 0), "svd": (False, 0), "qr": (False, 1), "cholesky": (True, 1)}
_PUBLIC = {"eigh": jacobi_eigh, "svd": jacobi_svd, "qr": gram_schmidt_qr,
           "cholesky": elimination_cholesky}
PANEL_TITLES = {
    "eigh": "(a) eigh: two-sided rotations\njacobi_eigh(BᵀB)",
    "svd": "(b) SVD: one-sided rotations\njacobi_svd(B)",
    "qr": "(c) QR: one-sided eliminations\ngram_schmidt_qr(B)",
    "cholesky": "(d) Cholesky: two-sided eliminations\nelimination_cholesky(BᵀB)",
}
COLORS = {"random": "tab:blue", "cyclic": "tab:orange", "greedy": "tab:green"}
#: Values below this (exact zeros included) are drawn at it.
PLOT_FLOOR = 1e-32
#: Quantiles of the band of the random rule.
BAND = (0.1, 0.9)
#: No column is timed (nothing in the CSV differs from run to run).
TIMING_COLUMNS = ()

_SCALES = {
    # for the test suite only: seconds
    "tiny": {"sizes": (8, 12), "seeds": 3, "sweeps": 20, "chunks": 4},
    # two sizes of the paper's range, fewer seeds: well under a minute
    "small": {"sizes": (32, 64), "seeds": 10, "sweeps": 28, "chunks": 8},
    # papers/pivoted_factorizations.md, F5: n in {64, 256}, 20 seeds
    "paper": {"sizes": (64, 256), "seeds": 20, "sweeps": 36, "chunks": 8},
}


def _sizes(scale):
    check_option(scale, "scale", tuple(_SCALES))
    return _SCALES[scale]


def n_steps(scale="small"):
    """Number of (size, seed, factorization, rule) runs :func:`run` reports.

    Examples
    --------
    >>> from lowrank.experiments.pairwise_decay import n_steps
    >>> n_steps("small"), n_steps("paper")
    (240, 480)
    """
    sizes = _sizes(scale)
    return len(sizes["sizes"]) * sizes["seeds"] * len(FACTORIZATIONS) * len(RULES)


def expectation(n, steps):
    """``(1 - 2/(n(n-1)))^steps``: the expected ``off^2 / off^2_0`` after ``steps``
    uniformly random rotations (no pair skipped).

    Examples
    --------
    >>> from lowrank.experiments.pairwise_decay import expectation
    >>> round(float(expectation(3, 3)), 6)   # (1 - 1/3)^3
    0.296296
    """
    return (1.0 - 2.0 / (n * (n - 1))) ** np.asarray(steps, dtype=float)


def potential(X, two_sided):
    """``Phi(G) = sum_k log g_kk - log det G`` of the Gram matrix (``G = X`` two-sided,
    ``G = X^T X`` one-sided), evaluated without cancellation (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank.experiments.pairwise_decay import potential
    >>> G = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> bool(np.isclose(potential(G, True), np.log(4.0) - np.log(3.0)))
    True
    >>> B = np.linalg.cholesky(G).T                       # B^T B = G
    >>> bool(np.isclose(potential(B, False), potential(G, True)))
    True
    >>> abs(potential(np.diag([1.0, 5.0]), True))
    0.0
    """
    if two_sided:
        d = np.sqrt(np.diag(X))
        L = np.linalg.cholesky(X / np.outer(d, d))
        s = np.sum(np.tril(L, -1) ** 2, axis=1)
    else:
        R = np.linalg.qr(X / np.linalg.norm(X, axis=0), mode="r")
        s = np.sum(np.triu(R, 1) ** 2, axis=0)
    return float(-np.sum(np.log1p(-np.minimum(s, 1.0))))


def _measure(kernels, X, two_sided):
    """``(off^2, largest scaled off-diagonal entry, Phi)`` of the current Gram matrix (the
    scaled entry computed as the public engine does)."""
    if two_sided:
        off, worst, _ = kernels.off_diagonal_two_sided(X, 0.0)
        return float(off), float(worst), potential(X, True)
    G = X.T @ X
    d = np.sqrt(np.abs(np.diag(G)))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(G != 0, np.abs(G) / np.outer(d, d), 0.0)
    np.fill_diagonal(rho, 0.0)
    np.fill_diagonal(G, 0.0)
    return float(np.sum(G * G)), float(np.max(rho)), potential(X, False)


def _trace(kernels, B, factorization, rule, seed, sweeps, chunks):
    """Run one factorization of the Wishart problem ``B`` chunk by chunk; returns
    ``(off^2 / off^2_0, Phi / Phi_0, steps, max_scaled per sweep, sweeps to converge (NaN
    if not within ``sweeps``), transforms)``."""
    two_sided, kind = _SETUP[factorization]
    n = B.shape[1]
    X = B.T @ B if two_sided else np.asfortranarray(B, dtype=np.float64).copy()
    tol = (n if two_sided else max(B.shape)) * float(np.finfo(np.float64).eps)
    W = np.empty((0, n), order="F")          # the factor is not needed: no rows to update
    n_pairs = n * (n - 1) // 2
    first, second = (a.astype(np.int64) for a in np.triu_indices(n, k=1))
    rng = check_rng(seed)                     # the generator the public function builds
    bounds = np.linspace(0, n_pairs, chunks + 1).astype(np.int64)
    points = sweeps * chunks + 1
    off, phi = np.empty(points), np.empty(points)
    steps = np.concatenate([[0], (np.arange(sweeps)[:, None] * n_pairs
                                  + bounds[None, 1:]).ravel()])
    off[0], _, phi[0] = _measure(kernels, X, two_sided)
    worst_per_sweep, converged_at, transforms, p = [], np.nan, 0, 1
    for sweep in range(1, sweeps + 1):
        if rule == "random":
            picks = rng.integers(0, n_pairs, size=n_pairs)
            i, j = first[picks], second[picks]
        else:
            i, j = first, second
        applied = 0
        for c in range(chunks):
            a, b = int(bounds[c]), int(bounds[c + 1])
            if rule == "greedy":
                if two_sided:
                    done, status, _ = kernels.greedy_two_sided(X, W, kind, tol, b - a)
                else:
                    (done, _), status = kernels.greedy_one_sided(X, W, kind, tol, b - a), -1
            elif two_sided:
                done, status = kernels.apply_pairs_two_sided(X, W, i[a:b], j[a:b], kind, tol)
            else:
                done, status = kernels.apply_pairs_one_sided(X, W, i[a:b], j[a:b], kind,
                                                             tol), -1
            if status >= 0:
                raise RuntimeError(f"nonpositive pivot {status} in a positive definite "
                                   f"Wishart matrix ({factorization}, {rule})")
            applied += int(done)
            off[p], worst, phi[p] = _measure(kernels, X, two_sided)
            p += 1
        transforms += applied
        worst_per_sweep.append(worst)
        if worst <= tol or (rule == "cyclic" and applied == 0):
            converged_at = sweep
            break
    off[p:], phi[p:] = off[p - 1], phi[p - 1]   # converged: nothing changes any more
    return (off / off[0], phi / phi[0], steps, np.array(worst_per_sweep), converged_at,
            transforms)


def _public_check(B, factorization, rule, seed):
    """``(sweeps, transforms)`` of the public function on the same problem and seed."""
    two_sided, _ = _SETUP[factorization]
    res = _PUBLIC[factorization](B.T @ B if two_sided else B, pivoting=rule, rng=seed)
    return res.n_iter, res.n_transforms


def run(scale="small", rng=0, progress=None):
    """Run F10: every factorization with every rule on ``seeds`` Wishart problems per size.

    Parameters
    ----------
    scale : {"small", "paper"}
        Problem sizes (see the module docstring).
    rng : None, int or numpy.random.Generator
        Seed of the problems and of the random pairs.
    progress : callable, optional
        Called with the number of runs done, :func:`n_steps` in all.

    Returns
    -------
    dict
        ``sizes``, ``factorizations``, ``rules``, ``seeds``, ``sweeps``, ``chunks``;
        ``x`` (``sizes x points``: steps / N); ``off`` and ``phi`` (``sizes x
        factorizations x rules x seeds x points``: ``off^2 / off^2_0`` and
        ``Phi / Phi_0``); ``expectation`` (``sizes x points``); ``converged_sweep`` and
        ``transforms`` (``sizes x factorizations x rules x seeds``; NaN: not converged
        within ``sweeps``); ``phi0`` (``sizes x seeds``); ``public_sweeps`` and
        ``public_transforms`` (``sizes x factorizations x rules``: sweeps and transforms
        of the public function on the first seed's problem with the same seed).
    """
    sizes = _sizes(scale)
    seed = kernel_seed(check_rng(rng))
    kernels = _kernels.load("pairwise")
    ns, seeds, sweeps, chunks = sizes["sizes"], sizes["seeds"], sizes["sweeps"], sizes["chunks"]
    points = sweeps * chunks + 1
    shape = (len(ns), len(FACTORIZATIONS), len(RULES))
    off, phi = np.empty((*shape, seeds, points)), np.empty((*shape, seeds, points))
    converged, transforms = np.full((*shape, seeds), np.nan), np.zeros((*shape, seeds))
    public_sweeps, public_transforms = (np.zeros(shape, dtype=np.int64) for _ in range(2))
    x, line, phi0 = np.empty((len(ns), points)), np.empty((len(ns), points)), np.empty(
        (len(ns), seeds))
    start = time.perf_counter()
    with single_threaded():
        for a, n in enumerate(ns):
            for s in range(seeds):
                B = trial_rng(seed, a, s).standard_normal((2 * n, n))
                phi0[a, s] = potential(B.T @ B, True)
                for f, factorization in enumerate(FACTORIZATIONS):
                    for r, rule in enumerate(RULES):
                        pairs_seed = kernel_seed(trial_rng(seed, a, s, f, r))
                        o, p, steps, _, conv, done = _trace(
                            kernels, B, factorization, rule, pairs_seed, sweeps, chunks)
                        off[a, f, r, s], phi[a, f, r, s] = o, p
                        converged[a, f, r, s], transforms[a, f, r, s] = conv, done
                        if s == 0:
                            public_sweeps[a, f, r], public_transforms[a, f, r] = \
                                _public_check(B, factorization, rule, pairs_seed)
                        if progress is not None:
                            progress(1)
            n_pairs = n * (n - 1) // 2
            x[a], line[a] = steps / n_pairs, expectation(n, steps)
    logger.info("F10 (%s) done in %.1f s", scale, time.perf_counter() - start)
    return {"figure": FIGURE_ID, "scale": scale, "sizes": list(ns),
            "factorizations": list(FACTORIZATIONS), "rules": list(RULES), "seeds": seeds,
            "sweeps": sweeps, "chunks": chunks, "x": x, "off": off, "phi": phi,
            "expectation": line, "converged_sweep": converged, "transforms": transforms,
            "phi0": phi0, "public_sweeps": public_sweeps, "public_transforms": public_transforms}


def to_rows(data):
    """One CSV row per (size, factorization, rule, recorded step): the median and the
    10-90 % band of ``off^2 / off^2_0`` and ``Phi / Phi_0`` over the seeds."""
    rows = []
    for a, n in enumerate(data["sizes"]):
        for f, factorization in enumerate(data["factorizations"]):
            rotation = _SETUP[factorization][1] == 0
            for r, rule in enumerate(data["rules"]):
                off = band(data["off"][a, f, r], axis=0, low=BAND[0], high=BAND[1])
                phi = band(data["phi"][a, f, r], axis=0, low=BAND[0], high=BAND[1])
                conv = data["converged_sweep"][a, f, r]
                median_sweeps = float(np.median(conv)) if np.all(np.isfinite(conv)) else \
                    float("nan")
                for t, x in enumerate(data["x"][a]):
                    rows.append({
                        "n": n, "factorization": factorization, "rule": rule,
                        "steps_over_N": float(x),
                        "off2_median": float(off[0][t]), "off2_q10": float(off[1][t]),
                        "off2_q90": float(off[2][t]),
                        "phi_median": float(phi[0][t]), "phi_q10": float(phi[1][t]),
                        "phi_q90": float(phi[2][t]),
                        "expectation": float(data["expectation"][a, t]) if rotation
                        else float("nan"),
                        "median_sweeps_to_converge": median_sweeps,
                        "public_sweeps_seed0": int(data["public_sweeps"][a, f, r]),
                    })
    return rows


def plot(data, *, fig=None):
    """Draw F10: ``off^2 / off^2_0`` (top) and ``Phi / Phi_0`` (bottom) against steps / N,
    one column per factorization.

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
    from matplotlib.lines import Line2D  # here: Matplotlib is needed by plot() only

    fig = prepare_figure(fig, FIGURE_SIZE)
    axes = fig.subplots(2, len(data["factorizations"]), squeeze=False, sharex=True,
                        sharey="row")
    widths = np.linspace(1.0, 2.2, len(data["sizes"]))
    for f, factorization in enumerate(data["factorizations"]):
        rotation = _SETUP[factorization][1] == 0
        for row, key in enumerate(("off", "phi")):
            ax = axes[row, f]
            for a, _n in enumerate(data["sizes"]):
                x = data["x"][a]
                for r, rule in enumerate(data["rules"]):
                    mid, lo, hi = (np.maximum(v, PLOT_FLOOR) for v in band(
                        data[key][a, f, r], axis=0, low=BAND[0], high=BAND[1]))
                    ax.plot(x, mid, color=COLORS.get(rule), lw=widths[a],
                            alpha=0.65 if a < len(data["sizes"]) - 1 else 1.0)
                    if rule == "random":
                        ax.fill_between(x, lo, hi, color=COLORS.get(rule), alpha=0.12,
                                        lw=0)
                if row == 0 and rotation:
                    ax.plot(x, np.maximum(data["expectation"][a], PLOT_FLOOR), ls=":",
                            color="black", lw=1.3)
            ax.set_yscale("log")
            ax.set_ylim(PLOT_FLOOR / 3, 10.0)
            ax.set_xlim(0, data["sweeps"])
            ax.grid(True, which="major", alpha=0.3)
            if row == 0:
                ax.set_title(PANEL_TITLES[factorization], fontsize=9.5)
                if not rotation:
                    ax.text(0.97, 0.97, "no expectation line: an elimination\nrefills "
                            "entries, off² is not monotone", transform=ax.transAxes,
                            ha="right", va="top", fontsize=8,
                            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
            else:
                ax.set_xlabel("steps / N,  N = n(n−1)/2 (sweeps)")
        axes[0, 0].set_ylabel("off²(G) / off²(G₀)")
        axes[1, 0].set_ylabel("Φ(G) / Φ(G₀),  Φ = Σ log g_kk − log det G")
    handles = [Line2D([], [], color=COLORS[r], lw=2, label=r) for r in data["rules"]]
    handles += [Line2D([], [], color="0.3", lw=w, label=f"n = {n}")
                for w, n in zip(widths, data["sizes"], strict=True)]
    handles.append(Line2D([], [], color="black", ls=":", lw=1.3,
                          label="(1 − 2/(n(n−1)))^k: E[off²] of random rotations"))
    handles.append(Line2D([], [], color=COLORS["random"], lw=6, alpha=0.25,
                          label=f"random: {BAND[0]:.0%}-{BAND[1]:.0%} of the seeds"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8.5)
    fig.suptitle(f"F10: pairwise factorizations of Wishart problems (B a 2n × n Gaussian, "
                 f"G = BᵀB), median over {data['seeds']} seeds; values below "
                 f"{PLOT_FLOOR:g} (exact zeros) drawn at {PLOT_FLOOR:g}", fontsize=10.5)
    return fig
