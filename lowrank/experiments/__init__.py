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
  both methods at κ = 3 and 100, and the recovery rate against the samples per row;
- ``F6``: :mod:`~lowrank.experiments.spm_time_vs_size`, time and success rate of
  :func:`lowrank.tensor.subspace_power_method` against the side d (order 3 with r = d;
  order 4 with r = ⌊d²/3⌋, the rank estimated), against tensorly's ``parafac`` and its
  naive-deflation symmetric power iteration (``papers/tensor_spm.md``, Fig. 2);
- ``F7``: :mod:`~lowrank.experiments.spm_noise`, absolute error and time of SPM, SPM with
  ``refine=True`` and tensorly's ``parafac`` against the noise level (Fig. 3);
- ``F8``: :mod:`~lowrank.experiments.spm_landscape`, outcomes and iterations of one SPM
  power iteration from one start against the rank, order 4, d = 20 (Figs. 4-5);
- ``F9``: :mod:`~lowrank.experiments.mspm_scatter`, relative error against time of
  :func:`lowrank.tensor.multi_subspace_power_method` and tensorly's ``parafac`` on
  (1,1,1), (2,1) and (4,1) tensors with 1 % noise (the MSPM paper);
- ``F10``: :mod:`~lowrank.experiments.pairwise_decay`, off-diagonal mass and the
  potential Φ per step of :func:`lowrank.factorization.jacobi_eigh`,
  :func:`~lowrank.factorization.jacobi_svd`, :func:`~lowrank.factorization.gram_schmidt_qr`
  and :func:`~lowrank.factorization.elimination_cholesky` with random, cyclic and greedy
  pivoting, against the expectation ``(1 - 2/(n(n-1)))^k`` of random rotations
  (``papers/pivoted_factorizations.md``, F5 there);
- ``F11``: :mod:`~lowrank.experiments.graded_accuracy`, relative accuracy of Jacobi's
  eigenvalues and singular values on graded matrices (grading randomly permuted) against
  ``scipy.linalg.eigh``, ``scipy.linalg.svd`` and LAPACK ``dgejsv``, with an mpmath
  reference (F6 there);
- ``F12``: :mod:`~lowrank.experiments.rpcholesky_trace_error`, trace error of
  :func:`lowrank.factorization.rp_cholesky` against the rank on the "smile" and "spiral"
  kernel matrices, against greedy and uniform pivots and the best rank k (the RPCholesky
  paper, Fig. 1);
- ``F13``: :mod:`~lowrank.experiments.subgradient_schedules`, final error of
  :func:`lowrank.robust.subgradient_recovery` with its default (adaptive) schedule
  against a hand-tuned grid of the paper's fixed schedules, on Gaussian sensing problems
  with outliers and an over-estimated rank (``papers/completion_altmin.md``, Part II);
- ``F14``: :mod:`~lowrank.experiments.subgradient_paper`, the paper's experiments (Ma and
  Fattahi, Figs. 1a-c and 3a): error against the iteration for several rank bounds,
  Gaussian noise on a fraction, initialization scales, and dense noise against l2
  gradient descent;
- ``F15``: :mod:`~lowrank.experiments.subgradient_budget_map`, final error of the fixed
  schedules against the step budget they spend, with the escape estimate and the
  default's choice marked (ours);
- ``F16``: :mod:`~lowrank.experiments.subgradient_samples`, final error with the defaults
  against the number of measurements, for rank bounds up to d (ours).

Importing this package imports NumPy and :mod:`lowrank` only; Matplotlib and tqdm are
needed by ``plot`` and by the command line (the ``figures`` extra).  tensorly, the
competitor of F6, F7 and F9, is optional: without it those figures skip its curves and
say so in their data (``data["note"]``); so is mpmath, the reference of F11 (without it its
errors are NaN, with a note).

Examples
--------
>>> from lowrank.experiments import FIGURES
>>> " ".join(FIGURES)
'F1 F2 F3 F4 F5 F6 F7 F8 F9 F10 F11 F12 F13 F14 F15 F16'
"""

from . import (
    completion_recovery,
    completion_sweep_time,
    graded_accuracy,
    linf_error_vs_dimension,
    linf_error_vs_sketch_size,
    lp_embedding_distortion,
    mspm_scatter,
    pairwise_decay,
    rpcholesky_trace_error,
    spm_landscape,
    spm_noise,
    spm_time_vs_size,
    subgradient_budget_map,
    subgradient_paper,
    subgradient_samples,
    subgradient_schedules,
)

__all__ = ["FIGURES"]

#: Figure id -> module with ``run``, ``plot``, ``to_rows`` and ``n_steps``.
FIGURES = {
    "F1": linf_error_vs_sketch_size,
    "F2": linf_error_vs_dimension,
    "F3": lp_embedding_distortion,
    "F4": completion_sweep_time,
    "F5": completion_recovery,
    "F6": spm_time_vs_size,
    "F7": spm_noise,
    "F8": spm_landscape,
    "F9": mspm_scatter,
    "F10": pairwise_decay,
    "F11": graded_accuracy,
    "F12": rpcholesky_trace_error,
    "F13": subgradient_schedules,
    "F14": subgradient_paper,
    "F15": subgradient_budget_map,
    "F16": subgradient_samples,
}
