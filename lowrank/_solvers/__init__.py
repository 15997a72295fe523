"""Iterative and convex solvers shared by several families (private).

- :mod:`.lsqr`: LSQR against the array namespace (sketch-preconditioned least squares);
- :mod:`.lp`: dense l_p regression (HiGHS LP for p = 1, certified Newton-IRLS for
  p > 1, majorize-minimize for p < 1), used by :func:`lowrank.regression.lp_regression`
  and by the exact sensitivities of :func:`lowrank.sampling.lp_sensitivities`.
"""
