"""Hypothesis strategies for property-based tests of randomized linear algebra.

Each strategy draws a few shape and size parameters and an integer seed, then builds the
example with a generator of :mod:`lowrank.testing`; so hypothesis shrinks towards small,
well-conditioned problems, a failing example is reproduced by its seed, and no strategy
draws raw floats into a matrix.  Importing this module imports hypothesis (a test-time
dependency: ``pip install "lowrank[test]"``); :mod:`lowrank.testing` itself does not.

- :func:`seeds`: integer seeds for any ``rng`` argument;
- :func:`low_rank_matrices`: rank-k matrices with a given range of condition numbers
  and, optionally, coherence (:class:`LowRankCase`);
- :func:`lstsq_problems`: least-squares problems with a known solution
  (:class:`~lowrank.testing.LstsqProblem`);
- :func:`observation_sets`: observed entries of a planted low-rank matrix, optionally with
  empty rows and duplicated entries (:class:`ObservationCase`);
- :func:`sparse_corruptions`: sparse outlier matrices;
- :func:`graded_spd_matrices`: graded symmetric positive definite matrices;
- :func:`symmetric_cp_problems`, :func:`cp_problems`: tensors with a planted CP
  decomposition below the subspace power methods' rank limits
  (:class:`~lowrank.testing.CPProblem`).

Examples
--------
A property a user would write: the exact leverage scores of any planted rank-k matrix
sum to k.

>>> import numpy as np
>>> from hypothesis import given, settings
>>> from lowrank.sampling import leverage_scores
>>> from lowrank.testing.strategies import low_rank_matrices
>>> @settings(max_examples=10, deadline=None)
... @given(case=low_rank_matrices(max_size=30, max_rank=4, max_cond=1e4))
... def test_scores_sum_to_rank(case):
...     res = leverage_scores(case.matrix)
...     assert res.rank == case.rank
...     assert np.isclose(res.scores.sum(), case.rank)
>>> test_scores_sum_to_rank()
"""

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from ..tensor import rank_bounds
from . import (
    cp_problem,
    graded_spd_matrix,
    low_rank_matrix,
    lstsq_problem,
    observation_mask,
    sparse_corruption,
    symmetric_cp_problem,
)

__all__ = [
    "LowRankCase",
    "ObservationCase",
    "cp_problems",
    "graded_spd_matrices",
    "low_rank_matrices",
    "lstsq_problems",
    "observation_sets",
    "seeds",
    "sparse_corruptions",
    "symmetric_cp_problems",
]


class LowRankCase(NamedTuple):
    """A planted low-rank matrix and how it was made."""

    matrix: np.ndarray
    rank: int
    cond: float
    coherence: float | None
    seed: int


