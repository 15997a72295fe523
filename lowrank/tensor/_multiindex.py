"""Sorted multi-indices: the coordinates of symmetric tensors (private).

A symmetric tensor of order ``n`` and side ``d`` is fixed by its entries at the
``D_n = C(d + n - 1, n)`` sorted multi-indices ``p = (p_1 <= ... <= p_n)``.  With
``mu(p)`` the number of distinct permutations of ``p``, scaling entry ``p`` by
``sqrt(mu(p))`` is an isometry from symmetric tensors (Frobenius inner product) to
``R^{D_n}``: ``u . v = sum_p mu(p) u_p v_p``.  The same scaling turns the rank-one
tensor ``x^{(x)n}`` into the scaled monomials ``phi_n(x)_p = sqrt(mu(p)) x^p``, so
``<v, x^{(x)n}> = <v~, phi_n(x)>`` for the compressed ``v~``.  Every SPM computation
runs in these coordinates, never on ``d^n`` vectors.
"""

import functools
import itertools
import math

import numpy as np

__all__ = ["GradientTable", "MultiIndexTable", "gradient_table", "multi_indices",
           "n_sorted"]


def n_sorted(d: int, n: int) -> int:
    """``D_n = C(d + n - 1, n)``: sorted multi-indices of length ``n`` over ``d`` symbols."""
    return math.comb(d + n - 1, n)


class MultiIndexTable:
    """The sorted multi-indices of length ``n`` over ``range(d)`` in lexicographic order.

    ``indices`` is ``(D_n, n)`` int64, ``sqrt_mult`` the ``sqrt(mu(p))`` (float64),
    ``position`` maps a sorted tuple to its row.
    """

    def __init__(self, d: int, n: int):
        self.d, self.n = d, n
        rows = list(itertools.combinations_with_replacement(range(d), n))
        self.indices = np.array(rows, dtype=np.int64).reshape(len(rows), n)
        self.position = {p: i for i, p in enumerate(rows)}
        self.sqrt_mult = np.sqrt(_multiplicities(self.indices, d))
        for a in (self.indices, self.sqrt_mult):
            a.flags.writeable = False


def _multiplicities(indices, d):
    """``mu(p) = n! / prod(run lengths)!`` for each sorted row of ``indices``: the product
    of the running counts within each run of equal entries is the product of the runs'
    factorials."""
    n = indices.shape[1]
    run = np.ones(indices.shape[0], dtype=np.float64)
    denominator = np.ones(indices.shape[0], dtype=np.float64)
    for j in range(1, n):
        run = np.where(indices[:, j] == indices[:, j - 1], run + 1.0, 1.0)
        denominator *= run
    return math.factorial(n) / denominator


@functools.lru_cache(maxsize=16)
def multi_indices(d: int, n: int) -> MultiIndexTable:
    """The (cached) table of sorted multi-indices of length ``n`` over ``d`` symbols."""
    return MultiIndexTable(d, n)


class GradientTable:
    """What the power iteration needs to differentiate ``c . phi_n(x)`` in ``x``.

    ``d/dx_l (c . phi_n(x)) = sum_q c[child[l, q]] * weight[l, q] * x^q`` over the
    sorted multi-indices ``q`` of length ``n - 1`` (``low.indices``), where ``child[l, q]``
    is the row of ``sorted(q + (l,))`` and ``weight[l, q] = sqrt(mu(child)) *
    (count of l in q + 1)``.  ``start_weight[l, q] = sqrt(mu(q)) / sqrt(mu(child))``
    contracts a compressed basis vector with a Gaussian in ``n - 1`` modes (the random
    start of a power iteration).
    """

    def __init__(self, d: int, n: int):
        self.high = multi_indices(d, n)
        self.low = multi_indices(d, n - 1)
        q_rows = self.low.indices
        child = np.empty((d, q_rows.shape[0]), dtype=np.int64)
        count = np.empty((d, q_rows.shape[0]), dtype=np.float64)
        for j, q in enumerate(map(tuple, q_rows)):
            for l in range(d):
                child[l, j] = self.high.position[tuple(sorted((*q, l)))]
                count[l, j] = q.count(l) + 1
        sqrt_child = self.high.sqrt_mult[child]
        self.child = child
        self.weight = sqrt_child * count
        self.start_weight = self.low.sqrt_mult[None, :] / sqrt_child
        for a in (self.child, self.weight, self.start_weight):
            a.flags.writeable = False


@functools.lru_cache(maxsize=16)
def gradient_table(d: int, n: int) -> GradientTable:
    """The (cached) :class:`GradientTable` for side ``d`` and order ``n >= 1``."""
    return GradientTable(d, n)
