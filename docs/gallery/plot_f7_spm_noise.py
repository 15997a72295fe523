"""
Accuracy of the subspace power method on noisy tensors (F7)
===========================================================

A symmetric tensor with correlated factors ``a_i = (randn(d) + 1)/√d`` plus noise
``σN``, with ``N`` a symmetrized Gaussian of unit Frobenius norm: (a) order 3,
d = 30, r = 28; (b) order 4, d = 15, r = 30.  Every method is given the rank.  The error
is absolute, against the clean tensor, ``min over tries ‖T_clean − T̂‖_F``; the dotted
line is the norm σ of the noise itself.

SPM's error is proportional to σ below the noise level but a constant factor above the
best fit: SPM never minimizes ``‖T − T̂‖``.  With ``refine=True`` its answer is polished
on that objective and reaches the accuracy of tensorly's ALS (``parafac``) in a fraction
of its time (bottom row, median over the tries, one thread), except at the largest σ,
where the refinement may run all its ``refine_maxiter`` steps.  At the largest σ SPM may
accept no start for some component and the refinement may stop at ``refine_maxiter``: the
:class:`~lowrank.exceptions.ConvergenceWarning` is caught and shown as hollow markers.
See :mod:`lowrank.experiments.spm_noise`.
"""

import matplotlib.pyplot as plt

from lowrank.experiments import spm_noise as f7

data = f7.run("small", rng=0)
f7.plot(data, fig=plt.figure())
plt.show()

# %%
# Error divided by σ at the smallest σ, and the refinement against parafac.
if data["note"]:
    print(data["note"])
for a, panel in enumerate(data["panels"]):
    ratios = ", ".join(f"{m} {data['error_over_sigma'][a, j]:.3f}"
                       for j, m in enumerate(data["methods"]))
    print(f"order {panel['order']}, d = {panel['d']}, r = {panel['rank']}: "
          f"error / σ at σ = {data['sigmas'][0]:g}: {ratios}")
    ratio, speed = f7.refinement_summary(data, a)
    print(f"    SPM + refine vs parafac (medians over σ): error x {ratio:.2f}, "
          f"{speed:.1f}x faster")
