"""
Time of the subspace power method against the tensor's side (F6)
================================================================

:func:`lowrank.tensor.subspace_power_method` on noiseless symmetric tensors
``T = Σ_i a_i^{⊗m}`` with ``A = randn(d, r)/√d`` and unit weights, against tensorly's
ALS (``parafac`` with random initialization and line search, which ignores the symmetry)
and tensorly's symmetric power iteration, which deflates by subtracting each found term
from the full tensor.  (a) Order 3 with r = d, SPM given the rank; (b) order 4 with
r = ⌊d²/3⌋, far above d, where SPM estimates the rank from the flattening's spectrum.

Top: median time with the 20-80 % band over the trials (the same tensors for every
method, one thread).  Bottom: the fraction of runs with ``‖T − T̂‖/‖T‖ < 1e-8``.  SPM
recovers every tensor; the naive deflation cannot (the components are not orthogonal),
and ALS needs thousands of iterations for these square, unit-weight problems.  A method
is dropped once its median time exceeds the cap (a few seconds here, 100 s at the
``paper`` scale, where d reaches 300 for order 3 and 55 for order 4).  tensorly is
optional; without it only SPM is drawn.  See :mod:`lowrank.experiments.spm_time_vs_size`.
"""

import matplotlib.pyplot as plt
import numpy as np

from lowrank.experiments import spm_time_vs_size as f6

data = f6.run("small", rng=0)
f6.plot(data, fig=plt.figure())
plt.show()

# %%
# Median time and success rate per method and side; SPM's estimated ranks in panel (b).
if data["note"]:
    print(data["note"])
for panel in data["panels"]:
    print(f"order {panel['order']} (SPM given the rank: {panel['rank_given']})")
    for i, d in enumerate(panel["dims"]):
        cells = []
        for j, method in enumerate(data["methods"]):
            if panel["n_run"][j, i]:
                cells.append(f"{method} {panel['median_time'][j, i]:.3f} s "
                             f"({100 * panel['success_rate'][j, i]:.0f} %)")
            else:
                cells.append(f"{method} {panel['status'][j, i]}")
        print(f"    d = {d:3d}, r = {panel['ranks'][i]:4d}: " + ", ".join(cells))
    print("    SPM's ranks equal r:", bool(np.all(panel["rank_found"] == panel["ranks"][:, None])))
