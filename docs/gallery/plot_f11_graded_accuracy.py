"""
Relative accuracy on graded matrices: Jacobi against LAPACK (F11)
=================================================================

(a) Eigenvalues of ``A = D H D`` with ``H`` a well-conditioned positive definite matrix
of unit diagonal and ``D = diag(10^(−g i/(n−1)))``; (b) singular values of
``B·diag(logspace(0, −g))``.  The grading is randomly permuted (solid lines): with a
monotone decreasing grading (dotted), LAPACK's ``eigh`` (``lower=True``) and ``svd``
happen to be accurate too, which flatters them.  The error is the largest relative error
over all eigenvalues (singular values) against an mpmath reference at 60 digits.

Jacobi with the relative stopping test keeps every eigenvalue to about ``ε·cond(H)``
(gray line) at every grading, random or cyclic pivots alike; ``scipy.linalg.eigh`` keeps
only ``ε‖A‖`` absolute accuracy, so its smallest eigenvalues lose all their digits as g
grows.  For the SVD, ``gesdd`` loses digits while LAPACK's preconditioned Jacobi
``dgejsv`` (``joba=0``) stays accurate, like ``jacobi_svd``.
See :mod:`lowrank.experiments.graded_accuracy`.
"""

import matplotlib.pyplot as plt
import numpy as np

from lowrank.experiments import graded_accuracy as f11

data = f11.run("small", rng=0)
f11.plot(data, fig=plt.figure())
plt.show()

# %%
# Median over the seeds of the largest relative error at the widest grading.
if data["note"]:
    print(data["note"])
k = len(data["gradings"]) - 1
for problem, methods in (("eig", data["eig_methods"]), ("svd", data["svd_methods"])):
    for j, method in enumerate(methods):
        permuted, decreasing = np.median(data[f"{problem}_error"][j, :, k], axis=-1)
        print(f"{problem} {method:14s} g = {data['gradings'][k]:g}: permuted {permuted:.1e}, "
              f"decreasing {decreasing:.1e}")
