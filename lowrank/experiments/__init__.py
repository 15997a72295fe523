"""Reproduced figures (SPEC section 5) and the ``lowrank figures`` command line.

One module per figure, each with

- ``run(scale="small"|"paper", rng=0, progress=None) -> dict``: the measurements, as
  plain NumPy arrays and lists;
- ``plot(data) -> matplotlib.figure.Figure`` (Matplotlib is imported only here, and no
  pyplot state is touched);
- ``to_rows(data) -> list[dict]``: the CSV rows;
- ``n_steps(scale)``: the number of progress units ``run`` reports.

:data:`FIGURES` maps each figure id to its module:

- ``F1``: :mod:`~lowrank.experiments.linf_error_vs_sketch_size`, l_inf error of
  sketch-and-solve versus the sketch size (``papers/sketching_regression.md``);
- ``F2``: :mod:`~lowrank.experiments.linf_error_vs_dimension`, its growth with d at
  m = 16 d;
- ``F3``: :mod:`~lowrank.experiments.lp_embedding_distortion`, l_p subspace-embedding
  distortion of row sampling (uniform, leverage, root leverage, Lewis weights,
  sensitivities, combined) and the excess cost of l_p regression on the sample, versus
  the expected sample count (``papers/sensitivity_sampling.md``);
- ``F4``: :mod:`~lowrank.experiments.completion_sweep_time`, time per alternating
  minimization sweep of :func:`lowrank.completion.altmin` against the rank, robust versus
  exact, at fixed ``|Ω|`` in the analysis' regime and a sparser one
  (``papers/completion_altmin.md``);
- ``F5``: :mod:`~lowrank.experiments.completion_recovery`, held-out error per sweep of
  both methods at κ = 3 and 100, and the recovery rate against the samples per row.

Importing this package imports NumPy and :mod:`lowrank` only; Matplotlib and tqdm are
needed by ``plot`` and by the command line (the ``figures`` extra).

Examples
--------
>>> from lowrank.experiments import FIGURES
>>> sorted(FIGURES)
['F1', 'F2', 'F3', 'F4', 'F5']
"""

from . import (
    completion_recovery,
    completion_sweep_time,
    linf_error_vs_dimension,
    linf_error_vs_sketch_size,
    lp_embedding_distortion,
)

__all__ = ["FIGURES"]

#: Figure id -> module with ``run``, ``plot``, ``to_rows`` and ``n_steps``.
FIGURES = {
    "F1": linf_error_vs_sketch_size,
    "F2": linf_error_vs_dimension,
    "F3": lp_embedding_distortion,
    "F4": completion_sweep_time,
    "F5": completion_recovery,
}
