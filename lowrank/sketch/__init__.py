"""Sketching operators.

Random m x n linear maps S with ``S @ A`` (dense, SciPy sparse and CuPy data),
``S.T @ Y`` and ``S.todense()``:

- :class:`GaussianSketch`, :class:`RademacherSketch`: dense i.i.d. sketches;
- :class:`SRHTSketch`: subsampled randomized Hadamard transform (blocked FWHT);
- :class:`SparseSignSketch`, :class:`CountSketch`: sparse sign embeddings.
"""

from ._operators import (
    SKETCH_KINDS,
    CountSketch,
    GaussianSketch,
    RademacherSketch,
    SketchOperator,
    SparseSignSketch,
    SRHTSketch,
    make_sketch,
    sketch,
)

__all__ = [
    "SKETCH_KINDS",
    "CountSketch",
    "GaussianSketch",
    "RademacherSketch",
    "SRHTSketch",
    "SketchOperator",
    "SparseSignSketch",
    "make_sketch",
    "sketch",
]
