"""lowrank: fast, provable low-rank and randomized linear algebra.

Families (one subpackage each): :mod:`lowrank.sketch` (sketching operators),
:mod:`lowrank.sampling` (leverage scores, Lewis weights, l_p sensitivities, row sampling),
:mod:`lowrank.regression` (least squares by sketching, l_inf and l_p regression),
:mod:`lowrank.completion` (matrix completion by alternating minimization),
:mod:`lowrank.tensor` (CP decomposition by the subspace power methods),
:mod:`lowrank.factorization` (Jacobi, Gram-Schmidt and elimination factorizations with
randomized pivoting),
:mod:`lowrank.testing` (generators, checks and hypothesis strategies) and
:mod:`lowrank.experiments` (the reproduced figures and the ``lowrank`` command).
"""

from . import (
    completion,
    exceptions,
    factorization,
    regression,
    sampling,
    sketch,
    tensor,
    testing,
)
from .completion import CompletionResult, altmin
from .exceptions import ConvergenceWarning, LowrankWarning
from .factorization import (
    CholeskyResult,
    EighResult,
    QRResult,
    RPCholeskyResult,
    SVDResult,
    elimination_cholesky,
    gram_schmidt_qr,
    jacobi_eigh,
    jacobi_svd,
    rp_cholesky,
)
from .regression import (
    LinfLstsqResult,
    LpRegressionResult,
    LstsqResult,
    linf_lstsq,
    lp_regression,
    lstsq,
)
from .sampling import (
    DistortionResult,
    LeverageScoresResult,
    LewisWeightsResult,
    RowSample,
    SamplingProbabilities,
    SensitivitiesResult,
    leverage_scores,
    lewis_weights,
    lp_sensitivities,
    sample_rows,
    sampling_probabilities,
    subspace_embedding_distortion,
)
from .sketch import (
    CountSketch,
    GaussianSketch,
    RademacherSketch,
    SparseSignSketch,
    SRHTSketch,
    make_sketch,
)
from .tensor import (
    CPResult,
    MomentTensor,
    cp_tensor,
    multi_subspace_power_method,
    subspace_power_method,
    symmetric_tensor,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "CPResult",
    "CholeskyResult",
    "CompletionResult",
    "ConvergenceWarning",
    "CountSketch",
    "DistortionResult",
    "EighResult",
    "GaussianSketch",
    "LeverageScoresResult",
    "LewisWeightsResult",
    "LinfLstsqResult",
    "LowrankWarning",
    "LpRegressionResult",
    "LstsqResult",
    "MomentTensor",
    "QRResult",
    "RPCholeskyResult",
    "RademacherSketch",
    "RowSample",
    "SRHTSketch",
    "SVDResult",
    "SamplingProbabilities",
    "SensitivitiesResult",
    "SparseSignSketch",
    "__version__",
    "altmin",
    "completion",
    "cp_tensor",
    "elimination_cholesky",
    "exceptions",
    "factorization",
    "gram_schmidt_qr",
    "jacobi_eigh",
    "jacobi_svd",
    "leverage_scores",
    "lewis_weights",
    "linf_lstsq",
    "lp_regression",
    "lp_sensitivities",
    "lstsq",
    "make_sketch",
    "multi_subspace_power_method",
    "regression",
    "rp_cholesky",
    "sample_rows",
    "sampling",
    "sampling_probabilities",
    "sketch",
    "subspace_embedding_distortion",
    "subspace_power_method",
    "symmetric_tensor",
    "tensor",
    "testing",
]
