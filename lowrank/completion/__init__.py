"""Matrix completion by alternating minimization.

- :func:`altmin`: exact alternating minimization (Jain-Netrapalli-Sanghavi 2013) and the
  nearly linear time robust variant (Gu-Song-Yin-Zhang 2024) -> :class:`CompletionResult`.
- :func:`as_observations`, :class:`Observations`: the observations held once in row
  (CSR) and column (CSC) order; :func:`split_observations` for held-out validation.
- :func:`load_movielens_small`: the MovieLens ml-latest-small ratings shipped beside the
  repository (research use only; see its README).
"""

from ._altmin import CompletionResult, altmin
from ._observations import (
    MovieLensRatings,
    Observations,
    as_observations,
    load_movielens_small,
    split_observations,
)

__all__ = [
    "CompletionResult",
    "MovieLensRatings",
    "Observations",
    "altmin",
    "as_observations",
    "load_movielens_small",
    "split_observations",
]
