"""
The sub-gradient method's step budget (F15)
===========================================

The paper's fixed schedule ``eta rho^t`` spends the budget ``sum_t eta rho^t``.  On one
sensing problem with the rank bound ``r' = d`` and 10 % outliers, each ``(eta, rho)``
of a grid is drawn at the budget it spent and the error it reached, for two start
scales ``alpha``.  Left of the dashed line (the escape estimate that
:func:`lowrank.robust.subgradient_recovery` reports) the iterate never leaves the small
start; far to its right the spurious directions of the over-parameterized factor grow
back and the error rises with the budget.  The red star is the default schedule, which
chooses its budget from the run.  See :mod:`lowrank.experiments.subgradient_budget_map`.
"""

import matplotlib.pyplot as plt

from lowrank.experiments import subgradient_budget_map as f15

data = f15.run("small", rng=0)
f15.plot(data, fig=plt.figure())
plt.show()

# %%
# The default's budget and error next to the escape estimate, per start scale.
for k, alpha in enumerate(data["alphas"]):
    print(f"alpha {alpha:g}: escape estimate {data['escape_estimate'][k]:.1f}, default "
          f"spent {data['default_budget'][k]:.1f} and reached {data['default_error'][k]:.1e};"
          f" best fixed schedule {data['error'][k].min():.1e}")
