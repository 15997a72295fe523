"""Pairwise matrix factorizations with randomized pivoting.

Jacobi (eigen, SVD), Gram-Schmidt (QR) and Gaussian elimination (Cholesky) as one
pairwise procedure (Detherage-Shah, "Matrix factorizations with uniformly random
pivoting"): repeatedly pick a pair of indices by a pivoting rule (``"random"``,
``"cyclic"``, ``"greedy"``) and apply the 2 x 2 rotation or elimination that zeroes
their Gram entry.

- :func:`jacobi_eigh` (two-sided rotations) -> :class:`EighResult`;
- :func:`jacobi_svd` (one-sided rotations) -> :class:`SVDResult`;
- :func:`gram_schmidt_qr` (one-sided eliminations, or the classical / modified / CGS2
  column-by-column variants) -> :class:`QRResult`;
- :func:`elimination_cholesky` (two-sided eliminations) -> :class:`CholeskyResult`;
- :func:`rp_cholesky`: randomly pivoted partial Cholesky (Chen-Epperly-Tropp-Webber), a
  low-rank approximation of a PSD matrix given as an array or by its entries, with the
  accelerated block variant (Epperly-Tropp-Webber) -> :class:`RPCholeskyResult`.
"""

from ._elimination import elimination_cholesky, gram_schmidt_qr
from ._jacobi import jacobi_eigh, jacobi_svd
from ._result import CholeskyResult, EighResult, QRResult, SVDResult
from ._rpcholesky import RPCholeskyResult, rp_cholesky

__all__ = [
    "CholeskyResult",
    "EighResult",
    "QRResult",
    "RPCholeskyResult",
    "SVDResult",
    "elimination_cholesky",
    "gram_schmidt_qr",
    "jacobi_eigh",
    "jacobi_svd",
    "rp_cholesky",
]
