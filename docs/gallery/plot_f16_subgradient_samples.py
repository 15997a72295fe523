"""
The sub-gradient method against the number of measurements (F16)
=================================================================

:func:`lowrank.robust.subgradient_recovery` with its defaults on Gaussian sensing
problems with 10 % outliers, for a growing number of measurements ``m`` and rank bounds
from the true rank ``r`` up to ``d``.  The paper's sample bound does not grow with the
rank bound; the curves show how many measurements each rank bound needs in practice.
See :mod:`lowrank.experiments.subgradient_samples`.
"""

import matplotlib.pyplot as plt

from lowrank.experiments import subgradient_samples as f16

data = f16.run("small", rng=0)
f16.plot(data, fig=plt.figure())
plt.show()

# %%
# The share of problems recovered to 1e-6, per rank bound and m / (d r).
for row in f16.to_rows(data):
    print(f"r' {row['rank_bound']:2d}, m/(dr) {row['m_factor']:2d}: median error "
          f"{row['median_error']:.1e}, recovered {row['recovered']:.0%}")