class ObservationCase(NamedTuple):
    """Observed entries ``values[t] = matrix[rows[t], cols[t]]`` of a planted matrix (up to
    the duplicates, which repeat an observed entry with the same value)."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple
    matrix: np.ndarray
    rank: int
    seed: int


def seeds():
    """Integer seeds ``0 <= seed < 2**32`` (anything ``rng=`` accepts)."""
    return st.integers(0, 2**32 - 1)


def _log_uniform(low, high):
    """Floats spread evenly in ``log10`` between ``low`` and ``high`` (``low`` shrinks)."""
    return st.floats(0.0, float(np.log10(high / low))).map(lambda t: low * 10.0**t)


@st.composite
def low_rank_matrices(draw, *, min_size=2, max_size=40, max_rank=5, max_cond=1e6,
                      max_coherence=None, tall=False, dtype=np.float64):
    """Rank-k ``m x n`` matrices with a geometric spectrum (:func:`low_rank_matrix`).

    Parameters
    ----------
    min_size, max_size : int
        Bounds on ``m`` and ``n``.
    max_rank : int
        Upper bound on ``k`` (also at most ``min(m, n)``).
    max_cond : float
        Condition numbers (of the nonzero spectrum) are drawn log-uniformly in
        ``[1, max_cond]``.
    max_coherence : float, optional
        When given, a coherence target in ``[1, max_coherence]`` is drawn too (capped at
        ``min(m, n) / k``); default Haar subspaces.
    tall : bool
        Draw ``m >= n``.
    dtype : float32 or float64

    Returns
    -------
    strategy of LowRankCase
        ``low_rank_matrix(case.matrix.shape, case.rank, cond=case.cond,
        coherence=case.coherence, rng=case.seed)`` rebuilds ``case.matrix``.
    """
    m = draw(st.integers(min_size, max_size), label="m")
    n = draw(st.integers(min_size, m if tall else max_size), label="n")
    k = draw(st.integers(1, min(max_rank, m, n)), label="rank")
    cond = draw(_log_uniform(1.0, max_cond), label="cond")
    coherence = None
    if max_coherence is not None:
        coherence = draw(st.floats(1.0, max(1.0, min(max_coherence, min(m, n) / k))),
                         label="coherence")
    seed = draw(seeds(), label="seed")
    M = low_rank_matrix((m, n), k, cond=cond, coherence=coherence, rng=seed, dtype=dtype)
    return LowRankCase(matrix=M, rank=k, cond=cond, coherence=coherence, seed=seed)


@st.composite
def lstsq_problems(draw, *, min_rows=20, max_rows=300, max_cols=12, max_cond=1e8,
                   max_residual=1.0, dtype=np.float64):
    """Tall least-squares problems with a known solution (:func:`lstsq_problem`).

    ``n`` in ``[max(min_rows, d), max_rows]``, ``d`` in ``[1, max_cols]``, the condition
    number log-uniform in ``[1, max_cond]`` and ``||A x - b||`` log-uniform in
    ``[1e-6, max_residual]``.

    Returns
    -------
    strategy of LstsqProblem
    """
    d = draw(st.integers(1, max_cols), label="d")
    n = draw(st.integers(max(min_rows, d), max(max_rows, min_rows, d)), label="n")
    cond = draw(_log_uniform(1.0, max_cond), label="cond")
    residual = draw(_log_uniform(1e-6, max_residual), label="residual_norm")
    seed = draw(seeds(), label="seed")
    return lstsq_problem(n, d, cond=cond, residual_norm=residual, rng=seed, dtype=dtype)


@st.composite
def observation_sets(draw, *, min_size=8, max_size=40, max_rank=3, max_cond=10.0,
                     samples_per_row=(2.0, 4.0), empty_rows=False, duplicates=False):
    """Observed entries of a planted rank-k matrix, sampled uniformly.

    About ``c k ln(max(m, n))`` observations per row, ``c`` drawn from
    ``samples_per_row``.  ``empty_rows=True`` may leave some rows without observations;
    ``duplicates=True`` may repeat some observations (same value).

    Returns
    -------
    strategy of ObservationCase
    """
    case = draw(low_rank_matrices(min_size=min_size, max_size=max_size, max_rank=max_rank,
                                  max_cond=max_cond))
    M, k = case.matrix, case.rank
    m, n = M.shape
    c = draw(st.floats(*samples_per_row), label="samples_per_row")
    count = min(m * n, max(1, int(c * k * np.log(max(m, n)) * m)))
    rng = np.random.default_rng(case.seed)
    mask = observation_mask((m, n), count, rng=rng)
    if empty_rows:
        n_empty = draw(st.integers(0, max(0, m // 4)), label="empty_rows")
        mask[rng.choice(m, size=n_empty, replace=False)] = False
    rows, cols = np.nonzero(mask)
    if duplicates and rows.size:
        n_dup = draw(st.integers(0, max(1, rows.size // 10)), label="duplicates")
        pick = rng.integers(0, rows.size, size=n_dup)
        rows, cols = np.concatenate([rows, rows[pick]]), np.concatenate([cols, cols[pick]])
    return ObservationCase(rows=rows, cols=cols, values=M[rows, cols], shape=(m, n),
                           matrix=M, rank=k, seed=case.seed)


@st.composite
def sparse_corruptions(draw, shape, *, max_fraction=0.2, max_magnitude=1e3):
    """Outlier matrices of ``shape`` (:func:`sparse_corruption`): a fraction of entries
    in ``[0, max_fraction]`` with magnitudes log-uniform in ``[1e-3, max_magnitude]``."""
    fraction = draw(st.floats(0.0, max_fraction), label="fraction")
    magnitude = draw(_log_uniform(1e-3, max_magnitude), label="magnitude")
    return sparse_corruption(shape, fraction, magnitude=magnitude, rng=draw(seeds()))


@st.composite
def graded_spd_matrices(draw, *, min_size=1, max_size=30, min_grading=1e-12, max_cond=1e3,
                        dtype=np.float64):
    """Graded SPD matrices ``D B D`` (:func:`graded_spd_matrix`): the grading log-uniform
    in ``[min_grading, 1]`` and ``cond(B)`` log-uniform in ``[1, max_cond]``."""
    n = draw(st.integers(min_size, max_size), label="n")
    grading = draw(_log_uniform(min_grading, 1.0).map(lambda g: min(g, 1.0)), label="grading")
    cond = draw(_log_uniform(1.0, max_cond), label="cond")
    return graded_spd_matrix(n, grading=grading, cond=cond, rng=draw(seeds()), dtype=dtype)


# Largest side drawn per order by default: flattenings of at most a few hundred rows.
_MAX_SIDE = {3: 12, 4: 9, 5: 6, 6: 5}


@st.composite
def symmetric_cp_problems(draw, *, orders=(3, 4, 5, 6), max_side=None, rank_fraction=1.0,
                          weights="signed", correlated=False):
    """Symmetric low-rank tensors (:func:`~lowrank.testing.symmetric_cp_problem`) of a
    rank at most ``rank_fraction`` times the practical limit
    (:func:`lowrank.tensor.rank_bounds` ``[0]``); the side is at most ``max_side`` (by
    default 12, 9, 6 and 5 for orders 3 to 6)."""
    order = draw(st.sampled_from(orders), label="order")
    top = max_side if max_side is not None else _MAX_SIDE.get(order, 4)
    d = draw(st.integers(2, top), label="d")
    limit = max(1, int(rank_fraction * rank_bounds(d, order)[0]))
    rank = draw(st.integers(1, limit), label="rank")
    return symmetric_cp_problem(d, rank, order, weights=weights, correlated=correlated,
                                rng=draw(seeds()))


@st.composite
def cp_problems(draw, *, symmetries=((0, 1, 2), (0, 0, 1), (0, 1, 1), (0, 0, 0, 1)),
                max_side=8, max_rank=None):
    """Tensors of the given symmetries with a planted decomposition
    (:func:`~lowrank.testing.cp_problem`), of rank at most the smallest side (and
    ``max_rank``), below the multi-subspace power method's admissible rank."""
    symmetry = draw(st.sampled_from(symmetries), label="symmetry")
    groups = sorted(set(symmetry))
    sides = {g: draw(st.integers(3, max_side), label=f"side {g}") for g in groups}
    shape = tuple(sides[g] for g in symmetry)
    top = min(shape) - 1 if max_rank is None else min(min(shape) - 1, max_rank)
    rank = draw(st.integers(1, max(1, top)), label="rank")
    return cp_problem(shape, rank, symmetry=symmetry, rng=draw(seeds()))
