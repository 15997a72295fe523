"""Sketch application: ``lowrank.sketch`` operators side by side with SciPy.

Data: a dense C-ordered float64 Gaussian matrix A, n x d = 2^17 x 256 and 2^16 x 64
(``--quick``: 2^14 x 64 only).

- SRHT (``SRHTSketch``, m = 4d, blocked FWHT) apply, ``S @ A``, vs
  ``scipy.fft.dct(A, axis=0, norm="ortho")`` on the same matrix (the transform alone, no
  sign flips or row sampling, with SciPy's default ``workers``; also shown with
  ``workers=-1``).  Target (SPEC 6): SRHT at least as fast as the default dct call.
- Sparse sign (``SparseSignSketch``, k = 8 per column, m = 3d) apply, ``S @ A``, vs building
  a SciPy CSR sketch with the same distribution (k distinct random rows per column, random
  signs, scale 1/sqrt(k)) and multiplying; **the peer's time includes building the CSR
  matrix**.  Target (SPEC 6): >= 3x faster.  Shown for reference: our construction + apply,
  and the CSR product alone with the matrix built beforehand.
- Gaussian sketch (``GaussianSketch``, m = 3d) apply, for reference, next to drawing the
  dense m x n Gaussian matrix with NumPy and multiplying.

Operators are constructed outside the timed region unless the row says otherwise.  One
warm-up call each (Numba compilation excluded), then the median of ``repeats`` runs, taken
round-robin over the cases.

Run: ``python benchmarks/bench_sketch.py [--quick] [--repeats N]``.
"""

import math
import sys

import numpy as np
import scipy.fft
import scipy.sparse
from _common import (
    fmt,
    machine_info,
    markdown_table,
    run_cli,
    targets_markdown,
    time_interleaved,
)

FULL_SIZES = ((2**17, 256), (2**16, 64))
QUICK_SIZES = ((2**14, 64),)
DATA_SEED = 7
SKETCH_SEED = 11
NNZ_PER_COLUMN = 8
SRHT_GAMMA = 4
SPARSE_GAMMA = 3
GAUSSIAN_GAMMA = 3
SRHT_TARGET = 1.0
SPARSE_TARGET = 3.0

ROW_FIELDS = ("size", "group", "operation", "m", "peer", "time_s", "times_s", "ratio")


def scipy_sparse_sign(m, n, k, rng):
    """An m x n SciPy CSR sparse sign sketch: k distinct rows per column (Floyd's sampling,
    vectorised over columns), signs +-1/sqrt(k)."""
    rows = np.empty((n, k), dtype=np.int64)
    for j, top in enumerate(range(m - k, m)):
        pick = rng.integers(0, top + 1, size=n)
        taken = (rows[:, :j] == pick[:, None]).any(axis=1)
        rows[:, j] = np.where(taken, top, pick)
    signs = rng.choice(np.array([-1.0, 1.0]), size=n * k) / math.sqrt(k)
    indptr = np.arange(0, n * k + 1, k)
    return scipy.sparse.csc_matrix((signs, rows.ravel(), indptr), shape=(m, n)).tocsr()


def _cases(A):
    from lowrank.sketch import GaussianSketch, SparseSignSketch, SRHTSketch

    n, d = A.shape
    m_srht, m_sparse, m_gauss = SRHT_GAMMA * d, SPARSE_GAMMA * d, GAUSSIAN_GAMMA * d
    srht = SRHTSketch(m_srht, n, rng=SKETCH_SEED)
    sparse = SparseSignSketch(m_sparse, n, rng=SKETCH_SEED, nnz_per_column=NNZ_PER_COLUMN)
    csr = scipy_sparse_sign(m_sparse, n, NNZ_PER_COLUMN, np.random.default_rng(SKETCH_SEED))
    gauss = GaussianSketch(m_gauss, n, rng=SKETCH_SEED)
    k = NNZ_PER_COLUMN
    # (group, operation, m, timed callable of the repeat index, is the group's peer)
    return [
        ("srht", "lowrank SRHTSketch @ A", m_srht, lambda i: srht @ A, False),
        ("srht", "scipy.fft.dct(A, axis=0, norm='ortho')", n,
         lambda i: scipy.fft.dct(A, axis=0, norm="ortho"), True),
        ("srht", "scipy.fft.dct(..., workers=-1)", n,
         lambda i: scipy.fft.dct(A, axis=0, norm="ortho", workers=-1), False),
        ("sparse_sign", f"lowrank SparseSignSketch(k={k}) @ A", m_sparse,
         lambda i: sparse @ A, False),
        ("sparse_sign", f"build SciPy CSR sketch (k={k}) + CSR @ A", m_sparse,
         lambda i: scipy_sparse_sign(m_sparse, n, k, np.random.default_rng(i + 1)) @ A, True),
        ("sparse_sign", f"lowrank construct SparseSignSketch(k={k}) + apply", m_sparse,
         lambda i: SparseSignSketch(m_sparse, n, rng=i + 1, nnz_per_column=k) @ A, False),
        ("sparse_sign", "CSR @ A only (CSR built beforehand)", m_sparse, lambda i: csr @ A,
         False),
        ("gaussian", "lowrank GaussianSketch @ A", m_gauss, lambda i: gauss @ A, False),
        ("gaussian", "NumPy: (rng.standard_normal((m, n)) / sqrt(m)) @ A", m_gauss,
         lambda i: (np.random.default_rng(i + 1).standard_normal((m_gauss, n))
                    / math.sqrt(m_gauss)) @ A, True),
    ]


