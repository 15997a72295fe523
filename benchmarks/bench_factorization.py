"""Pairwise factorizations and RPCholesky (``lowrank.factorization``) against LAPACK via SciPy.

(papers/pivoted_factorizations.md, "Peers and benchmarks", B5 and B6.)  Five groups, each
timed round-robin over its cases (median of the repeats; one untimed warm-up call of every
function at a small size first, for Numba's compilation and LAPACK's first call, instead of
a full-size one, to keep the run short):

1. **SVD.**  ``jacobi_svd`` with random (the default) and cyclic pivoting against LAPACK
   ``dgejsv`` through ``scipy.linalg.lapack.dgejsv(a, joba=0)`` (JOBA='C': SciPy's default
   ``joba=4`` treats small singular values as noise) and ``scipy.linalg.svd`` (gesdd), all
   computing both singular vector sets, on square Gaussian matrices (n = 128, 256, 512;
   error: max relative singular value error against gesdd) and one graded case,
   ``A = B diag(logspace(0, -16, n))`` with the scales randomly permuted, n = 64, against an
   mpmath reference (``mpmath.svd_r`` at 60 digits; dgejsv with its default ``joba`` shown
   too).  ``sigma = sva * work[0] / work[1]``.  Target (SPEC 6): ``jacobi_svd`` within 5x of
   dgejsv's time at n = 512 (both pivoting rules reported, the SPEC default is random).
   The n = 512 case runs again (3 rounds) with one BLAS and one Numba thread
   (``threadpoolctl.threadpool_limits(1)``, ``numba.set_num_threads(1)``): a check that
   does not depend on a 2-thread LAPACK call getting both cores of a shared machine.
2. **Symmetric eigenproblem.**  ``jacobi_eigh`` (random, cyclic) against
   ``scipy.linalg.eigh`` with the drivers evr (SciPy's default) and evd, and the accurate
   LAPACK route for positive definite matrices, ``potrf`` then ``dgejsv(joba=0)`` on
   ``L^T`` (eigenvalues ``sigma^2``, eigenvectors ``V``).  Matrices: Wishart
   ``W = B^T B / (2n)`` (B of 2n x n) and graded ``D H D`` (H SPD with condition 10, Haar
   eigenvectors; ``D = diag(10^(-12 i / (n - 1)))`` randomly permuted: g = 12 decades,
   eigenvalues over about 24 decades).  Accuracy: at n = 64 against mpmath (``eigsy`` at 60
   digits), at n = 128, 256, 512 against the potrf + dgejsv route's eigenvalues (validated
   against mpmath at n = 64, where the table shows its own error).  Target: relative
   eigenvalue accuracy on the graded matrices orders of magnitude (>= 100x) better than
   ``eigh``'s.
3. **QR.**  ``gram_schmidt_qr`` with the pairwise rules (cyclic, the default; random) and the
   column-by-column variants (classical, modified, cgs2) against ``scipy.linalg.qr``
   (Householder ``geqrf``; ``pivoting=True``: ``geqp3``), economic, on 512 x 256 matrices
   ``lowrank.testing.low_rank_matrix((512, 256), 256, cond=c)`` (Haar singular vectors,
   geometric spectrum), c = 1e2, 1e8, 1e14: time, loss of orthogonality ``||I - Q^T Q||_2``
   and residual ``||A P - Q R||_F / ||A||_F``.
4. **Cholesky.**  ``elimination_cholesky`` (cyclic, the default; random) against
   ``scipy.linalg.cholesky`` (potrf) and ``dpstrf`` (greedy pivoted, to its default
   tolerance) on Wishart matrices, n = 256, 512; residual ``||P^T A P - L L^T||_F / ||A||_F``.
5. **RPCholesky** (B6).  RBF kernel ``K_ij = exp(-gamma ||x_i - x_j||^2)`` of N = 10000
   standard Gaussian points in 3-d, gamma = 1 (trace error about 1e-1, 1e-2, 1e-4 at
   k = 100, 400, 1000).  ``rp_cholesky`` given the kernel as a callable ``A(rows, cols)``
   (never formed): accelerated (default), simple (``block_size=1``), greedy and uniform,
   and the accelerated variant given the formed matrix (its input checks included); against
   LAPACK ``dpstrf`` on the formed matrix **stopped at rank k**: it cannot be given
   k, so its ``tol`` is set to the geometric mean of the largest residual diagonal entry
   after k - 1 and after k greedy pivots (from an untimed ``rp_cholesky(method="greedy")``
   run to rank k + 1; the pivot rules agree), and the rank it returned is shown.  It runs in
   place on a Fortran-ordered copy of the matrix made outside the timed region.  Forming
   the matrix (``cdist`` + ``exp``) and a full ``dpstrf`` (default tolerance) are timed on
   their own.  Columns: time, entries read (``n_evaluations / ((k + 1) N)``), relative
   trace error ``(tr K - ||F||_F^2) / tr K`` computed from the factor (median and worst
   repeat; the library's own ``trace_error`` is kept in the raw rows).  Targets (SPEC 6 and
   the issue): accelerated RPCholesky within 2x of dpstrf stopped at rank k, several (>= 3)
   times faster than dpstrf on the formed matrix (forming not counted, and counted), cost
   O(k^2 N) (``t(1000) / t(400) <= (1000 / 400)^2`` and at most 1.2 (k + 1) N entries), the
   accelerated variant >= 3x faster than the simple one at k = 1000, and a trace error no
   worse than greedy pivoting's (median over the repeats).

Random pivots use ``rng = i`` in round ``i``; accuracy columns show the worst repeat.
``--quick`` shrinks every problem (seconds).  Threads are not pinned (BLAS and Numba thread
counts are recorded); on a shared 2-core machine a 2-thread LAPACK call slows down many
times when another process takes a core, so the load average is recorded before and after
every group and the fastest repeat is kept next to the median.

Run: ``python benchmarks/bench_factorization.py [--quick] [--repeats N]``.
"""

import math
import os
import pathlib
import subprocess
import sys
import time
import warnings

import numpy as np
from _common import (
    fmt,
    load_phrase,
    machine_info,
    markdown_table,
    run_cli,
    targets_markdown,
)

