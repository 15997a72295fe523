"""Reference computations shared by the sampling tests."""

import numpy as np


def to_numpy(x):
    """Any array (NumPy, CuPy, array-API) as a NumPy array."""
    if hasattr(x, "get"):
        return x.get()
    return np.asarray(x)


def reference_basis(A, rcond=None):
    """Orthonormal basis of range(A) from the SVD (float64)."""
    A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=np.float64)
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    rcond = max(A.shape) * np.finfo(np.float64).eps if rcond is None else rcond
    r = int(np.sum(s > s[0] * rcond)) if s[0] > 0 else 0
    return U[:, :r], r


def reference_leverage(A):
    U, _ = reference_basis(A)
    return np.sum(U**2, axis=1)


def lewis_residual(A, w, p):
    """max_i |log(sigma_i^{p/2} / w_i)| over nonzero rows, sigma from a QR of W^{1/2-1/p}A
    in the triangular-solve form (accurate for tiny weights)."""
    A = np.asarray(A, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    keep = np.any(A != 0, axis=1)
    A, w = A[keep], w[keep]
    U, _ = reference_basis(A)
    M = w[:, None] ** (0.5 - 1.0 / p) * U
    R = np.linalg.qr(M, mode="r")
    Y = np.linalg.solve(R.T, U.T)
    sigma = np.sum(Y**2, axis=0)
    return float(np.max(np.abs(np.log(sigma ** (p / 2.0) / w))))


def heavy_rows(n, d, rng, spread=3.0):
    """Gaussian rows with log-uniform row scales exp(U(-spread, spread))."""
    rng = np.random.default_rng(rng)
    return rng.standard_normal((n, d)) * np.exp(rng.uniform(-spread, spread, (n, 1)))
