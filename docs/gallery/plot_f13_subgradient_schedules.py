"""
The sub-gradient method's default schedule against hand-tuned ones (F13)
=========================================================================

:func:`lowrank.robust.subgradient_recovery` recovers a low-rank PSD matrix from Gaussian
measurements with outliers, from a small start and with an over-estimated rank.  What
decides the outcome is the step budget: too little and the iterate never leaves the
small start, too much and the spurious directions of an over-parameterized run grow
back.  The paper's fixed schedule ``eta rho^t`` must be tuned per problem; the default
adapts the budget to the problem (hold the step until the first escape, then decay it
while no weaker direction is still escaping, then halve it at every plateau).

Each column is one problem (condition number κ, outlier fraction p, rank bound r',
measurements m / (d r)); grey dots are the final errors of the tuned grid of
``(eta, rho)``, the black cross the best of them, the red circle the default's.  The
issue's target: the default within 10x of the best tuned error, and at 1e-6 wherever any
tuned schedule is.  See :mod:`lowrank.experiments.subgradient_schedules`.
"""

import matplotlib.pyplot as plt

from lowrank.experiments import subgradient_schedules as f13

data = f13.run("small", rng=0)
f13.plot(data, fig=plt.figure())
plt.show()

# %%
# Per problem: the default's error and iterations, and the best tuned schedule.
for row in f13.to_rows(data):
    print(f"kappa {row['kappa']:4g}, p {row['outliers']:.1f}, r' {row['rank_bound']:2d}: "
          f"default {row['default_error']:.1e} in {row['default_iterations']} iterations; "
          f"best tuned {row['best_tuned_error']:.1e} at (eta, rho) = "
          f"({row['best_eta']}, {row['best_rho']})")
