"""
The landscape of SPM's power iteration against the rank (F8)
============================================================

For a fresh order-4 tensor of side 20 with r unit Gaussian components per trial, SPM
runs one power iteration with the fixed shift √½ from one random start on the
undeflated subspace (``subspace_power_method(T, r, ntries=1, shift="fixed", tol=1e-10,
callback=lambda *a: True)``: the callback stops it after its first component).  (a) The
outcome: a component found, another global maximum of ``F(x) = ‖P_V x^{⊗2}‖²`` (a rank-1
point of the subspace that is not a component), a spurious local maximum, or no
convergence in 5000 iterations.  (b) The iterations, mean ± std.

Up to r ≈ 170 almost every start finds a component; the iterations grow with r, and
near the identifiability limit ``C(21, 2) − 20 = 190`` (dashed) the iteration stops
converging within 5000 steps.  Above 190 the subspace holds rank-1 points that are not
components, and at r = 200 the power iteration mostly converges to those.  The public
function refuses ranks above 190; the module runs SPM's private steps there (identical
below the limit).  The paper runs 10^4 trials per rank; this page runs 40.  See
:mod:`lowrank.experiments.spm_landscape`.
"""

import matplotlib.pyplot as plt

from lowrank.experiments import spm_landscape as f8

data = f8.run("small", rng=0)
f8.plot(data, fig=plt.figure())
plt.show()

# %%
# Outcome fractions and mean iterations per rank.
for i, r in enumerate(data["ranks"]):
    fractions = ", ".join(f"{name} {100 * data['fractions'][i, k]:.0f} %"
                          for k, name in enumerate(data["outcomes"]) if data["fractions"][i, k])
    print(f"r = {r}: {fractions}; {data['mean_iterations'][i]:.0f} iterations on average")