FULL = {
    "svd_sizes": (128, 256, 512),
    "svd_single_thread_n": 512,   # the target size again with 1 BLAS and 1 Numba thread
    "svd_graded_n": 64,
    "svd_grading_decades": 16,
    "eigh_sizes": (128, 256, 512),
    "eigh_accuracy_n": 64,
    "eigh_grading_decades": 12,
    "mpmath_dps": 60,
    "qr_shape": (512, 256),
    "qr_conds": (1e2, 1e8, 1e14),
    "cholesky_sizes": (256, 512),
    "rp_points": 10000,
    "rp_dim": 3,
    "rp_gamma": 1.0,
    "rp_ranks": (100, 400, 1000),
    # (group, n): at most this many timed rounds (a round of eigh at n = 512 takes ~40 s)
    "repeat_caps": {"eigh": {512: 3}, "rp_setup": 3, "svd_single_thread": 3},
    "target_svd_n": 512,
}
QUICK = {
    "svd_sizes": (32,),
    "svd_single_thread_n": 32,
    "svd_graded_n": 12,
    "svd_grading_decades": 16,
    "eigh_sizes": (32,),
    "eigh_accuracy_n": 12,
    "eigh_grading_decades": 12,
    "mpmath_dps": 60,
    "qr_shape": (48, 24),
    "qr_conds": (1e2, 1e14),
    "cholesky_sizes": (32,),
    "rp_points": 600,
    "rp_dim": 3,
    "rp_gamma": 1.0,
    "rp_ranks": (20, 60),
    "repeat_caps": {"eigh": {}, "rp_setup": 1, "svd_single_thread": 1},
    "target_svd_n": 32,
}
DATA_SEED = 20260402
SVD_TARGET = 5.0          # jacobi_svd / dgejsv at n = 512
ACCURACY_GAP = 100.0      # "orders of magnitude": at least 100x smaller error
RP_DPSTRF_FACTOR = 2.0    # accelerated RPCholesky within 2x of dpstrf at rank k
RP_SEVERAL = 3.0          # "several times faster"
RP_EVALUATIONS = 1.2      # n_evaluations <= 1.2 (k + 1) N

JSVD_RANDOM = "lowrank jacobi_svd, random"
JSVD_CYCLIC = "lowrank jacobi_svd, cyclic"
DGEJSV = "LAPACK dgejsv (joba=0)"
DGEJSV_DEFAULT = "LAPACK dgejsv (SciPy default joba=4)"
GESDD = "scipy.linalg.svd (gesdd)"
JEIGH_RANDOM = "lowrank jacobi_eigh, random"
JEIGH_CYCLIC = "lowrank jacobi_eigh, cyclic"
EVR = "scipy.linalg.eigh (evr)"
EVD = "scipy.linalg.eigh (evd)"
CHOL_JSV = "LAPACK potrf + dgejsv(joba=0) on L^T"
QR_VARIANTS = ("cyclic", "random", "classical", "modified", "cgs2")
HOUSEHOLDER = "scipy.linalg.qr (Householder)"
GEQP3 = "scipy.linalg.qr (pivoting=True, geqp3)"
CHOL_CYCLIC = "lowrank elimination_cholesky, cyclic"
CHOL_RANDOM = "lowrank elimination_cholesky, random"
POTRF = "scipy.linalg.cholesky (potrf)"
PSTRF = "LAPACK dpstrf (default tol)"
RP_ACCELERATED = "lowrank rp_cholesky, accelerated (default)"
RP_SIMPLE = "lowrank rp_cholesky, simple (block_size=1)"
RP_ARRAY = "lowrank rp_cholesky, accelerated, on the formed matrix"
RP_GREEDY = "lowrank rp_cholesky, greedy"
RP_UNIFORM = "lowrank rp_cholesky, uniform"
RP_DPSTRF = "LAPACK dpstrf stopped at rank k (formed matrix)"
RP_FORM = "form the kernel matrix (cdist + exp)"
RP_DPSTRF_FULL = "LAPACK dpstrf, default tol (formed matrix)"

SINGLE_THREAD = "1 BLAS + 1 Numba thread"

ROW_FIELDS = ("group", "problem", "solver", "time_s", "times_s", "ratio")


# ------------------------------------------------------------------------ helpers


def _load():
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def _log(log, message):
    if log:
        print(f"[bench_factorization] {message}", file=log, flush=True)


def _rounds(cases, repeats, summarize):
    """Time ``cases`` round-robin, ``repeats`` rounds, no warm-up (done beforehand).

    ``cases[name] = (prepare, call)``: ``prepare(i)`` (untimed, may be None) returns the
    argument of ``call``; ``summarize(name, output, i)`` (untimed) turns the output of
    round ``i`` into a small dict, so that large outputs are not kept.
    Returns ``{name: {"times": [...], "summaries": [...]}}``.
    """
    out = {name: {"times": [], "summaries": []} for name in cases}
    for i in range(repeats):
        for name, (prepare, call) in cases.items():
            arg = prepare(i) if prepare is not None else i
            t0 = time.perf_counter()
            result = call(arg)
            elapsed = time.perf_counter() - t0
            del arg
            out[name]["times"].append(elapsed)
            out[name]["summaries"].append(summarize(name, result, i))
            del result
    return out


def _row(group, problem, solver, times, **extra):
    return {"group": group, "problem": problem, "solver": solver,
            "time_s": float(np.median(times)), "times_s": [float(t) for t in times],
            "min_s": float(np.min(times)), **extra}


def _set_ratios(rows, reference):
    """``ratio`` = time over the time of the ``reference`` solver of the same problem."""
    for row in rows:
        ref = next((r for r in rows if r["problem"] == row["problem"]
                    and r["solver"] == reference), None)
        row["ratio"] = None if ref is None else row["time_s"] / ref["time_s"]
        row["ratio_min"] = None if ref is None else row["min_s"] / ref["min_s"]


def _rel_error(values, reference):
    """Max relative error of sorted values against a sorted reference."""
    values, reference = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    return float(np.max(np.abs(values - reference) / np.abs(reference)))


def _worst(summaries, key):
    vals = [s[key] for s in summaries if s.get(key) is not None]
    return float(np.max(vals)) if vals else None


def _cap(cfg, group, n, repeats):
    caps = cfg["repeat_caps"].get(group, {})
    cap = caps.get(n) if isinstance(caps, dict) else caps
    return repeats if cap is None else max(1, min(repeats, cap))


def _mpmath():
    try:
        import mpmath
    except ImportError:
        return None
    return mpmath


def _mp_eigenvalues(A, dps):
    mpmath = _mpmath()
    with mpmath.workdps(dps):
        values = mpmath.eigsy(mpmath.matrix(A.tolist()), eigvals_only=True)
        return np.array(sorted(float(x) for x in values))


def _mp_singular_values(A, dps):
    mpmath = _mpmath()
    with mpmath.workdps(dps):
        values = mpmath.svd_r(mpmath.matrix(A.tolist()), compute_uv=False)
        return np.array(sorted((float(x) for x in values), reverse=True))


