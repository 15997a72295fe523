"""The least-squares instances and sketch-and-solve trials of figures F1 and F2
(private): both measure the l_inf error of one sketch-and-solve draw, F1 against the
sketch size and F2 against the dimension."""

import dataclasses
import functools
import math
import os

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from ..regression import linf_lstsq, lstsq
from ..sampling import leverage_scores, sample_rows
from ..sketch import make_sketch
from ..testing import lstsq_problem

#: Condition number of the generic instance.
GENERIC_COND = 1e3
#: Rows per column block of the adversarial instance.
BLOCK_SIZE = 8

#: The Harwell-Boeing least-squares matrix illc1850 (F1 panel (c)): its shape and
#: number of stored entries, checked when it is loaded.
ILLC1850_SHAPE = (1850, 712)
ILLC1850_NNZ = 8636
#: Noise of the planted right-hand side ``b = A x0 + e`` of the real instance:
#: ``e ~ N(0, s^2 I)`` with ``s = REAL_NOISE_LEVEL * ||A x0|| / sqrt(n)``.
REAL_NOISE_LEVEL = 0.1


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


def illc1850_path():
    """Where SciPy's wheel ships illc1850: the PROPACK test data
    ``scipy/sparse/linalg/tests/propack_test_data.npz``, key ``A_real``.  The file is
    absent when SciPy was installed without its tests."""
    return os.path.join(os.path.dirname(scipy.sparse.linalg.__file__), "tests",
                        "propack_test_data.npz")


@functools.lru_cache(maxsize=2)
def _illc1850_arrays(path):
    # allow_pickle=True: `A_real` is a pickled scipy.sparse COO matrix.  This is the one
    # file ever loaded this way: the test data shipped inside the installed SciPy
    # itself (illc1850_path), a trusted source; never pass another path here.
    with np.load(path, allow_pickle=True) as archive:
        A = archive["A_real"][()]
    if (not scipy.sparse.issparse(A) or A.shape != ILLC1850_SHAPE
            or A.nnz != ILLC1850_NNZ):
        raise ValueError(f"{path}: `A_real` is not illc1850 (a {ILLC1850_SHAPE[0]} x "
                         f"{ILLC1850_SHAPE[1]} sparse matrix with {ILLC1850_NNZ} "
                         f"nonzeros); got {type(A).__name__} of shape "
                         f"{getattr(A, 'shape', None)}.")
    A = np.asarray(A.toarray(), dtype=np.float64)
    pinv_norm = 1.0 / float(np.linalg.svd(A, compute_uv=False)[-1])
    leverage = leverage_probabilities(A)
    for array in (A, leverage):
        array.setflags(write=False)  # cached: shared by every caller
    return A, pinv_norm, leverage


def load_illc1850():
    """illc1850 as a dense array, with ``||A^+||`` and its leverage-score sampling
    probabilities (cached, read-only).

    Raises
    ------
    FileNotFoundError
        SciPy was installed without its test data.
    OSError, KeyError, ValueError
        The file is not the archive expected.
    """
    path = illc1850_path()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"illc1850 ships with SciPy's tests as {path}, which is "
                                "missing (SciPy installed without its tests)")
    return _illc1850_arrays(path)


def illc1850_instance(rng, noise_level=REAL_NOISE_LEVEL):
    """illc1850 with a planted right-hand side ``b = A x0 + e``: ``x0 ~ N(0, I_d)`` and
    Gaussian noise ``e`` with ``||e|| ~ noise_level ||A x0||`` (the Harwell-Boeing
    right-hand side rhs1 does not ship with SciPy); ``x*`` by the direct solve."""
    A, pinv_norm, leverage = load_illc1850()
    n, d = A.shape
    x0 = rng.standard_normal(d)
    Ax0 = A @ x0
    b = Ax0 + (noise_level * np.linalg.norm(Ax0) / math.sqrt(n)) * rng.standard_normal(n)
    x = lstsq(A, b, method="direct", check_finite=False).x
    residual_norm = float(np.linalg.norm(b - A @ x))
    return Instance(Ab=np.column_stack([A, b]), x=x, scale=residual_norm * pinv_norm,
                    leverage=leverage)


def make_instance(panel, n, d, rng):
    """The instance of a panel; ``n`` and ``d`` are ignored by the real matrix."""
    if panel == "illc1850":
        return illc1850_instance(rng)
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
    n, d = Ab.shape[0], instance.x.size
    if family.key in _LINF_LSTSQ and 2 * m <= n:
        return linf_lstsq(Ab[:, :d], Ab[:, d], sketch=_LINF_LSTSQ[family.key],
                          sketch_size=m, rng=rng, check_finite=False).x
    if family.key in _LINF_LSTSQ:
        # Above n / 2 rows linf_lstsq declines to sketch and solves exactly (documented);
        # on a short matrix (illc1850: n = 2.6 d) lstsq's sketch-and-solve performs the
        # same computation with the same sketch, whatever m <= n.
        return lstsq(Ab[:, :d], Ab[:, d], method="sketch_and_solve",
                     sketch=_LINF_LSTSQ[family.key], sketch_size=m, rng=rng,
                     check_finite=False).x
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


def summary_columns(s_inf, s_2, idx):
    """The CSV columns of one point: the statistics (of ``summarize`` in F1's module)
    of R_inf (``s_inf``) and R_2 (``s_2``) at index ``idx``."""
    columns = {f"r_inf_{stat}": float(s_inf[stat][idx])
               for stat in ("median", "q05", "q95", "frac_above_1")}
    columns.update({f"r_2_{stat}": float(s_2[stat][idx]) for stat in ("median", "q05", "q95")})
    return columns
