"""Right preconditioners ``M`` (d x r) of least squares from a sketch of ``A``.

Three forms share one interface (``kind``, ``n_cols``, ``apply``, ``apply_T``,
``apply_inverse``, ``apply_inverse_T``, ``singular_values``):

- :class:`TriangularPreconditioner`: ``M = R^{-1}``, R from a QR of the sketch ``S A``;
- :class:`CholeskyQRPreconditioner`: ``M = X R_c^{-1}``, the triangular form refined by a
  Cholesky QR of ``A X`` (``X = R^{-1}`` explicit);
- :class:`SVDPreconditioner`: ``M = V_r diag(1/s_r)`` for a rank-deficient sketch.

:func:`preconditioner_from_sketch` picks the sketch's form; :func:`cholesky_qr_refine`
turns a triangular form into the Cholesky QR one.
"""

import numpy as np

from .._backend import is_numpy_namespace, is_sparse, norm
from .._linalg import cholesky_upper, numerical_rank, qr_r, triangular_solve

__all__ = ["CholeskyQRPreconditioner", "SVDPreconditioner", "TriangularPreconditioner",
           "cholesky_qr_refine", "preconditioner_from_sketch"]


class _PowerIterationEstimates:
    """``singular_values`` by power iteration, for the forms without an explicit SVD."""

    def singular_values(self, n_steps=12):
        """Estimates of the largest and smallest singular values of ``M^{-1}``, i.e. of
        ``||A||`` and ``sigma_min(A)`` within the sketch's distortion.

        Power iteration on ``M^{-T} M^{-1}`` and on ``M M^T`` (O(d^2) per step, on the
        data's device); a dozen steps give the few correct digits a stopping rule needs.
        """
        xp = self.xp
        v = xp.ones(self.n_cols, dtype=self.R.dtype)
        w = v
        big = small = 0.0
        for _ in range(n_steps):
            v = self.apply_inverse_T(self.apply_inverse(v))
            big = norm(xp, v)
            v = v / big
            w = self.apply(self.apply_T(w))
            small = norm(xp, w)
            w = w / small
        return float(np.sqrt(big)), float(1.0 / np.sqrt(small))


class TriangularPreconditioner(_PowerIterationEstimates):
    """``M = R^{-1}``, R (d x d, upper triangular) from a QR of the sketch ``S A``."""

    kind = "sketch_qr"

    def __init__(self, xp, R):
        self.xp, self.R = xp, R
        self.n_cols = R.shape[0]

    def apply(self, z):
        """``M z``."""
        return triangular_solve(self.xp, self.R, z)

    def apply_T(self, w):
        """``M^T w``."""
        return triangular_solve(self.xp, self.R, w, trans=True)

    def apply_inverse_T(self, y):
        """``M^{-T} y = R^T y``."""
        return self.xp.matrix_transpose(self.R) @ y

    def apply_inverse(self, y):
        """``M^{-1} y = R y``."""
        return self.R @ y


class CholeskyQRPreconditioner(_PowerIterationEstimates):
    """``M = X R^{-1}``: ``X`` the explicit inverse of the sketch's R, ``R`` (here the
    Cholesky factor ``R_c``) from the Cholesky QR of ``A X``."""

    kind = "cholesky_qr"

    def __init__(self, xp, R, X):
        self.xp, self.R, self.X = xp, R, X
        self.n_cols = R.shape[0]

    def apply(self, z):
        """``M z``."""
        return self.X @ triangular_solve(self.xp, self.R, z)

    def apply_T(self, w):
        """``M^T w``."""
        return triangular_solve(self.xp, self.R, self.xp.matrix_transpose(self.X) @ w,
                                trans=True)

    def apply_inverse_T(self, y):
        """``M^{-T} y = X^{-T} R^T y``."""
        return triangular_solve(self.xp, self.X, self.xp.matrix_transpose(self.R) @ y,
                                trans=True)

    def apply_inverse(self, y):
        """``M^{-1} y = R X^{-1} y``."""
        return self.R @ triangular_solve(self.xp, self.X, y)


