"""Tensor decomposition by the subspace power methods.

- :func:`subspace_power_method`: symmetric CP decomposition of tensors of any order
  ``>= 3`` (Kileel-Pereira), from a dense tensor or a :class:`MomentTensor` given by
  samples -> :class:`CPResult`.
- :func:`multi_subspace_power_method`: CP decomposition of tensors of any partial
  symmetry, asymmetric included (Wang-Pereira-Kileel-Seigal).
- :func:`symmetric_tensor`, :func:`cp_tensor`, :func:`symmetrize`: dense tensors from
  factors, and the symmetric part of a tensor.
- :func:`rank_bounds`: the ranks SPM accepts and recovers in practice.
"""

from ._moments import MomentTensor
from ._mspm import multi_subspace_power_method
from ._result import CPResult
from ._spm import rank_bounds, subspace_power_method
from ._tensors import cp_tensor, symmetric_tensor, symmetrize

__all__ = [
    "CPResult",
    "MomentTensor",
    "cp_tensor",
    "multi_subspace_power_method",
    "rank_bounds",
    "subspace_power_method",
    "symmetric_tensor",
    "symmetrize",
]
