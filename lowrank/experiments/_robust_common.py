"""Problems shared by the robust-recovery figures (private)."""

import warnings

import numpy as np

from ..exceptions import ConvergenceWarning
from ..robust import GaussianMeasurements, corrupt, subgradient_recovery

__all__ = ["quiet_recovery", "relative_error", "sensing_problem"]


def sensing_problem(d, r, kappa, fraction, m, rng, *, noise="outliers"):
    """``(A, y, X)``: a rank-``r`` PSD ``X`` of unit Frobenius norm with singular values
    geometric from 1 to ``1/kappa`` (Haar eigenvectors), ``m`` Gaussian measurements,
    and a ``fraction`` of them corrupted: ``"outliers"`` of magnitude
    ``10 max|y| U[-1, 1]`` (the paper note's runs), ``"gaussian"`` noise N(0, 100) (the
    paper's Fig. 1b) or, on every measurement whatever ``fraction``, ``"dense"`` N(0, 1)
    noise (its Fig. 3a)."""
    Q = np.linalg.qr(rng.standard_normal((d, r)))[0]
    X = (Q * np.geomspace(1.0, 1.0 / kappa, r)) @ Q.T
    X /= np.linalg.norm(X)
    A = GaussianMeasurements(d, int(m), rng=rng)
    y0 = A(X)
    if noise == "outliers":
        y = corrupt(y0, fraction, magnitude=10 * float(np.abs(y0).max()), rng=rng)
    elif noise == "gaussian":
        y = corrupt(y0, fraction, magnitude=10.0, distribution="gaussian", rng=rng)
    else:
        y = corrupt(y0, 1.0, magnitude=1.0, distribution="gaussian", rng=rng)
    return A, y, X


def relative_error(res, X):
    return float(np.linalg.norm(res.X - X) / np.linalg.norm(X))


def quiet_recovery(*args, **kwargs):
    """:func:`subgradient_recovery` with its ConvergenceWarning silenced (a figure shows
    the schedules that fail; their warnings would only repeat it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return subgradient_recovery(*args, **kwargs)
