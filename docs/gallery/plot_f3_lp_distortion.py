"""
ℓp subspace-embedding distortion versus the sample count (F3)
=============================================================

Rows of an n x d matrix M are kept independently with probabilities ``q_i`` (expected
count m) and rescaled by ``q_i^(-1/p)``, so that ``E ‖S y‖ₚᵖ = ‖y‖ₚᵖ``.  The top two rows
show the distortion ``max |‖S M x‖ₚ / ‖M x‖ₚ − 1|`` over random, structured and refined
directions (a lower bound on the worst case); the bottom two rows show the relative
excess cost of ℓp regression solved on a sample of ``[A b]`` (``b = A x0`` plus
Student-t(2) noise), against the exact optimum on the full data.

Each column is one exponent p.  For p < 2 the small-𝔖 matrix has Gaussian rows and the
large-𝔖 one Student-t(1.5) rows; for p > 2 the roles swap (block-diagonal 2-D Gaussian
blocks have the small total sensitivity, Gaussian rows the large one).  Uniform
sampling breaks down on the heavy-tailed rows and misses the outliers of the
regression noise.  For p > 2 sensitivity sampling can only beat Lewis weights on a
matrix with 𝔖 < d^(p²/(4(p−1))) (Woodruff and Yasuda 2023), and only with
sensitivities sharper than the upper bounds ``d^(p/2−1) w`` (which make it Lewis
sampling); the panel titles say which values were used.  See
:mod:`lowrank.experiments.lp_embedding_distortion`.
"""

import matplotlib.pyplot as plt
import numpy as np

from lowrank.experiments import lp_embedding_distortion as f3

data = f3.run("small", rng=0)
f3.plot(data, fig=plt.figure())
plt.show()

# %%
# Median distortion at m = 16 d, for each p, matrix and sampling scheme, and the total
# sensitivity of each matrix.
i = list(data["ratios"]).index(16)
for a, p in enumerate(data["p_values"]):
    for r, role in enumerate(data["roles"]):
        total = data["total_sensitivity"][a, r]
        print(f"p = {p:g}, {data['matrices'][a][r]} ({role} total sensitivity "
              f"{total:.3g}, {data['sensitivity_method']}):")
        for k, method in enumerate(data["methods"]):
            if method in f3.methods_for(p):
                values = data["distortion"][a, r, k, i]
                print(f"    {method:14s} distortion {np.median(values):.3f}")