class SVDPreconditioner:
    """``M = V diag(1/s)`` (d x r) from a thin SVD of a rank-deficient sketch, truncated
    at its numerical rank r."""

    kind = "sketch_svd"

    def __init__(self, xp, V, s):
        self.xp, self.V, self.s = xp, V, s
        self.n_cols = V.shape[1]

    def _s(self, like):
        """``s`` shaped to scale the rows of ``like`` (a vector or a block)."""
        return self.s if like.ndim == 1 else self.s[:, None]

    def apply(self, z):
        """``M z``."""
        return self.V @ (z / self._s(z))

    def apply_T(self, w):
        """``M^T w``."""
        return (self.xp.matrix_transpose(self.V) @ w) / self._s(w)

    def apply_inverse_T(self, y):
        """``M^{-T} y = V diag(s) y``."""
        return self.V @ (y * self._s(y))

    def apply_inverse(self, y):
        """``M^{-1} y = diag(s) V^T y``."""
        return (self.xp.matrix_transpose(self.V) @ y) * self._s(y)

    def singular_values(self):
        """The sketch's largest and smallest kept singular values (estimates of ``||A||``
        and ``sigma_min(A)``)."""
        return float(self.s[0]), float(self.s[-1])


def preconditioner_from_sketch(xp, SA, Sb, eps):
    """The preconditioner of the sketch ``SA`` and the sketched solution's coordinates
    ``z0`` (``x0 = M z0``, one column per column of a 2-D ``Sb``).

    Triangular from the R of a QR of ``[SA, Sb]`` (its last columns hold ``Q^T Sb``, so
    Q is never formed) unless R's diagonal spans more than ``1 / (d eps)`` (``eps`` of
    the data's dtype); then the SVD form at the sketch's numerical rank.
    """
    d = SA.shape[1]
    Rb = qr_r(xp, xp.concat([SA, Sb if Sb.ndim == 2 else Sb[:, None]], axis=1))
    R, z0 = Rb[:d, :d], (Rb[:d, d] if Sb.ndim == 1 else Rb[:d, d:])
    diag = xp.abs(xp.linalg.diagonal(R))
    if float(xp.min(diag)) > float(xp.max(diag)) * d * eps:
        return TriangularPreconditioner(xp, R), z0
    U, s, Vt = xp.linalg.svd(SA, full_matrices=False)
    r = max(numerical_rank(xp, s, d * eps), 1)
    M = SVDPreconditioner(xp, xp.matrix_transpose(Vt[:r, :]), s[:r])
    return M, xp.matrix_transpose(U[:, :r]) @ Sb


def cholesky_qr_refine(xp, A, b, M):
    """Refine a :class:`TriangularPreconditioner` ``R_s^{-1}`` by a Cholesky QR of
    ``B = A R_s^{-1}``.

    Returns the :class:`CholeskyQRPreconditioner` and ``z0 = Q^T b`` (Q = B R_c^{-1}
    implicit), or ``None`` when the Cholesky factorization breaks down (A numerically
    rank deficient).
    """
    X = triangular_solve(xp, M.R, xp.eye(A.shape[1], dtype=A.dtype))
    G, c = _gram_of_product(xp, A, X, b)
    Rc = cholesky_upper(xp, G)
    if Rc is None:
        return None
    z0 = triangular_solve(xp, Rc, c, trans=True)
    return CholeskyQRPreconditioner(xp, Rc, X), z0


# Rows of A per block of the Gram computation: a 4096 x d block of B = A X stays in the
# last-level cache between the two products, and B is never stored whole.
_GRAM_BLOCK_ROWS = 4096


def _gram_of_product(xp, A, X, b):
    """``(B^T B, B^T b)`` for ``B = A X``, block by block on the host (dense A)."""
    if not is_numpy_namespace(xp) or is_sparse(A):
        B = A @ X
        return xp.matrix_transpose(B) @ B, xp.matrix_transpose(B) @ b
    n, d = A.shape
    G = np.zeros((d, d), dtype=A.dtype)
    c = np.zeros((d, *b.shape[1:]), dtype=A.dtype)
    buf = np.empty((min(n, _GRAM_BLOCK_ROWS), d), dtype=A.dtype)
    for start in range(0, n, _GRAM_BLOCK_ROWS):
        stop = min(n, start + _GRAM_BLOCK_ROWS)
        Bb = np.matmul(A[start:stop], X, out=buf[: stop - start])
        G += Bb.T @ Bb
        c += Bb.T @ b[start:stop]
    return G, c
