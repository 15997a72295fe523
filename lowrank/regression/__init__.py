"""Least squares by sketching and l_inf regression.

- :func:`lstsq`: direct, sketch-and-solve, sketch-and-precondition (LSQR with a
  sketch / Cholesky-QR preconditioner and iterative refinement) and iterative sketching.
- :func:`linf_lstsq`: dense sketch-and-solve with a coordinate-wise (l_inf) guarantee.
"""

from ._linf import LinfLstsqResult, linf_lstsq, linf_sketch_size
from ._lstsq import LstsqResult, lstsq

__all__ = ["LinfLstsqResult", "LstsqResult", "linf_lstsq", "linf_sketch_size", "lstsq"]
