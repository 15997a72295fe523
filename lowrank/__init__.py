"""lowrank: fast, provable low-rank and randomized linear algebra.

Families (one subpackage each): :mod:`lowrank.sketch` (sketching operators),
:mod:`lowrank.regression` (least squares by sketching, l_inf regression),
:mod:`lowrank.testing` (generators and checks) and :mod:`lowrank.experiments`
(the reproduced figures and the ``lowrank`` command).
"""

from . import exceptions, regression, sketch, testing
from .exceptions import ConvergenceWarning
from .regression import LinfLstsqResult, LstsqResult, linf_lstsq, lstsq
from .sketch import (
    CountSketch,
    GaussianSketch,
    RademacherSketch,
    SparseSignSketch,
    SRHTSketch,
    make_sketch,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "ConvergenceWarning",
    "CountSketch",
    "GaussianSketch",
    "LinfLstsqResult",
    "LstsqResult",
    "RademacherSketch",
    "SRHTSketch",
    "SparseSignSketch",
    "__version__",
    "exceptions",
    "linf_lstsq",
    "lstsq",
    "make_sketch",
    "regression",
    "sketch",
    "testing",
]
