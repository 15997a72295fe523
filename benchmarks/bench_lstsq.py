"""Dense least squares: ``lowrank.regression.lstsq`` side by side with LAPACK.

Problem (SPEC section 6; papers/sketching_regression.md, R1): ``lstsq_problem`` with
n x d = 2^17 x 256 (``--quick``: 2^14 x 64), cond(A) = 1e8, geometric spectrum, Haar
singular vectors, known solution x*, and two right-hand sides on the same A:
||r*|| / ||A x*|| = 1e-2, and 0.05 / 0.95 (the PARLA demo's b = 0.95 b_range + 0.05 b_orth);
then a block of ``BLOCK_COLUMNS`` right-hand sides on the same A (random x*_j, residuals
along the first problem's r* with ||r*_j|| / ||A x*_j|| from 1e-3 to 1e-1), solved in one
call (the accuracy columns report the worst column).

Solvers: ``scipy.linalg.lstsq`` (gelsd, the default, and gelsy), ``numpy.linalg.lstsq``, and
``lowrank.regression.lstsq`` with each ``method``.  One warm-up call each, then the median of
``repeats`` timed calls, taken round-robin over the solvers; the lowrank calls use a
different ``rng`` seed per repeat and the accuracy columns report the worst repeat.

Metrics: median time; speed-up vs gelsd (t_gelsd / t); residual excess
||A x - b|| / ||r*|| - 1; forward error ||x - x*|| / ||x*|| and its ratio to gelsd's;
backward-error proxy ||A^T r|| / (||A||_2 ||r||) with r = b - A x; iterations.

Targets (SPEC 6), for ``auto`` and ``sketch_and_precondition``: >= 3x faster than gelsd,
residual excess <= 1e-10, forward error within 10x of gelsd's.

Run: ``python benchmarks/bench_lstsq.py [--quick] [--repeats N]``.
"""

import functools
import statistics
import sys

import numpy as np
import scipy.linalg
from _common import (
    fmt,
    machine_info,
    markdown_table,
    run_cli,
    targets_markdown,
    time_interleaved,
)

FULL_SIZE = (2**17, 256)
QUICK_SIZE = (2**14, 64)
COND = 1e8
RESIDUAL_NORMS = (1e-2, 0.05 / 0.95)
PROBLEM_SEED = 20240601
BLOCK_COLUMNS = 8
LOWRANK_METHODS = ("auto", "sketch_and_precondition", "iterative_sketching",
                   "sketch_and_solve", "direct")
TARGET_METHODS = ("auto", "sketch_and_precondition")
SPEEDUP_TARGET = 3.0
EXCESS_TARGET = 1e-10
FORWARD_FACTOR_TARGET = 10.0
REFERENCE = "scipy.linalg.lstsq (gelsd)"

ROW_FIELDS = ("problem", "solver", "method_used", "time_s", "times_s", "speedup_vs_gelsd",
              "residual_excess", "forward_error", "forward_error_vs_lapack",
              "backward_error", "n_iter", "converged", "accurate")


def _peer_solvers():
    return {
        REFERENCE: lambda A, b, i: scipy.linalg.lstsq(A, b)[0],
        "scipy.linalg.lstsq (gelsy)": lambda A, b, i: scipy.linalg.lstsq(
            A, b, lapack_driver="gelsy")[0],
        "numpy.linalg.lstsq": lambda A, b, i: np.linalg.lstsq(A, b, rcond=None)[0],
    }


def _lowrank_solver(method):
    from lowrank.regression import lstsq

    # Seed i + 1 for timed call i (0 for the warm-up): same work each run, several draws.
    return lambda A, b, i: lstsq(A, b, method=method, rng=i + 1)


def _accuracy(A, b, x, x_star, r_star_norm, A_norm):
    """The accuracy metrics, the worst column's for a block of right-hand sides."""
    r = b - A @ x
    r_norm = np.linalg.norm(r, axis=0)
    return {
        "residual_excess": float(np.max(r_norm / r_star_norm - 1.0)),
        "forward_error": float(np.max(np.linalg.norm(x - x_star, axis=0)
                                      / np.linalg.norm(x_star, axis=0))),
        "backward_error": float(np.max(np.linalg.norm(A.T @ r, axis=0)
                                       / (A_norm * r_norm))),
    }


def _row(problem, name, median, times, outputs, A, b, x_star, r_star_norm, A_norm):
    is_lapack = isinstance(outputs[0], np.ndarray)
    xs = outputs if is_lapack else [out.x for out in outputs]
    acc = [_accuracy(A, b, x, x_star, r_star_norm, A_norm) for x in xs]
    row = {
        "problem": problem,
        "solver": name,
        "method_used": None,
        "time_s": median,
        "times_s": times,
        # worst repeat (the largest error; residual excess compared as a signed number)
        "residual_excess": max(a["residual_excess"] for a in acc),
        "forward_error": max(a["forward_error"] for a in acc),
        "backward_error": max(a["backward_error"] for a in acc),
        "n_iter": None,
        "converged": None,
    }
    if not is_lapack:
        first = outputs[0]
        row["method_used"] = (f"{first.method} ({first.preconditioner}, "
                              f"m={first.sketch_size})" if first.sketch_size else first.method)
        row["n_iter"] = int(statistics.median(int(out.n_iter) for out in outputs))
        row["converged"] = all(bool(out.converged) for out in outputs)
    return row


