"""Leverage scores, Lewis weights, l_p sensitivities and l_p row sampling.

- :func:`leverage_scores`: exact (thin QR) or sketched (Drineas et al. 2012).
- :func:`lewis_weights`: the Cohen-Peng fixed point for any ``p > 0`` (damped for
  ``p > 2``).
- :func:`lp_sensitivities`: exact (one convex program per row) or upper bounds.
- :func:`sampling_probabilities`, :func:`sample_rows`: l_p row sampling with rescaling.
- :func:`subspace_embedding_distortion`: how well a sample or sketch preserves l_p norms.
"""

from ._distortion import DistortionResult, subspace_embedding_distortion
from ._inclusion import SamplingProbabilities
from ._leverage import LeverageScoresResult, leverage_scores
from ._lewis import LewisWeightsResult, lewis_weights
from ._probabilities import SAMPLING_METHODS, sampling_probabilities
from ._sample import RowSample, sample_rows
from ._sensitivity import SensitivitiesResult, lp_sensitivities

__all__ = [
    "SAMPLING_METHODS",
    "DistortionResult",
    "LeverageScoresResult",
    "LewisWeightsResult",
    "RowSample",
    "SamplingProbabilities",
    "SensitivitiesResult",
    "leverage_scores",
    "lewis_weights",
    "lp_sensitivities",
    "sample_rows",
    "sampling_probabilities",
    "subspace_embedding_distortion",
]