def _dgejsv(A, joba=0, jobu=0, jobv=0):
    """LAPACK dgejsv: ``(sigma descending, U, V)`` with ``sigma = sva * work[0]/work[1]``."""
    from scipy.linalg import lapack

    sva, u, v, work, _, info = lapack.dgejsv(A, joba=joba, jobu=jobu, jobv=jobv)
    if info < 0:
        raise RuntimeError(f"dgejsv: argument {-info} illegal")
    return sva * (work[0] / work[1]), u, v, info


def _chol_dgejsv(A, vectors=True):
    """Eigenvalues (ascending) and eigenvectors of an SPD matrix by ``A = L L^T``
    (potrf) and dgejsv(joba=0) on ``L^T = U S V^T``: ``A = V S^2 V^T``."""
    import scipy.linalg

    L = scipy.linalg.cholesky(A, lower=True, check_finite=False)
    s, _, v, _ = _dgejsv(np.asfortranarray(L.T), jobu=3, jobv=0 if vectors else 3)
    order = np.argsort(s)
    return s[order] ** 2, (v[:, order] if vectors else None)


def _rng(*parts):
    return np.random.default_rng([DATA_SEED, *parts])


def _graded_spd(n, decades, rng):
    """``D H D``: H SPD with condition 10 (Haar eigenvectors), D = 10^(-decades i/(n-1))
    randomly permuted."""
    from lowrank.testing import graded_spd_matrix

    H = graded_spd_matrix(n, grading=1.0, cond=10.0, rng=rng)
    d = 10.0 ** (-decades * rng.permutation(n) / max(n - 1, 1))
    A = d[:, None] * H * d[None, :]
    return (A + A.T) / 2


def _wishart(n, rng):
    B = rng.standard_normal((2 * n, n))
    W = B.T @ B / (2 * n)
    return (W + W.T) / 2


