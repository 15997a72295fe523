"""Random number generator handling (Scientific Python SPEC 7).

Every public function normalizes its ``rng`` argument once with :func:`check_rng` and
derives independent sub-streams with ``Generator.spawn``; no code uses the global
``numpy.random`` state, and Numba kernels receive explicit random arrays or seeds.
"""

import numpy as np

__all__ = ["check_rng", "kernel_seed"]


def check_rng(rng=None) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from anything ``default_rng`` accepts."""
    if isinstance(rng, np.random.RandomState):
        raise TypeError(
            "`rng` must be None, an int, a SeedSequence, a BitGenerator or a Generator; "
            "got a legacy numpy.random.RandomState."
        )
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "`rng` must be None, an int, a SeedSequence, a BitGenerator or a Generator; "
            f"got {rng!r}."
        ) from exc


def kernel_seed(rng: np.random.Generator) -> int:
    """Draw a 63-bit integer seed from ``rng`` for block-wise reproducible streams."""
    return int(rng.integers(0, 2**63 - 1, dtype=np.int64))
