"""
Growth of the ℓ∞ error with the dimension (F2)
==============================================

The normalized error ``R∞ = √d ‖x' − x*‖∞ / (‖r‖ ‖A⁺‖)`` of sketch-and-solve at a fixed
sketch size m = 16 d, as d grows.  Dense sketches stay flat, as the Gaussian rate
(dashed) predicts.  On the adversarial "block + spike" instance CountSketch fails in a
fixed fraction of the trials (its median is an exact 0) and, when it fails, by about
√(d/k) (dotted): its 95th percentile grows like √d.  See
:mod:`lowrank.experiments.linf_error_vs_dimension`.
"""

import matplotlib.pyplot as plt

from lowrank.experiments import linf_error_vs_dimension as f2

data = f2.run("small", rng=0)
f2.plot(data, fig=plt.figure())
plt.show()