def _warm_up():
    """Compile Numba's kernels and make LAPACK's first calls at a small size."""
    import scipy.linalg
    from scipy.linalg import lapack

    from lowrank.factorization import (
        elimination_cholesky,
        gram_schmidt_qr,
        jacobi_eigh,
        jacobi_svd,
        rp_cholesky,
    )

    rng = np.random.default_rng(0)
    A = rng.standard_normal((24, 16))
    W = _wishart(16, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for piv in ("random", "cyclic"):
            jacobi_svd(A, pivoting=piv, rng=0)
            jacobi_eigh(W, pivoting=piv, rng=0)
            elimination_cholesky(W, pivoting=piv, rng=0)
        for piv in QR_VARIANTS:
            gram_schmidt_qr(A, pivoting=piv, rng=0)
        for kw in ({}, {"block_size": 1}, {"method": "greedy"}, {"method": "uniform"}):
            rp_cholesky(W, 8, rng=0, **kw)
            rp_cholesky(lambda r, c: W[np.ix_(r, c)], 8, diag=np.diag(W).copy(), rng=0, **kw)
    _dgejsv(A)
    _dgejsv(A, joba=4)
    _chol_dgejsv(W)
    scipy.linalg.svd(A)
    for driver in ("evr", "evd"):
        scipy.linalg.eigh(W, driver=driver)
    scipy.linalg.qr(A, mode="economic")
    scipy.linalg.qr(A, mode="economic", pivoting=True)
    scipy.linalg.cholesky(W, lower=True)
    lapack.dpstrf(W, lower=1)


# ------------------------------------------------------------------------ 1. SVD


def _svd_cases(A, graded):
    import scipy.linalg

    from lowrank.factorization import jacobi_svd

    cases = {
        JSVD_RANDOM: (None, lambda i: jacobi_svd(A, pivoting="random", rng=i)),
        JSVD_CYCLIC: (None, lambda i: jacobi_svd(A, pivoting="cyclic", rng=i)),
        DGEJSV: (None, lambda i: _dgejsv(A)),
        GESDD: (None, lambda i: scipy.linalg.svd(A)),
    }
    if graded:
        cases[DGEJSV_DEFAULT] = (None, lambda i: _dgejsv(A, joba=4))
    return cases


def _svd_values(name, out):
    if name.startswith("lowrank"):
        return out.s, {"n_iter": out.n_iter, "n_transforms": out.n_transforms,
                       "converged": out.converged}
    if name == GESDD:
        return out[1], {}
    return np.sort(out[0])[::-1], {"info": int(out[3])}


def _svd_problem(problem, A, reference, reference_name, repeats, graded):
    def summarize(name, out, i):
        s, extra = _svd_values(name, out)
        error = None if reference is None else _rel_error(s, reference)
        return {"error": error, "s": s if reference is None else None, **extra}

    timed = _rounds(_svd_cases(A, graded), repeats, summarize)
    if reference is None:  # the Gaussian case: against gesdd's values of the same round
        for name, data in timed.items():
            for i, summary in enumerate(data["summaries"]):
                ref = timed[GESDD]["summaries"][i]["s"]
                summary["error"] = None if name == GESDD else _rel_error(summary["s"], ref)
    rows = []
    for name, data in timed.items():
        sm = data["summaries"]
        rows.append(_row("svd", problem, name, data["times"], n=A.shape[1],
                         graded=graded, max_rel_error=_worst(sm, "error"),
                         reference=reference_name,
                         n_iter=(max(s["n_iter"] for s in sm) if "n_iter" in sm[0] else None),
                         n_transforms=(int(np.median([s["n_transforms"] for s in sm]))
                                       if "n_transforms" in sm[0] else None),
                         converged=(all(s["converged"] for s in sm)
                                    if "converged" in sm[0] else None)))
    return rows


def _svd_group(cfg, repeats, log):
    rows = []
    for n in cfg["svd_sizes"]:
        A = _rng(1, n).standard_normal((n, n))
        problem = f"Gaussian {n}x{n}"
        _log(log, f"svd: {problem}, {repeats} rounds")
        rows += _svd_problem(problem, A, None, GESDD, repeats, graded=False)
    n = cfg["svd_single_thread_n"]
    if n:
        import numba
        import threadpoolctl

        A = _rng(1, n).standard_normal((n, n))   # the same matrix as above
        problem = f"Gaussian {n}x{n}, {SINGLE_THREAD}"
        r = _cap(cfg, "svd_single_thread", None, repeats)
        _log(log, f"svd: {problem}, {r} rounds")
        threads = numba.get_num_threads()
        try:
            numba.set_num_threads(1)
            with threadpoolctl.threadpool_limits(1):
                rows += _svd_problem(problem, A, None, GESDD, r, graded=False)
        finally:
            numba.set_num_threads(threads)
    n, g = cfg["svd_graded_n"], cfg["svd_grading_decades"]
    rng = _rng(2, n)
    A = rng.standard_normal((n, n)) * np.logspace(0, -g, n)[rng.permutation(n)][None, :]
    problem = f"graded B diag(logspace(0,-{g})) permuted, {n}x{n}"
    mpmath = _mpmath()
    if mpmath is not None:
        t0 = time.perf_counter()
        reference = _mp_singular_values(A, cfg["mpmath_dps"])
        ref_name, ref_time = f"mpmath svd_r ({cfg['mpmath_dps']} digits)", \
            time.perf_counter() - t0
    else:
        reference, ref_name, ref_time = _dgejsv(A)[0], DGEJSV + " (mpmath missing)", None
    _log(log, f"svd: {problem}, {repeats} rounds (reference {ref_name})")
    graded_rows = _svd_problem(problem, A, reference, ref_name, repeats, graded=True)
    for row in graded_rows:
        row["reference_time_s"] = ref_time
    rows += graded_rows
    _set_ratios(rows, DGEJSV)
    return rows


# ------------------------------------------------------------------------ 2. eigh


def _eigh_cases(A):
    import scipy.linalg

    from lowrank.factorization import jacobi_eigh

    return {
        JEIGH_RANDOM: (None, lambda i: jacobi_eigh(A, pivoting="random", rng=i)),
        JEIGH_CYCLIC: (None, lambda i: jacobi_eigh(A, pivoting="cyclic", rng=i)),
        EVR: (None, lambda i: scipy.linalg.eigh(A, driver="evr")),
        EVD: (None, lambda i: scipy.linalg.eigh(A, driver="evd")),
        CHOL_JSV: (None, lambda i: _chol_dgejsv(A)),
    }


def _eigh_problem(problem, kind, A, reference, reference_name, repeats, reference_is_ours):
    def summarize(name, out, i):
        if name.startswith("lowrank"):
            values, extra = out.eigenvalues, {"n_iter": out.n_iter,
                                              "n_transforms": out.n_transforms,
                                              "converged": out.converged}
        else:
            values, extra = out[0], {}
        if name == CHOL_JSV and reference_is_ours:
            return {"error": None, **extra}
        return {"error": _rel_error(values, reference), **extra}

    timed = _rounds(_eigh_cases(A), repeats, summarize)
    rows = []
    for name, data in timed.items():
        sm = data["summaries"]
        rows.append(_row("eigh", problem, name, data["times"], n=A.shape[0], kind=kind,
                         max_rel_error=_worst(sm, "error"), reference=reference_name,
                         n_iter=(max(s["n_iter"] for s in sm) if "n_iter" in sm[0] else None),
                         n_transforms=(int(np.median([s["n_transforms"] for s in sm]))
                                       if "n_transforms" in sm[0] else None),
                         converged=(all(s["converged"] for s in sm)
                                    if "converged" in sm[0] else None)))
    return rows


def _eigh_matrices(n, cfg):
    g = cfg["eigh_grading_decades"]
    return (("wishart", f"Wishart n={n}", _wishart(n, _rng(3, n))),
            ("graded", f"graded DHD g={g} permuted, n={n}",
             _graded_spd(n, g, _rng(4, n))))


def _eigh_group(cfg, repeats, log):
    rows = []
    n = cfg["eigh_accuracy_n"]
    mpmath = _mpmath()
    for kind, problem, A in _eigh_matrices(n, cfg):
        if mpmath is not None:
            t0 = time.perf_counter()
            reference = _mp_eigenvalues(A, cfg["mpmath_dps"])
            ref_name, ref_time = f"mpmath eigsy ({cfg['mpmath_dps']} digits)", \
                time.perf_counter() - t0
            ours = False
        else:
            reference, ref_name, ref_time = _chol_dgejsv(A, vectors=False)[0], CHOL_JSV, None
            ours = True
        _log(log, f"eigh: {problem}, {repeats} rounds (reference {ref_name})")
        new = _eigh_problem(problem, kind, A, reference, ref_name, repeats, ours)
        for row in new:
            row["reference_time_s"] = ref_time
        rows += new
    for n in cfg["eigh_sizes"]:
        for kind, problem, A in _eigh_matrices(n, cfg):
            reference = _chol_dgejsv(A, vectors=False)[0]
            r = _cap(cfg, "eigh", n, repeats)
            _log(log, f"eigh: {problem}, {r} rounds (reference {CHOL_JSV})")
            rows += _eigh_problem(problem, kind, A, reference, CHOL_JSV, r, True)
    _set_ratios(rows, EVR)
    return rows


# ------------------------------------------------------------------------ 3. QR


def _qr_group(cfg, repeats, log):
    import scipy.linalg

    from lowrank.factorization import gram_schmidt_qr
    from lowrank.testing import low_rank_matrix

    m, n = cfg["qr_shape"]
    rows = []
    for cond in cfg["qr_conds"]:
        A = low_rank_matrix((m, n), n, cond=cond, rng=_rng(5, m, n, int(math.log10(cond))))
        problem = f"{m}x{n}, cond={cond:.0e}"
        cases = {f"lowrank gram_schmidt_qr, {v}":
                 (None, lambda i, v=v, A=A: gram_schmidt_qr(A, pivoting=v, rng=i))
                 for v in QR_VARIANTS}
        cases[HOUSEHOLDER] = (None, lambda i, A=A: scipy.linalg.qr(A, mode="economic"))
        cases[GEQP3] = (None, lambda i, A=A: scipy.linalg.qr(A, mode="economic",
                                                             pivoting=True))
        norm_a = np.linalg.norm(A)

        def summarize(name, out, i, A=A, norm_a=norm_a):
            if name.startswith("lowrank"):
                Q, R, P = out.Q, out.R, None
                extra = {"n_iter": out.n_iter, "n_transforms": out.n_transforms,
                         "converged": out.converged}
            else:
                Q, R = out[0], out[1]
                P = out[2] if len(out) == 3 else None
                extra = {}
            AP = A if P is None else A[:, P]
            return {"orthogonality": float(np.linalg.norm(np.eye(Q.shape[1]) - Q.T @ Q, 2)),
                    "residual": float(np.linalg.norm(AP - Q @ R) / norm_a), **extra}

        _log(log, f"qr: {problem}, {repeats} rounds")
        timed = _rounds(cases, repeats, summarize)
        for name, data in timed.items():
            sm = data["summaries"]
            rows.append(_row("qr", problem, name, data["times"], m=m, n=n, cond=cond,
                             orthogonality=_worst(sm, "orthogonality"),
                             residual=_worst(sm, "residual"),
                             n_iter=(max(s["n_iter"] for s in sm) if "n_iter" in sm[0]
                                     else None),
                             n_transforms=(int(np.median([s["n_transforms"] for s in sm]))
                                           if "n_transforms" in sm[0] else None),
                             converged=(all(s["converged"] for s in sm)
                                        if "converged" in sm[0] else None)))
    _set_ratios(rows, HOUSEHOLDER)
    return rows


# ------------------------------------------------------------------------ 4. Cholesky


def _cholesky_group(cfg, repeats, log):
    import scipy.linalg
    from scipy.linalg import lapack

    from lowrank.factorization import elimination_cholesky

    rows = []
    for n in cfg["cholesky_sizes"]:
        A = _wishart(n, _rng(6, n))
        problem = f"Wishart n={n}"
        norm_a = np.linalg.norm(A)
        cases = {
            CHOL_CYCLIC: (None, lambda i, A=A: elimination_cholesky(A, pivoting="cyclic",
                                                                    rng=i)),
            CHOL_RANDOM: (None, lambda i, A=A: elimination_cholesky(A, pivoting="random",
                                                                    rng=i)),
            POTRF: (None, lambda i, A=A: scipy.linalg.cholesky(A, lower=True)),
            PSTRF: (None, lambda i, A=A: lapack.dpstrf(A, lower=1)),
        }

        def summarize(name, out, i, A=A, norm_a=norm_a):
            extra = {}
            if name.startswith("lowrank"):
                L, Ap = out.L, A
                extra = {"n_iter": out.n_iter, "n_transforms": out.n_transforms,
                         "converged": out.converged}
            elif name == PSTRF:
                c, piv, rank, _ = out
                p = piv - 1
                L, Ap = np.tril(c)[:, :rank], A[np.ix_(p, p)]
                extra = {"rank": int(rank)}
            else:
                L, Ap = out, A
            return {"residual": float(np.linalg.norm(Ap - L @ L.T) / norm_a), **extra}

        _log(log, f"cholesky: {problem}, {repeats} rounds")
        timed = _rounds(cases, repeats, summarize)
        for name, data in timed.items():
            sm = data["summaries"]
            rows.append(_row("cholesky", problem, name, data["times"], n=n,
                             residual=_worst(sm, "residual"),
                             n_iter=(max(s["n_iter"] for s in sm) if "n_iter" in sm[0]
                                     else None),
                             n_transforms=(int(np.median([s["n_transforms"] for s in sm]))
                                           if "n_transforms" in sm[0] else None),
                             converged=(all(s["converged"] for s in sm)
                                        if "converged" in sm[0] else None)))
    _set_ratios(rows, POTRF)
    return rows


# ------------------------------------------------------------------------ 5. RPCholesky


def _rp_group(cfg, repeats, log):
    from scipy.linalg import lapack
    from scipy.spatial.distance import cdist

    from lowrank.factorization import rp_cholesky

    N, dim, gamma = cfg["rp_points"], cfg["rp_dim"], cfg["rp_gamma"]
    X = _rng(7, N, dim).standard_normal((N, dim))
    diag = np.ones(N)

    def kernel(rows, cols):
        return np.exp(-gamma * cdist(X[rows], X[cols], "sqeuclidean"))

    def form(i=None):
        return np.exp(-gamma * cdist(X, X, "sqeuclidean"))

    base = f"RBF N={N}, d={dim}, gamma={gamma:g}"
    rows = []
    # forming and a full dpstrf, independent of k
    r_setup = _cap(cfg, "rp_setup", None, repeats)
    _log(log, f"rpcholesky: {base}: forming and full dpstrf, {r_setup} rounds")
    K = form()
    trace = float(np.trace(K))

    greedy_pivots = {}  # k -> lowrank's greedy pivots (to compare with dpstrf's)

    def fresh_copy(i):
        return K.copy(order="F")

    def summarize(name, out, i):
        if name == RP_FORM:
            return {}
        if name.startswith("LAPACK"):
            c, piv, rank, info = out
            L = np.tril(c[:, :rank])
            pivots = set((piv[:rank] - 1).tolist())
            return {"rank": int(rank), "info": int(info),
                    "trace_error": (trace - float(np.sum(L * L))) / trace,
                    "n_evaluations": None,
                    "same_pivots": (pivots == greedy_pivots[rank] if rank in greedy_pivots
                                    else None)}
        F = out.factor
        return {"rank": int(out.rank), "trace_error": (trace - float(np.sum(F * F))) / trace,
                "reported_trace_error": float(out.trace_error),
                "n_evaluations": int(out.n_evaluations), "converged": bool(out.converged),
                "n_iter": int(out.n_iter), "message": out.message}

    timed = _rounds({
        RP_FORM: (None, form),
        RP_DPSTRF_FULL: (fresh_copy, lambda A: lapack.dpstrf(A, lower=1, overwrite_a=1)),
    }, r_setup, summarize)
    for name, data in timed.items():
        sm = data["summaries"]
        extra = {}
        if name == RP_DPSTRF_FULL:
            extra = {"rank": sm[0]["rank"], "trace_error_median": sm[0]["trace_error"],
                     "trace_error_max": sm[0]["trace_error"]}
        rows.append(_row("rpcholesky", f"{base}, formed", name, data["times"], N=N,
                         k=None, **extra))
    form_time = rows[0]["time_s"]
    for k in cfg["rp_ranks"]:
        problem = f"{base}, k={k}"
        # dpstrf's tol that stops it after k pivots: between the pivot values k and k+1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            greedy = rp_cholesky(K, min(k + 1, N), method="greedy")
        F = greedy.factor
        d_k = np.diagonal(K) - np.sum(F[:, :k] ** 2, axis=1)
        d_km1 = np.diagonal(K) - np.sum(F[:, :k - 1] ** 2, axis=1)
        tol = math.sqrt(max(float(d_k.max()), 0.0) * float(d_km1.max()))
        greedy_pivots[k] = set(greedy.pivots[:k].tolist())
        del F, greedy, d_k, d_km1
        cases = {
            RP_ACCELERATED: (None, lambda i, k=k: rp_cholesky(kernel, k, diag=diag, rng=i)),
            RP_SIMPLE: (None, lambda i, k=k: rp_cholesky(kernel, k, diag=diag, block_size=1,
                                                         rng=i)),
            RP_ARRAY: (None, lambda i, k=k: rp_cholesky(K, k, rng=i)),
            RP_GREEDY: (None, lambda i, k=k: rp_cholesky(kernel, k, diag=diag,
                                                         method="greedy")),
            RP_UNIFORM: (None, lambda i, k=k: rp_cholesky(kernel, k, diag=diag,
                                                          method="uniform", rng=i)),
            RP_DPSTRF: (fresh_copy, lambda A, tol=tol: lapack.dpstrf(A, tol=tol, lower=1,
                                                                      overwrite_a=1)),
        }
        _log(log, f"rpcholesky: {problem}, {repeats} rounds (dpstrf tol {tol:.6g})")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            timed = _rounds(cases, repeats, summarize)
        for name, data in timed.items():
            sm = data["summaries"]
            errors = [s["trace_error"] for s in sm]
            evals = [s["n_evaluations"] for s in sm if s["n_evaluations"] is not None]
            rows.append(_row(
                "rpcholesky", problem, name, data["times"], N=N, k=k,
                rank=int(min(s["rank"] for s in sm)),
                trace_error_median=float(np.median(errors)),
                trace_error_max=float(np.max(errors)),
                reported_trace_error_max=_worst(sm, "reported_trace_error"),
                evaluations_ratio=(float(np.median(evals)) / ((k + 1) * N) if evals
                                   else None),
                n_blocks=(int(np.median([s["n_iter"] for s in sm])) if "n_iter" in sm[0]
                          else None),
                converged=(all(s["converged"] for s in sm) if "converged" in sm[0]
                           else None),
                dpstrf_tol=tol if name == RP_DPSTRF else None,
                same_pivots_as_greedy=(all(s["same_pivots"] for s in sm)
                                       if name == RP_DPSTRF else None),
                form_time_s=form_time))
    _set_ratios(rows, RP_DPSTRF)
    for row in rows:
        if row["k"] is not None:
            row["time_per_k2n_ns"] = row["time_s"] / (row["k"] ** 2 * N) * 1e9
    return rows


# ------------------------------------------------------------------------ targets


def _find(rows, group, problem_part, solver):
    return next((r for r in rows if r["group"] == group and problem_part in r["problem"]
                 and r["solver"] == solver), None)


def _targets(rows, cfg):
    targets = []
    timing = cfg is FULL  # the quick sizes say nothing about the speed targets
    n = cfg["target_svd_n"]
    for problem, solver in ((p, s) for p in (f"Gaussian {n}x{n}",
                                             f"Gaussian {n}x{n}, {SINGLE_THREAD}")
                            for s in (JSVD_RANDOM, JSVD_CYCLIC)):
        row = next((r for r in rows if r["group"] == "svd" and r["problem"] == problem
                    and r["solver"] == solver), None)
        if row is None or not timing:
            continue
        note = (" (SPEC 6; random is the default)" if solver == JSVD_RANDOM else "")
        if SINGLE_THREAD in problem:
            note = " (robustness check: the SPEC's 2 cores unused)"
        targets.append({
            "target": f"{problem}: {solver} within {SVD_TARGET:g}x of dgejsv's time" + note,
            "value": f"{row['ratio']:.2f}x median ({row['time_s']:.2f} s); "
                     f"{row['ratio_min']:.2f}x fastest-of-repeats",
            "passed": row["ratio"] <= SVD_TARGET})
    # accuracy on graded matrices
    graded = sorted({r["problem"] for r in rows if r["group"] == "eigh"
                     and r.get("kind") == "graded"}, key=lambda p: _find(
                         rows, "eigh", p, EVR)["n"])
    for problem in graded:
        peer = max(_find(rows, "eigh", problem, d)["max_rel_error"] for d in (EVR, EVD))
        peer_min = min(_find(rows, "eigh", problem, d)["max_rel_error"] for d in (EVR, EVD))
        for solver in (JEIGH_RANDOM, JEIGH_CYCLIC):
            ours = _find(rows, "eigh", problem, solver)
            targets.append({
                "target": f"{problem}: {solver} max relative eigenvalue error >= "
                          f"{ACCURACY_GAP:g}x smaller than scipy.linalg.eigh's (evr, evd; "
                          f"reference {ours['reference']})",
                "value": f"{ours['max_rel_error']:.1e} vs {peer_min:.1e}-{peer:.1e}",
                "passed": ours["max_rel_error"] * ACCURACY_GAP <= peer_min})
    for problem in sorted({r["problem"] for r in rows if r["group"] == "svd"
                           and r.get("graded")}):
        peer = _find(rows, "svd", problem, GESDD)["max_rel_error"]
        for solver in (JSVD_RANDOM, JSVD_CYCLIC):
            ours = _find(rows, "svd", problem, solver)
            targets.append({
                "target": f"{problem}: {solver} max relative singular value error >= "
                          f"{ACCURACY_GAP:g}x smaller than gesdd's "
                          f"(reference {ours['reference']})",
                "value": f"{ours['max_rel_error']:.1e} vs {peer:.1e}",
                "passed": ours["max_rel_error"] * ACCURACY_GAP <= peer})
    # RPCholesky
    ranks = cfg["rp_ranks"]
    for k in ranks:
        part = f", k={k}"
        acc = _find(rows, "rpcholesky", part, RP_ACCELERATED)
        dps = _find(rows, "rpcholesky", part, RP_DPSTRF)
        greedy = _find(rows, "rpcholesky", part, RP_GREEDY)
        simple = _find(rows, "rpcholesky", part, RP_SIMPLE)
        if acc is None or dps is None:
            continue
        if timing:
            targets.append({
                "target": f"k={k}: accelerated rp_cholesky within {RP_DPSTRF_FACTOR:g}x of "
                          f"dpstrf stopped at rank k (issue)",
                "value": f"{acc['time_s']:.3f} s vs {dps['time_s']:.3f} s (rank "
                         f"{dps['rank']}): {acc['ratio']:.2f}x",
                "passed": acc["ratio"] <= RP_DPSTRF_FACTOR})
            speedup = dps["time_s"] / acc["time_s"]
            with_form = (dps["time_s"] + acc["form_time_s"]) / acc["time_s"]
            targets.append({
                "target": f"k={k}: accelerated rp_cholesky >= {RP_SEVERAL:g}x faster than "
                          f"dpstrf on the formed matrix, forming not counted (SPEC 6)",
                "value": f"{speedup:.2f}x", "passed": speedup >= RP_SEVERAL})
            targets.append({
                "target": f"k={k}: accelerated rp_cholesky >= {RP_SEVERAL:g}x faster than "
                          f"forming the matrix + dpstrf (SPEC 6, forming counted)",
                "value": f"{with_form:.2f}x (forming {acc['form_time_s']:.2f} s)",
                "passed": with_form >= RP_SEVERAL})
        worst_rp = max(acc["trace_error_median"], simple["trace_error_median"])
        greedy_best = min(greedy["trace_error_median"], dps["trace_error_median"])
        targets.append({
            "target": f"k={k}: RPCholesky trace error (accelerated and simple, median) no "
                      f"worse than greedy pivoting's (lowrank greedy, dpstrf) (SPEC 6)",
            "value": f"{acc['trace_error_median']:.2e} / {simple['trace_error_median']:.2e}"
                     f" vs {greedy['trace_error_median']:.2e} / "
                     f"{dps['trace_error_median']:.2e}",
            "passed": worst_rp <= greedy_best})
        targets.append({
            "target": f"k={k}: accelerated rp_cholesky reads at most {RP_EVALUATIONS:g} "
                      f"(k + 1) N entries (O(k N) evaluations)",
            "value": f"{acc['evaluations_ratio']:.3f} (k + 1) N",
            "passed": acc["evaluations_ratio"] <= RP_EVALUATIONS})
    if timing and len(ranks) >= 2:
        k0, k1 = ranks[-2], ranks[-1]
        a0 = _find(rows, "rpcholesky", f", k={k0}", RP_ACCELERATED)
        a1 = _find(rows, "rpcholesky", f", k={k1}", RP_ACCELERATED)
        growth = a1["time_s"] / a0["time_s"]
        targets.append({
            "target": f"accelerated rp_cholesky cost O(k^2 N): t(k={k1}) / t(k={k0}) <= "
                      f"({k1}/{k0})^2 = {(k1 / k0) ** 2:.2f}",
            "value": f"{growth:.2f} (exponent {math.log(growth) / math.log(k1 / k0):.2f})",
            "passed": growth <= (k1 / k0) ** 2})
        acc = a1
        simple = _find(rows, "rpcholesky", f", k={k1}", RP_SIMPLE)
        ratio = simple["time_s"] / acc["time_s"]
        targets.append({
            "target": f"k={k1}: accelerated rp_cholesky >= {RP_SEVERAL:g}x faster than the "
                      "simple variant (issue)",
            "value": f"{ratio:.2f}x ({simple['time_s']:.2f} s vs {acc['time_s']:.2f} s)",
            "passed": ratio >= RP_SEVERAL})
    return targets


# ------------------------------------------------------------------------ main


def _revision():
    """``(short commit, git status --short lowrank lines)``, read-only git."""
    root = pathlib.Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        status = subprocess.run(["git", "--no-optional-locks", "-C", str(root), "status",
                                 "--short", "--", "lowrank"],
                                capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, status.splitlines()


def main(quick=False, repeats=5, log=sys.stderr):
    """Run the benchmark; return ``{"name", "config", "rows", "targets", "machine",
    "load_average_start", "loads", "revision", "status"}``.

    Each row has the keys in ``ROW_FIELDS`` plus its group's columns (groups ``svd``,
    ``eigh``, ``qr``, ``cholesky``, ``rpcholesky``).  ``ratio`` is the row's median time
    over that of the group's peer on the same problem (dgejsv with joba=0; eigh evr;
    Householder QR; potrf; dpstrf stopped at rank k): how many times slower than it.
    """
    cfg = QUICK if quick else FULL
    load_start = _load()
    head, status = _revision()
    t_start = time.perf_counter()
    _log(log, f"warm-up (lowrank at {head}; changes under lowrank/: {status or 'none'})")
    _warm_up()
    rows, loads, seconds = [], {}, {}
    for group, run in (("svd", _svd_group), ("eigh", _eigh_group), ("qr", _qr_group),
                       ("cholesky", _cholesky_group), ("rpcholesky", _rp_group)):
        before, t0 = _load(), time.perf_counter()
        rows += run(cfg, repeats, log)
        loads[group] = (before, _load())
        seconds[group] = time.perf_counter() - t0
    head_end, status_end = _revision()
    return {
        "name": "factorization",
        "config": {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()
                      if k != "repeat_caps"},
                   "repeat_caps": {k: (v if not isinstance(v, dict) else
                                       {str(n): c for n, c in v.items()})
                                   for k, v in cfg["repeat_caps"].items()},
                   "repeats": repeats, "data_seed": DATA_SEED, "quick": quick,
                   "seconds": time.perf_counter() - t_start, "group_seconds": seconds},
        "rows": rows,
        "targets": _targets(rows, cfg),
        "machine": machine_info(),
        "load_average_start": load_start,
        "loads": {k: [list(v) if v is not None else None for v in pair]
                  for k, pair in loads.items()},
        "revision": head, "status": status,
        "revision_end": head_end, "status_end": status_end,
    }


# ------------------------------------------------------------------------ Markdown


def _load_text(result, group):
    pair = result["loads"].get(group)
    if not pair or pair[0] is None:
        return ""
    return (f" Load average (1 min) {pair[0][0]:.2f} before, {pair[1][0]:.2f} after; "
            f"{result['config']['group_seconds'][group]:.0f} s.")


def _rounds_text(rows):
    counts = sorted({len(r["times_s"]) for r in rows})
    return "/".join(str(c) for c in counts)


def _caps_text(config, group):
    caps = config["repeat_caps"].get(group) or {}
    if not caps:
        return f"{config['repeats']} per problem"
    return ", ".join(f"at most {cap} at n = {n}" for n, cap in caps.items()) + \
        f", otherwise {config['repeats']}"


def _err(value):
    return "reference" if value is None else fmt(value, ".1e")


def _ratio(value):
    return "–" if value is None else f"{value:.2f}x"


def to_markdown(result):
    """Markdown tables + target list of a :func:`main` result."""
    c = result["config"]
    rows = result["rows"]
    by = {g: [r for r in rows if r["group"] == g] for g in
          ("svd", "eigh", "qr", "cholesky", "rpcholesky")}
    svd, eigh, qr, chol, rp = (by[g] for g in ("svd", "eigh", "qr", "cholesky", "rpcholesky"))
    graded_svd = next((r for r in svd if r.get("graded")), None)
    eigh_small = [r for r in eigh if r.get("reference_time_s") is not None]
    revision = result.get("revision") or "unknown"
    status = result.get("status")
    status_text = ("no uncommitted changes under lowrank/" if not status
                   else "uncommitted changes under lowrank/: " + "; ".join(status))
    load = result.get("load_average_start")
    parts = [
        f"**factorization: SVD** — `jacobi_svd` vs LAPACK `dgejsv` (`joba=0`, σ = "
        "sva·work[0]/work[1]) and `scipy.linalg.svd` (gesdd), all computing U and V; "
        f"median of {_rounds_text(svd)} rounds (round-robin, warm-up at a small size); "
        "fastest = the fastest repeat. time / dgejsv: median over dgejsv's median "
        "(fastest over fastest in brackets). Error: max_k |σ̂_k − σ_k|/σ_k, worst repeat, "
        "against gesdd (Gaussian) or "
        + (f"{graded_svd['reference']} (graded, {graded_svd['reference_time_s']:.1f} s)"
           if graded_svd and graded_svd.get("reference_time_s") is not None
           else "dgejsv (graded; mpmath missing)")
        + "; sweeps = most over the repeats." + _load_text(result, "svd"),
        markdown_table(
            ["problem", "method", "median (s)", "fastest (s)", "time / dgejsv",
             "max rel. σ error", "sweeps", "rotations", "converged"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".3f"), fmt(r["min_s"], ".3f"),
              f"{_ratio(r['ratio'])} ({_ratio(r['ratio_min'])})",
              "reference" if r["solver"] == GESDD and not r.get("graded")
              else _err(r["max_rel_error"]),
              fmt(r["n_iter"]), fmt(r["n_transforms"]), fmt(r["converged"])] for r in svd]),
        "**factorization: symmetric eigenproblem** — `jacobi_eigh` vs `scipy.linalg.eigh` "
        "(evr, evd) and potrf + dgejsv(joba=0) on Lᵀ (λ = σ², eigenvectors V), all computing "
        f"eigenvectors; median of {_rounds_text(eigh)} rounds ({_caps_text(c, 'eigh')}; the "
        "ratio of the fastest rounds in brackets). "
        "Error: max_k |λ̂_k − λ_k|/|λ_k|, worst repeat, against "
        + (f"{eigh_small[0]['reference']} at n = {c['eigh_accuracy_n']} "
           f"({sum({r['problem']: r['reference_time_s'] for r in eigh_small}.values()):.1f}"
           " s for both matrices)" if eigh_small else "potrf + dgejsv at the smallest n")
        + " and against potrf + dgejsv(joba=0) on Lᵀ at the larger n (its own error at "
        f"n = {c['eigh_accuracy_n']} shows how far it can be trusted). Graded: DHD, H SPD "
        f"of condition 10, D = 10^(−{c['eigh_grading_decades']}·i/(n−1)) randomly permuted."
        + _load_text(result, "eigh"),
        markdown_table(
            ["problem", "method", "median (s)", "fastest (s)", "time / evr",
             "max rel. λ error", "sweeps", "rotations", "converged"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".3f"), fmt(r["min_s"], ".3f"),
              f"{_ratio(r['ratio'])} ({_ratio(r['ratio_min'])})", _err(r["max_rel_error"]),
              fmt(r["n_iter"]), fmt(r["n_transforms"]), fmt(r["converged"])] for r in eigh]),
        f"**factorization: QR** of `low_rank_matrix(({c['qr_shape'][0]}, {c['qr_shape'][1]}),"
        f" {c['qr_shape'][1]}, cond=c)` — `gram_schmidt_qr` (pairwise cyclic and random; "
        "classical, modified, cgs2 column by column) vs `scipy.linalg.qr` (economic), median "
        f"of {_rounds_text(qr)} rounds (the ratio of the fastest rounds in brackets); "
        "‖I − QᵀQ‖₂ and ‖AP − QR‖_F/‖A‖_F, worst repeat."
        + _load_text(result, "qr"),
        markdown_table(
            ["problem", "method", "median (s)", "fastest (s)", "time / Householder",
             "‖I − QᵀQ‖₂", "residual", "sweeps", "eliminations"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".3f"), fmt(r["min_s"], ".3f"),
              f"{_ratio(r['ratio'])} ({_ratio(r['ratio_min'])})",
              fmt(r["orthogonality"], ".1e"), fmt(r["residual"], ".1e"), fmt(r["n_iter"]),
              fmt(r["n_transforms"])] for r in qr]),
        "**factorization: Cholesky** of Wishart matrices — `elimination_cholesky` vs "
        "`scipy.linalg.cholesky` (potrf) and `dpstrf` (greedy pivoted, default tol), median "
        f"of {_rounds_text(chol)} rounds (the ratio of the fastest rounds in brackets); "
        "residual ‖PᵀAP − LLᵀ‖_F/‖A‖_F."
        + _load_text(result, "cholesky"),
        markdown_table(
            ["problem", "method", "median (s)", "fastest (s)", "time / potrf", "residual",
             "sweeps", "eliminations"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".4f"), fmt(r["min_s"], ".4f"),
              f"{_ratio(r['ratio'])} ({_ratio(r['ratio_min'])})",
              fmt(r["residual"], ".1e"), fmt(r["n_iter"]), fmt(r["n_transforms"])]
             for r in chol]),
        f"**factorization: RPCholesky** (B6) — RBF kernel exp(−γ‖x − y‖²) of N = "
        f"{c['rp_points']} standard Gaussian points in {c['rp_dim']}-d, γ = {c['rp_gamma']:g}."
        " lowrank methods get the kernel as a callable (never formed), except the row "
        "\"on the formed matrix\" (rp_cholesky(K, k), its input checks included); dpstrf "
        "runs in place "
        "on a Fortran copy of the formed matrix made outside the timing, stopped at rank k "
        "by its tol (the geometric mean of the largest residual diagonal after k − 1 and k "
        "greedy pivots; the rank it returned is shown). Median of "
        f"{_rounds_text([r for r in rp if r['k'] is not None])} rounds (forming and the full "
        f"dpstrf: {_rounds_text([r for r in rp if r['k'] is None])}). Trace error = (tr K − "
        "‖F‖_F²)/tr K from the factor (median; worst repeat); entries = n_evaluations / "
        "((k + 1) N); t/(k²N) in ns; time / dpstrf(k) of the fastest rounds in brackets."
        + _load_text(result, "rpcholesky"),
        markdown_table(
            ["problem", "method", "median (s)", "fastest (s)", "time / dpstrf(k)", "rank",
             "trace error (median)", "trace error (worst)", "entries", "t/(k²N)",
             "blocks/steps"],
            [[r["problem"], r["solver"], fmt(r["time_s"], ".3f"), fmt(r["min_s"], ".3f"),
              (f"{_ratio(r['ratio'])} ({_ratio(r['ratio_min'])})" if r["ratio"] is not None
               else "–"), fmt(r.get("rank")), fmt(r.get("trace_error_median"), ".2e"),
              fmt(r.get("trace_error_max"), ".2e"),
              fmt(r.get("evaluations_ratio"), ".3f"), fmt(r.get("time_per_k2n_ns"), ".2f"),
              fmt(r.get("n_blocks"))] for r in rp]),
        "dpstrf stopped at rank k: tol per k "
        + ", ".join(f"{r['k']}: {r['dpstrf_tol']:.6g}" for r in rp
                    if r["solver"] == RP_DPSTRF)
        + "; the same pivot set as lowrank's greedy rule: "
        + ", ".join(f"k={r['k']}: {fmt(r['same_pivots_as_greedy'])}" for r in rp
                    if r["solver"] == RP_DPSTRF) + ".",
        (f"Run time {c['seconds']:.0f} s; lowrank at {revision} ({status_text})"
         + load_phrase(load) + "."),
        "Targets (SPEC 6 and the issue):\n\n" + targets_markdown(result["targets"]),
    ]
    return "\n\n".join(parts)


if __name__ == "__main__":
    run_cli(__doc__, main, to_markdown)
