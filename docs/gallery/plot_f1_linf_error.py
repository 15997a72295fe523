"""
ℓ∞ error of sketch-and-solve versus the sketch size (F1)
========================================================

Sketch-and-solve least squares, ``x' = argmin ||S (A x - b)||``, with an m x n sketch S.
The normalized coordinate-wise error ``R∞ = √d ‖x' − x*‖∞ / (‖r‖ ‖A⁺‖)`` is what the
ℓ∞ guarantee of Song, Ye, Yin and Zhang (ICML 2023) bounds by ε; the bottom row shows
the ℓ2 error ``R₂ = ‖x' − x*‖₂ / (‖r‖ ‖A⁺‖)``.

On the generic instance (a) every family behaves alike.  On the adversarial
"block + spike" instance (b) dense sketches (Gaussian, SRHT) decay like √(d/m), while
CountSketch fails with probability about ``1 − exp(−dk/m)`` by an error √(d/k) that does
not shrink with m, and the row samplers are either exact or miss a block.  The dashed
line is the leading term of the proven Gaussian bound, the dotted line the paper's
rate.  See :mod:`lowrank.experiments.linf_error_vs_sketch_size`.
"""

import matplotlib.pyplot as plt
import numpy as np

from lowrank.experiments import linf_error_vs_sketch_size as f1

data = f1.run("small", rng=0)
f1.plot(data, fig=plt.figure())
plt.show()

# %%
# Median R∞ at m = 16 d, and the fraction of trials with R∞ > 1, on each instance.
i = list(data["ratios"]).index(16)
for p, panel in enumerate(data["panels"]):
    for f, label in enumerate(data["labels"]):
        values = data["r_inf"][p, f, i]
        print(f"{panel:12s} {label:32s} median {np.median(values):5.2f}   "
              f"P(R∞ > 1) = {np.mean(values > 1):.2f}")
