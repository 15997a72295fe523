"""The work model of an AltMin half-sweep: multiply-adds per row, from its observation
count and how its regression was solved (``history["work"]`` of :func:`altmin`)."""

import dataclasses

import numpy as np

__all__ = ["SKETCH_NNZ", "SKETCH_ROWS_PER_RANK", "HalfSweep", "sweep_summary"]

# The per-row sketch of preconditioner="sketch": rows per unit of rank and nonzeros per
# observation (a sparse sign embedding).
SKETCH_ROWS_PER_RANK = 4
SKETCH_NNZ = 4


@dataclasses.dataclass(frozen=True)
class HalfSweep:
    """How one half-sweep solved its rows.

    ``steps[i]`` is the row's CG steps (``>= 0``) or a code of an exact solve: -1 exact
    (-2 with a rescue ridge), -3 exact after ``max_steps`` CG steps or a breakdown (-4
    with a rescue ridge); ``counts[i]`` its observations; ``kind`` is ``"exact"``,
    ``"qr"`` (CG preconditioned by the fixed factor's QR) or ``"sketch"`` (by the QR of
    the row's own sketch); ``dual`` whether exact rows with fewer observations than the
    rank and a ridge used the dual form.
    """

    steps: np.ndarray
    counts: np.ndarray
    kind: str
    dual: bool = True


def _work(half, k, lam, max_steps):
    """Multiply-adds of one half-sweep (see :class:`HalfSweep`)."""
    c = half.counts.astype(np.float64)
    steps = half.steps
    # exact: the Gram matrix and its Cholesky factor, or the dual c x c system
    # (plus Z = F_O P^-1 with the QR path's general penalty)
    dual = (c < k) & (lam > 0) & half.dual
    exact = np.where(dual, c * c * k + c**3 / 3.0 + (half.kind == "qr") * c * k * k,
                     k * k * c + k**3 / 3.0)
    exact = np.where(c > 0, exact, 0.0)
    # a CG row reads its observations 1 + steps times (a dot product and an update of
    # length k each); a row that reached the cap paid max_steps steps (at most) first
    tried = steps <= -3
    cg_steps = np.where(tried, max_steps, steps)
    cg = 2.0 * k * c * (1 + cg_steps)
    if half.kind == "sketch":  # sketch (nnz k per observation) and its QR (2 s k^2)
        s = SKETCH_ROWS_PER_RANK * k
        cg = cg + np.where(c > s, SKETCH_NNZ * k * c + 2.0 * s * k * k, 2.0 * c * k * k)
    cost = np.where(steps >= 0, cg, exact) + np.where(tried, cg, 0.0)
    return float(np.sum(cost))


def sweep_summary(halves, k, lam, max_steps):
    """The per-sweep history entries of the half-sweeps ``halves``: ``mean_inner_steps``,
    ``max_inner_steps``, ``exact_rows``, ``cg_fraction``, ``rescued_rows`` and ``work``."""
    steps = np.concatenate([h.steps for h in halves])
    counts = np.concatenate([h.counts for h in halves])
    observed = counts > 0
    cg = steps[(steps >= 0) & observed]
    n_observed = int(np.count_nonzero(observed))
    return {
        "mean_inner_steps": float(cg.mean()) if cg.size else 0.0,
        "max_inner_steps": float(cg.max()) if cg.size else 0.0,
        "exact_rows": int(np.sum((steps < 0) & observed)),
        "cg_fraction": cg.size / n_observed if n_observed else 0.0,
        "rescued_rows": int(np.sum((steps == -2) | (steps == -4))),
        "work": sum(_work(h, k, lam, max_steps) for h in halves),
    }