def _targets(rows):
    out = []
    for size in dict.fromkeys(r["size"] for r in rows):
        by_op = {r["operation"]: r for r in rows if r["size"] == size}
        srht = by_op["lowrank SRHTSketch @ A"]
        out.append({"target": f"{size}: SRHT apply at least as fast as scipy.fft.dct "
                              f"(default workers)",
                    "value": f"{srht['ratio']:.2f}x",
                    "passed": srht["ratio"] >= SRHT_TARGET})
        sparse = by_op[f"lowrank SparseSignSketch(k={NNZ_PER_COLUMN}) @ A"]
        out.append({"target": f"{size}: sparse sign apply >= {SPARSE_TARGET:g}x faster than "
                              f"building a SciPy CSR sketch + multiplying",
                    "value": f"{sparse['ratio']:.2f}x",
                    "passed": sparse["ratio"] >= SPARSE_TARGET})
    return out


def main(quick=False, repeats=5, log=sys.stderr):
    """Run the benchmark; return ``{"name", "config", "rows", "targets", "machine"}``.

    Each row has the keys in ``ROW_FIELDS``; ``ratio`` is the peer's median time over the
    row's (> 1: faster than the peer of its group).
    """
    rows = []
    for n, d in QUICK_SIZES if quick else FULL_SIZES:
        size = f"{n}x{d}"
        A = np.random.default_rng(DATA_SEED).standard_normal((n, d))
        cases = _cases(A)
        if log:
            print(f"[bench_sketch] {size}: {len(cases)} cases x (1 + {repeats}) calls",
                  file=log, flush=True)
        timed = time_interleaved({op: fn for _, op, _, fn, _ in cases}, repeats)
        size_rows = [{"size": size, "group": group, "operation": op, "m": m, "peer": is_peer,
                      "time_s": timed[op][0], "times_s": timed[op][1]}
                     for group, op, m, _, is_peer in cases]
        peers = {r["group"]: r["time_s"] for r in size_rows if r["peer"]}
        for r in size_rows:
            r["ratio"] = peers[r["group"]] / r["time_s"]
        rows += size_rows
        del A
    return {
        "name": "sketch",
        "config": {"sizes": [list(s) for s in (QUICK_SIZES if quick else FULL_SIZES)],
                   "repeats": repeats, "nnz_per_column": NNZ_PER_COLUMN,
                   "srht_gamma": SRHT_GAMMA, "sparse_gamma": SPARSE_GAMMA,
                   "gaussian_gamma": GAUSSIAN_GAMMA},
        "rows": rows,
        "targets": _targets(rows),
        "machine": machine_info(),
    }


def to_markdown(result):
    """Markdown table + target list of a :func:`main` result."""
    c = result["config"]
    header = ["size (n x d)", "operation", "output rows m", "median time (s)",
              "peer time / time"]
    body = [[r["size"], r["operation"] + (" **(peer)**" if r["peer"] else ""), fmt(r["m"]),
             fmt(r["time_s"], ".4f"),
             fmt(r["ratio"], ".2f") + "x"] for r in result["rows"]]
    title = (f"**sketch apply**: dense float64 A, median of {c['repeats']} runs after a "
             f"warm-up. Peer of the SRHT rows: the default `scipy.fft.dct` call; peer of the "
             f"sparse-sign rows: building a SciPy CSR sketch (k = {c['nnz_per_column']}, "
             f"m = {c['sparse_gamma']}d) **plus** the CSR product; peer of the Gaussian rows: "
             f"drawing the dense Gaussian S with NumPy plus the GEMM. SRHT m = "
             f"{c['srht_gamma']}d, Gaussian m = {c['gaussian_gamma']}d. Operators are built "
             f"outside the timed region unless the row says \"build\"/\"construct\".")
    return "\n\n".join([title, markdown_table(header, body),
                        "Targets (SPEC 6):\n\n" + targets_markdown(result["targets"])])


if __name__ == "__main__":
    run_cli(__doc__, main, to_markdown, quick_help=f"only {QUICK_SIZES}")
