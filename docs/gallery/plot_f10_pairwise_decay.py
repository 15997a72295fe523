"""
Off-diagonal decay of the pairwise factorizations by pivoting rule (F10)
========================================================================

Jacobi eigen and SVD, Gram-Schmidt QR and Cholesky by eliminations are one pairwise
procedure: pick a pair ``i < j`` and zero the Gram entry ``g_ij`` by a rotation or an
elimination.  Each seed draws ``B``, a ``2n × n`` Gaussian, and runs all four on the same
Gram matrix ``G = BᵀB`` with random, cyclic and greedy pivoting; the x axis counts steps
in sweeps of ``N = n(n−1)/2``.

Top row: ``off²(G)/off²(G₀)``.  For rotations, each step moves ``2 g_ij²`` onto the
diagonal, so with uniformly random pairs ``E off²`` after ``k`` steps is exactly
``(1 − 2/(n(n−1)))^k`` (dotted, about ``e^{-1}`` per sweep); the median lies far below it
late in the run, since the mean is dominated by rare runs that leave a pair unvisited.
Cyclic and greedy converge quadratically at the end.  For eliminations the line is no
bound (an elimination refills entries) and one cyclic sweep already diagonalizes (it is
modified Gram-Schmidt, or right-looking LDLᵀ).  Bottom row: the potential
``Φ = Σ log g_kk − log det G``, which both kinds lower by ``−log(1 − ρ_ij²)`` per step.
See :mod:`lowrank.experiments.pairwise_decay`.
"""

import matplotlib.pyplot as plt
import numpy as np

from lowrank.experiments import pairwise_decay as f10

data = f10.run("small", rng=0)
f10.plot(data, fig=plt.figure())
plt.show()

# %%
# Median sweeps to convergence (the default relative tolerance), by factorization and rule.
for a, n in enumerate(data["sizes"]):
    print(f"n = {n}:")
    for f, name in enumerate(data["factorizations"]):
        sweeps = np.median(data["converged_sweep"][a, f], axis=-1)
        cells = ", ".join(f"{rule} {s:g}" for rule, s in zip(data["rules"], sweeps,
                                                             strict=True))
        print(f"    {name:9s} {cells}")
