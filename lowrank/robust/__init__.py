"""Robust low-rank recovery by the sub-gradient method on an l1 loss.

Ma and Fattahi (JMLR 2023): from a small initialization, the sub-gradient method on
``(1/m) ||A(U U^T) - y||_1`` recovers a low-rank PSD matrix from linear measurements
with outliers of any size, even when the factor's width ``r'`` over-estimates the rank.

- :func:`subgradient_recovery` -> :class:`RecoveryResult`;
- measurement operators :class:`GaussianMeasurements` (dense or regenerated from seeds
  block by block) and :class:`EntryMeasurements` (robust completion / robust PCA), each
  callable with an ``adjoint``;
- :func:`corrupt`: outliers, Gaussian noise on a fraction, dense Gaussian noise.
"""

from ._measurements import EntryMeasurements, GaussianMeasurements
from ._noise import corrupt
from ._result import RecoveryResult
from ._subgradient import subgradient_recovery

__all__ = [
    "EntryMeasurements",
    "GaussianMeasurements",
    "RecoveryResult",
    "corrupt",
    "subgradient_recovery",
]
