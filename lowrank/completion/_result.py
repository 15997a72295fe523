"""The result of :func:`~lowrank.completion.altmin`."""

import numpy as np

from .._backend import array_namespace, is_numpy_namespace
from .._result import Result

__all__ = ["CompletionResult", "index_array"]

# to_dense() refuses to build more entries than this.
_MAX_DENSE = 10**8


class CompletionResult(Result):
    """Result of :func:`altmin`: the completed matrix
    ``M ~ U @ V.T (+ offset + row_bias[:, None] + col_bias[None, :])``.

    Attributes
    ----------
    U : ndarray (m, rank)
        Left factor.
    V : ndarray (n, rank)
        Right factor.
    offset : float
        The fitted global offset ``mu`` (``biases=True``; 0.0 otherwise).
    row_bias : ndarray (m,) or None
        The fitted row biases ``a`` (``biases=True``; ``None`` otherwise).
    col_bias : ndarray (n,) or None
        The fitted column biases ``b`` (``biases=True``; ``None`` otherwise).
    rank : int
        The rank of the factorization.
    method : str
        ``"robust"`` or ``"exact"``.
    regularization : float
        The ridge weight ``lam`` of the objective (see :func:`altmin`).
    converged : bool
        Whether the residual reached ``tol`` or a stationary point was certified (see
        :func:`altmin`); ``False`` at ``maxiter``, on a callback stop and on overflow.
    n_iter : int
        Sweeps run (one sweep updates ``V``, then ``U``).
    history : History
        Per sweep: ``residual`` (``||P_O(pred - M)|| / ||P_O(M)||``), ``objective``,
        ``validation_rmse`` (NaN without validation data), ``solver_tol``,
        ``mean_inner_steps`` and ``max_inner_steps`` (CG steps over the rows solved by CG;
        0 when none was), ``exact_rows`` (rows and columns with observations solved
        exactly: all of them for the exact method and the first robust half-sweep),
        ``cg_fraction`` (the share of the rows and columns with observations whose update
        CG solved; 0 for the exact method), ``rescued_rows`` (numerically singular rows
        given a tiny ridge; 0 on device namespaces, whose batched exact solve adds that
        ridge to every row), ``work`` (the sweep's cost in multiply-adds:
        ``2 k |O_i| (1 + s_i)`` for a row solved by ``s_i`` CG steps, ``k^2 |O_i| + k^3/3``
        for an exact row (``|O_i|^2 k + |O_i|^3 / 3`` in the dual form used when
        ``|O_i| < k`` with a ridge, plus ``|O_i| k^2`` on the robust QR path; device
        namespaces have no dual form), both for a row that reached ``max_cg_steps``
        before its exact solve; with ``preconditioner="sketch"`` each CG row adds
        ``4 k |O_i| + 8 k^3`` to sketch and factor, or ``2 |O_i| k^2`` to factor a row of
        at most ``4 k`` observations; ``k`` counts the bias column with ``biases=True``),
        ``sweep_time`` (seconds of that sweep) and ``time`` (since the start).
    message : str
        Why the iteration stopped.
    """

    U: object
    V: object
    rank: int
    method: str
    regularization: float
    converged: bool
    n_iter: int
    history: dict
    message: str
    offset: float = 0.0
    row_bias: object = None
    col_bias: object = None

    @property
    def shape(self):
        """``(m, n)``: the shape of the completed matrix."""
        return (self.U.shape[0], self.V.shape[0])

    def predict(self, rows, cols):
        """Entries ``M[rows[t], cols[t]] ~ U[rows[t]] . V[cols[t]]`` (plus the offset and
        the biases when fitted), for 1-D integer arrays (for device factors, integer
        arrays of their namespace)."""
        xp = array_namespace(self.U)
        if is_numpy_namespace(xp):
            rows = index_array(rows, "rows", self.shape[0])
            cols = index_array(cols, "cols", self.shape[1])
            if rows.shape != cols.shape:
                raise ValueError("`rows` and `cols` must have the same length; got "
                                 f"{rows.size} and {cols.size}.")
        pred = xp.sum(xp.take(self.U, rows, axis=0) * xp.take(self.V, cols, axis=0), axis=1)
        if self.row_bias is not None:
            pred = (pred + self.offset + xp.take(self.row_bias, rows)
                    + xp.take(self.col_bias, cols))
        return pred

    def to_dense(self):
        """The completed matrix as a dense array (refused above 10^8 entries)."""
        m, n = self.shape
        if m * n > _MAX_DENSE:
            raise ValueError(f"to_dense() would build {m} x {n} = {m * n} entries (more than "
                             f"{_MAX_DENSE}); use predict(rows, cols) instead.")
        xp = array_namespace(self.U)
        dense = xp.matmul(self.U, xp.matrix_transpose(self.V))
        if self.row_bias is not None:
            dense = (dense + self.offset + self.row_bias[:, None]) + self.col_bias[None, :]
        return dense


def index_array(values, name, bound):
    """``values`` as a 1-D int64 array of indices in ``[0, bound)`` (else a clear error)."""
    values = np.asarray(values)
    if values.ndim == 1 and values.size == 0:  # [] arrives as float64
        return values.astype(np.int64)
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"`{name}` must be a 1-D integer array; got dtype {values.dtype} and "
                        f"shape {values.shape}.")
    if values.size and (values.min() < 0 or values.max() >= bound):
        raise ValueError(f"`{name}` must lie in [0, {bound}); got values in "
                         f"[{values.min()}, {values.max()}].")
    return values
