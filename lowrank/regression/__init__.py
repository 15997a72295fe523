"""Least squares by sketching and l_inf regression.

- :func:`lstsq`: direct, sketch-and-solve, sketch-and-precondition (LSQR with a
  sketch / Cholesky-QR preconditioner and iterative refinement) and iterative sketching.
- :func:`linf_lstsq`: dense sketch-and-solve with a coordinate-wise (l_inf) guarantee.
- :func:`lp_regression`: l_p regression on a row sample of ``[A b]`` (Lewis weights,
  sensitivities, ...), or exactly (linear programming for p = 1, Newton-IRLS otherwise).
"""

from ._linf import LinfLstsqResult, linf_lstsq, linf_sketch_size
from ._lp import LpRegressionResult, lp_regression
from ._lstsq import LstsqResult, lstsq

__all__ = [
    "LinfLstsqResult",
    "LpRegressionResult",
    "LstsqResult",
    "linf_lstsq",
    "linf_sketch_size",
    "lp_regression",
    "lstsq",
]
