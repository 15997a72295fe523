"""
Accuracy against time of the multi-subspace power method (F9)
=============================================================

:func:`lowrank.tensor.multi_subspace_power_method` on tensors with a planted CP
decomposition (Gaussian factors with unit columns, weights ``exp(U[−1, 1])``) and 1 %
noise, in three symmetry classes: (a) asymmetric, (b) symmetric in the first two modes,
(c) symmetric in the first four modes and asymmetric in the fifth.  MSPM is told the
symmetry; tensorly's ALS (``parafac`` from an SVD initialization) cannot use it and
decomposes the same tensor as an asymmetric one.  Each point is one trial: the relative
error ``‖T_clean − T̂‖ / ‖T_clean‖`` against the time on one thread; the dotted line is
the noise level.  The legend gives the median factor match score (mean ``|cos|`` of the
matched components, the modes' cosines multiplied).

MSPM's error sits at about half the noise level in every trial; ALS, when it converges
to the planted decomposition, fits a little closer (it minimizes ``‖T − T̂‖``), but from
its SVD start it often stalls in a worse local minimum (hollow markers: ``n_iter_max``
reached).  The ``paper`` scale runs the MSPM paper's sizes (100³ rank 90,
100 × 100 × 50 rank 80, 25⁴ × 10 rank 50) with 40 trials.  See
:mod:`lowrank.experiments.mspm_scatter`.
"""

import matplotlib.pyplot as plt
import numpy as np

from lowrank.experiments import mspm_scatter as f9

data = f9.run("small", rng=0)
f9.plot(data, fig=plt.figure())
plt.show()

# %%
# Median relative error, time and factor match score per case and method.
if data["note"]:
    print(data["note"])
for c, case in enumerate(data["cases"]):
    print(f"{case['name']} {case['shape']}, rank {case['rank']}")
    for j, method in enumerate(data["methods"]):
        if np.isfinite(data["time"][c, j]).any():
            print(f"    {method}: error {np.nanmedian(data['rel_error'][c, j]):.2e}, "
                  f"time {np.nanmedian(data['time'][c, j]):.2f} s, "
                  f"score {np.nanmedian(data['score'][c, j]):.5f}, "
                  f"converged {int(data['converged'][c, j].sum())}/{data['n_trials']}")
