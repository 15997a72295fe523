"""Symmetry groups, flattenings and their compressed coordinates for MSPM (private).

A tensor with symmetry groups ``g`` (vector dimension ``N_g``, multiplicity ``k_g``) is
flattened by putting ``l_g`` copies of each group on the rows and ``k_g - l_g`` on the
columns; each side is compressed group by group (:mod:`._multiindex`), so a row is a
tuple of sorted multi-indices, one per group, in row-major order.
"""

import itertools
import math

import numpy as np

from ._multiindex import multi_indices, n_sorted

__all__ = ["Flattening", "Groups", "choose_flattenings"]


class Groups:
    """The symmetry groups of a tensor: ``labels`` normalized to ``0, 1, ...`` in order of
    first appearance, ``modes[g]`` (the modes of group ``g``), ``dims[g]`` and
    ``mults[g]``."""

    def __init__(self, labels, shape):
        first = {}
        for label in labels:
            first.setdefault(label, len(first))
        self.labels = tuple(first[label] for label in labels)
        self.modes = [tuple(i for i, g in enumerate(self.labels) if g == h)
                      for h in range(len(first))]
        self.dims = [int(shape[modes[0]]) for modes in self.modes]
        self.mults = [len(modes) for modes in self.modes]
        # T.transpose(self.axes) has each group's modes next to each other
        self.axes = tuple(i for modes in self.modes for i in modes)

    def __len__(self):
        return len(self.modes)


def _admissible(groups, rows):
    """The code's admissible rank of the flattening with ``rows[g]`` copies on the rows."""
    left = math.prod(n_sorted(N, l) for N, l in zip(groups.dims, rows, strict=True))
    left -= sum(N - 1 for N, l in zip(groups.dims, rows, strict=True) if l > 0) + 1
    right = math.prod(n_sorted(N, k - l)
                      for N, k, l in zip(groups.dims, groups.mults, rows, strict=True))
    return min(left, right)


class Flattening:
    """The compressed flattening with ``rows[g]`` copies of group ``g`` on the rows."""

    def __init__(self, groups, rows):
        self.groups, self.rows = groups, tuple(rows)
        self.cols = tuple(k - l for k, l in zip(groups.mults, rows, strict=True))
        self.admissible = _admissible(groups, rows)
        self.row_tables = [multi_indices(N, l) for N, l in zip(groups.dims, self.rows, strict=True)]
        self.col_tables = [multi_indices(N, c) for N, c in zip(groups.dims, self.cols, strict=True)]
        self.row_sizes = tuple(t.indices.shape[0] for t in self.row_tables)
        self.col_sizes = tuple(t.indices.shape[0] for t in self.col_tables)
        self.shape = (math.prod(self.row_sizes), math.prod(self.col_sizes))

    def positions(self, shape):
        """Row-major positions in the grouped tensor (modes ordered group by group, each
        group's row copies first) of every (row, column): ``(row_pos, col_pos)`` whose
        outer sum indexes the flattening, and the ``sqrt(mu)`` scales of each side."""
        strides = np.cumprod((1, *tuple(shape[::-1])))[:-1][::-1]
        row_parts, col_parts, row_scale, col_scale = [], [], [], []
        axis = 0
        for table_r, table_c in zip(self.row_tables, self.col_tables, strict=True):
            l, c = table_r.n, table_c.n
            row_parts.append(table_r.indices @ strides[axis:axis + l])
            col_parts.append(table_c.indices @ strides[axis + l:axis + l + c])
            row_scale.append(table_r.sqrt_mult)
            col_scale.append(table_c.sqrt_mult)
            axis += l + c
        return (_outer_sum(row_parts), _outer_sum(col_parts), _outer_product(row_scale),
                _outer_product(col_scale))


def _outer_sum(parts):
    out = np.zeros(1, dtype=np.int64)
    for part in parts:
        out = (out[:, None] + part[None, :]).ravel()
    return out


def _outer_product(parts):
    out = np.ones(1)
    for part in parts:
        out = (out[:, None] * part[None, :]).ravel()
    return out


def choose_flattenings(groups):
    """The flattenings MSPM reads: first the one with the largest admissible rank (ties:
    fewer rows), then, while some group has no copy on the rows read so far, the best
    flattening whose rows hold at least one group already found (to be fixed) and at
    least one not yet found (ties: more new groups, fewer rows).  Returns a list of
    ``(flattening, new_groups)``; empty when no flattening exists."""
    candidates = []
    for rows in itertools.product(*(range(k + 1) for k in groups.mults)):
        if sum(rows) == 0 or all(l == k for l, k in zip(rows, groups.mults, strict=True)):
            continue
        candidates.append(Flattening(groups, rows))
    if not candidates:
        return []
    first = max(candidates, key=lambda f: (f.admissible, -f.shape[0]))
    known = {g for g, l in enumerate(first.rows) if l > 0}
    chosen = [(first, sorted(known))]
    while len(known) < len(groups):
        def new(f):
            return [g for g, l in enumerate(f.rows) if l > 0 and g not in known]
        usable = [f for f in candidates
                  if new(f) and any(f.rows[g] > 0 for g in known)]
        if not usable:
            break
        best = max(usable, key=lambda f: (f.admissible, len(new(f)), -f.shape[0]))
        chosen.append((best, new(best)))
        known.update(new(best))
    return chosen
