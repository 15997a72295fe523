"""The least-squares instances and sketch-and-solve trials of figures F1 and F2
(private): both measure the l_inf error of one sketch-and-solve draw, F1 against the
sketch size and F2 against the dimension."""

import dataclasses
import math

import numpy as np

from ..regression import linf_lstsq, lstsq
from ..sampling import leverage_scores, sample_rows
from ..sketch import make_sketch
from ..testing import lstsq_problem

#: Condition number of the generic instance.
GENERIC_COND = 1e3
#: Rows per column block of the adversarial instance.
BLOCK_SIZE = 8


@dataclasses.dataclass(frozen=True)
class Family:
    key: str
    label: str
    kind: str
    options: tuple = ()


FAMILIES = (
    Family("gaussian", "Gaussian", "gaussian"),
    Family("srht", "SRHT", "srht"),
    Family("countsketch", "CountSketch (sparse sign k = 1)", "countsketch"),
    Family("sparse_sign_k4", "sparse sign k = 4", "sparse_sign", (("nnz_per_column", 4),)),
    Family("sparse_sign_k8", "sparse sign k = 8", "sparse_sign", (("nnz_per_column", 8),)),
    Family("uniform", "uniform row sampling", "uniform"),
    Family("leverage", "leverage-score sampling", "leverage"),
)


@dataclasses.dataclass(frozen=True)
class Instance:
    """A least-squares instance with its exact solution, for error measurements."""

    Ab: np.ndarray  # [A b], n x (d + 1): one sketch product gives S A and S b
    x: np.ndarray  # the exact minimizer x*
    scale: float  # ||r|| * ||A^+||, the normalization of R_inf and R_2
    leverage: np.ndarray  # leverage-score sampling probabilities tau_i / d


def leverage_probabilities(A):
    """Leverage-score sampling probabilities ``tau_i / d`` (:func:`leverage_scores`)."""
    tau = leverage_scores(A).scores
    return tau / tau.sum()


def generic_instance(n, d, rng):
    problem = lstsq_problem(n, d, cond=GENERIC_COND, residual_norm=1.0, rng=rng)
    A = problem.A
    pinv_norm = 1.0 / np.linalg.svd(A, compute_uv=False)[-1]
    return Instance(Ab=np.column_stack([A, problem.b]), x=problem.x,
                    scale=float(np.linalg.norm(problem.residual) * pinv_norm),
                    leverage=leverage_probabilities(A))


def block_spike_instance(n, d, block=BLOCK_SIZE):
    if d * block >= n:
        raise ValueError(f"the block + spike instance needs n > d * block = {d * block}; "
                         f"got n = {n}.")
    A = np.zeros((n, d))
    rows = np.arange(d * block)
    A[rows, rows // block] = 1.0 / math.sqrt(block)
    x = np.full(d, 1.0 / math.sqrt(d))
    b = A @ x
    b[n - 1] = 1.0  # r = e_(n-1), outside the support of A: ||r|| = ||A^+|| = 1
    return Instance(Ab=np.column_stack([A, b]), x=x, scale=1.0,
                    leverage=leverage_probabilities(A))


def make_instance(panel, n, d, rng):
    return generic_instance(n, d, rng) if panel == "generic" else block_spike_instance(n, d)


def sample_with_replacement(Ab, probabilities, m, rng):
    """m rows drawn i.i.d. with probabilities p_i, each rescaled by 1 / sqrt(m p_i)
    (:func:`sample_rows` with replacement at p = 2)."""
    return sample_rows(Ab, probabilities, p=2, replace=True, n_samples=m, rng=rng,
                       check_finite=False).matrix


# Families whose sketch-and-solve linf_lstsq runs as it is (its sparse sign sketch has 4
# nonzeros per column); the others sketch with make_sketch or sample with sample_rows.
_LINF_LSTSQ = {"gaussian": "gaussian", "srht": "srht", "countsketch": "countsketch",
               "sparse_sign_k4": "sparse_sign"}


def sketched_solution(instance, family, m, rng):
    """The sketch-and-solve solution of one draw with an m-row sketch or sample."""
    Ab = instance.Ab
    d = instance.x.size
    if family.key in _LINF_LSTSQ:
        return linf_lstsq(Ab[:, :d], Ab[:, d], sketch=_LINF_LSTSQ[family.key],
                          sketch_size=m, rng=rng, check_finite=False).x
    n = Ab.shape[0]
    if family.kind == "uniform":
        SAb = sample_with_replacement(Ab, np.full(n, 1.0 / n), m, rng)
    elif family.kind == "leverage":
        SAb = sample_with_replacement(Ab, instance.leverage, m, rng)
    else:
        SAb = make_sketch(family.kind, m, n, rng=rng, **dict(family.options)) @ Ab
    # A rank-deficient sample (a block that was never drawn) gets the minimum-norm
    # solution, as any user of lstsq would.
    return lstsq(SAb[:, :d], SAb[:, d], method="direct", check_finite=False).x


def trial_errors(instance, family, m, rng):
    """``(R_inf, R_2)`` of one sketch-and-solve draw with an m-row sketch."""
    err = sketched_solution(instance, family, m, rng) - instance.x
    d = instance.x.size
    return (math.sqrt(d) * float(np.max(np.abs(err))) / instance.scale,
            float(np.linalg.norm(err)) / instance.scale)


def family_trials(instance, family, m, n_trials, rng, progress):
    """R_inf and R_2 over ``n_trials`` independent sketches (one sub-stream each)."""
    out = np.array([trial_errors(instance, family, m, g) for g in rng.spawn(n_trials)])
    if progress is not None:
        progress(n_trials)
    return out[:, 0], out[:, 1]