def _problems(n, d):
    """``(label, A, b, x*, ||r*||)`` per problem: the vectors, then the block."""
    from lowrank.testing import lstsq_problem

    for rel in RESIDUAL_NORMS:
        # The same seed gives the same A and x*; only the residual's size differs.
        P = lstsq_problem(n, d, cond=COND, residual_norm=rel, rng=PROBLEM_SEED)
        yield f"‖r*‖/‖Ax*‖={rel:.3g}", P.A, P.b, P.x, float(np.linalg.norm(P.residual))
    rng = np.random.default_rng(PROBLEM_SEED + 1)
    X = rng.standard_normal((d, BLOCK_COLUMNS))
    AX = P.A @ X
    # P.residual is orthogonal to range(A), so X is the exact solution of every column
    scale = np.geomspace(1e-3, 1e-1, BLOCK_COLUMNS) * np.linalg.norm(AX, axis=0)
    direction = P.residual / np.linalg.norm(P.residual)
    B = AX + direction[:, None] * scale[None, :]
    yield f"{BLOCK_COLUMNS} right-hand sides", P.A, B, X, scale


def _finish_rows(rows):
    ref = next(r for r in rows if r["solver"] == REFERENCE)
    for r in rows:
        r["speedup_vs_gelsd"] = ref["time_s"] / r["time_s"]
        r["forward_error_vs_lapack"] = r["forward_error"] / ref["forward_error"]
        r["accurate"] = (r["residual_excess"] <= EXCESS_TARGET
                         and r["forward_error_vs_lapack"] <= FORWARD_FACTOR_TARGET)


def _targets(rows):
    targets = []
    for r in rows:
        method = r["solver"].removeprefix("lowrank ")
        if method not in TARGET_METHODS or r["problem"].endswith("right-hand sides"):
            continue  # the SPEC targets are for one right-hand side
        label = f"{r['solver']} [{r['problem']}]"
        targets += [
            {"target": f"{label}: >= {SPEEDUP_TARGET:g}x faster than gelsd",
             "value": f"{r['speedup_vs_gelsd']:.2f}x",
             "passed": r["speedup_vs_gelsd"] >= SPEEDUP_TARGET},
            {"target": f"{label}: residual excess <= {EXCESS_TARGET:g}",
             "value": f"{r['residual_excess']:.2e}",
             "passed": r["residual_excess"] <= EXCESS_TARGET},
            {"target": f"{label}: forward error <= {FORWARD_FACTOR_TARGET:g}x gelsd's",
             "value": f"{r['forward_error_vs_lapack']:.2f}x",
             "passed": r["forward_error_vs_lapack"] <= FORWARD_FACTOR_TARGET},
        ]
    return targets


def main(quick=False, repeats=5, methods=LOWRANK_METHODS, log=sys.stderr):
    """Run the benchmark; return ``{"name", "config", "rows", "targets", "machine"}``.

    Each row is a dict with the keys in ``ROW_FIELDS``.
    """
    n, d = QUICK_SIZE if quick else FULL_SIZE
    solvers = dict(_peer_solvers())
    solvers.update({f"lowrank {m}": _lowrank_solver(m) for m in methods})
    rows = []
    A_norm = None
    for problem, A, b, x_star, r_star_norm in _problems(n, d):
        if A_norm is None:  # the same A in every problem
            A_norm = float(np.sqrt(np.linalg.eigvalsh(A.T @ A)[-1]))
        if log:
            print(f"[bench_lstsq] {n}x{d} {problem}: {len(solvers)} solvers x "
                  f"(1 + {repeats}) calls", file=log, flush=True)
        timed = time_interleaved(
            {name: functools.partial(solve, A, b) for name, solve in solvers.items()},
            repeats)
        problem_rows = [_row(problem, name, *timed[name], A, b, x_star, r_star_norm,
                             A_norm) for name in solvers]
        _finish_rows(problem_rows)
        rows += problem_rows
        del A, b
    return {
        "name": "lstsq",
        "config": {"n": n, "d": d, "cond": COND, "residual_norms": list(RESIDUAL_NORMS),
                   "block_columns": BLOCK_COLUMNS, "repeats": repeats,
                   "problem_seed": PROBLEM_SEED},
        "rows": rows,
        "targets": _targets(rows),
        "machine": machine_info(),
    }


def to_markdown(result):
    """Markdown table + target list of a :func:`main` result."""
    c = result["config"]
    header = ["problem", "solver", "method used", "median time (s)", "speed-up vs gelsd",
              "residual excess", "forward error", "fwd err / gelsd's",
              "‖Aᵀr‖/(‖A‖‖r‖)", "iterations", "accurate"]
    body = [[r["problem"], r["solver"], fmt(r["method_used"]), fmt(r["time_s"], ".3f"),
             fmt(r["speedup_vs_gelsd"], ".2f") + "x", fmt(r["residual_excess"]),
             fmt(r["forward_error"]), fmt(r["forward_error_vs_lapack"], ".2f"),
             fmt(r["backward_error"]), fmt(r["n_iter"]), fmt(r["accurate"])]
            for r in result["rows"]]
    title = (f"**lstsq**: A {c['n']} x {c['d']}, cond {c['cond']:g}, median of "
             f"{c['repeats']} runs after a warm-up. \"accurate\": residual excess <= "
             f"{EXCESS_TARGET:g} and forward error <= {FORWARD_FACTOR_TARGET:g}x gelsd's.")
    return "\n\n".join([title, markdown_table(header, body),
                        "Targets (SPEC 6):\n\n" + targets_markdown(result["targets"])])


if __name__ == "__main__":
    run_cli(__doc__, main, to_markdown, quick_help=f"smaller problem {QUICK_SIZE}")
