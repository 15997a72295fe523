"""
Time per alternating-minimization sweep versus the rank (F4)
============================================================

:func:`lowrank.completion.altmin` on an incoherent rank-k matrix (κ = 3) observed on one
fixed set Ω of entries, drawn uniformly without duplicates, for several ranks k.  Exact
AltMin forms and factors each row's Gram matrix, ``O(|Ω| k²)`` per sweep; the robust
variant of Gu, Song, Yin and Zhang runs a few warm-started conjugate-gradient steps per
row, preconditioned by a QR of the fixed factor, ``O(|Ω| k s̄)`` with s̄ CG steps per row
(the numbers beside the points).  A row is solved by Cholesky when that is predicted
cheaper than its CG steps; hollow markers are ranks where the robust method did so for
every row, so the two methods coincide there.

(a) The analysis' regime, about ``4 k_max ln n`` observations per row: the row Gram
matrices of an orthonormal factor are well conditioned, s̄ stays near 4 and the robust
sweep grows more slowly than the exact one once CG takes over.  (b) A sparser regime,
``4 k_max`` per row: with fewer observations per unknown CG would need more steps, and
Cholesky wins.  Dashed lines are least-squares fits over the ranks above the smallest.
At small k the exact sweep grows more slowly than k² because the Gram accumulation is
bound by memory traffic and per-row overheads; ``benchmarks/bench_completion.py``
measures k up to 128.  See :mod:`lowrank.experiments.completion_sweep_time`.
"""

import matplotlib.pyplot as plt
import numpy as np

from lowrank.experiments import completion_sweep_time as f4

data = f4.run("small", rng=0)
f4.plot(data, fig=plt.figure())
plt.show()

# %%
# Time per sweep, the robust method's speed-up and its mean CG steps, per regime and rank.
exact, robust = data["methods"].index("exact"), data["methods"].index("robust")
for a, regime in enumerate(data["regimes"]):
    print(f"{regime} regime: {data['per_row'][a]} observations per row")
    for i, k in enumerate(data["ranks"]):
        t = data["median_time"][a, i]
        steps = data["mean_steps"][a, i, robust]
        how = ("every row by Cholesky" if np.isnan(steps) else
               f"{steps:.1f} CG steps per row, "
               f"{100 * data['exact_fraction'][a, i, robust]:.0f}% of rows by Cholesky")
        print(f"    k = {k:3d}: exact {t[exact]:.3f} s, robust {t[robust]:.3f} s "
              f"(x{t[exact] / t[robust]:.2f}; {how})")
    slopes = ", ".join(f"{m} {data['slope'][a, j]:.2f}" for j, m in enumerate(data["methods"]))
    print(f"    fitted slopes: {slopes}")
print("max CG steps seen:", np.nanmax(data["max_steps"]))
