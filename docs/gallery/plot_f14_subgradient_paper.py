"""
The sub-gradient method's experiments of Ma and Fattahi (F14)
=============================================================

The paper's setting: a rank-3 PSD matrix of size 20 x 20 from 500 Gaussian
measurements, recovered by :func:`lowrank.robust.subgradient_recovery` from the spectral
start of Algorithm 2.  (a) Over-estimating the rank does not stop recovery; (b) Gaussian
noise on a growing fraction of the measurements raises the error floor; (c) the smaller
the start, the smaller the final error; (d) dense noise leaves a floor, for the l1
sub-gradient method and for gradient descent on the l2 loss alike.  The paper does not
report its step parameters; every curve here uses the library's default schedule, which
stops once a step can no longer change the iterate (the curve is then flat).
See :mod:`lowrank.experiments.subgradient_paper`.
"""

import matplotlib.pyplot as plt

from lowrank.experiments import subgradient_paper as f14

data = f14.run("small", rng=0)
f14.plot(data, fig=plt.figure())
plt.show()

# %%
# The median final error of each curve.
for row in f14.to_rows(data):
    print(f"{row['panel']:15s} {row['curve']:22s} final error {row['final_error_median']:.1e}"
          f" after {row['iterations_median']:.0f} iterations")
