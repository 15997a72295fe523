"""The result of the subspace power methods."""

from collections.abc import Mapping

from .._result import History, Result
from ._tensors import cp_tensor, symmetric_tensor

__all__ = ["CPResult"]


class CPResult(Result):
    """A CP decomposition: ``T ~ sum_i weights[i]`` times the outer product of the
    ``i``-th columns of the factors.

    Attributes
    ----------
    weights : array (rank,)
        The weights ``lambda_i``, ordered by decreasing magnitude.  They are positive
        whenever the sign can be moved to a factor: for odd symmetric order, and for
        :func:`multi_subspace_power_method` when some symmetry group has odd
        multiplicity; otherwise (even order) they carry the sign of each term.
    factors : array (d, rank) or list of arrays (d_j, rank)
        Unit-norm factors: one ``d x rank`` matrix for a symmetric tensor
        (:func:`subspace_power_method`), one matrix per mode for
        :func:`multi_subspace_power_method` (modes of one group share the same
        matrix).  Each column's sign is fixed so that its entry of largest magnitude is
        positive, except in the factor that takes the sign of a negative weight (the
        symmetric factor for odd order, the first group of odd multiplicity).
    rank : int
        The number of components.
    rank_estimated : bool
        Whether ``rank`` was estimated from the flattening's spectrum.
    order : int
        The order of the tensor.
    symmetry : tuple of int
        The symmetry group of each mode (all 0 for a symmetric tensor).
    spectrum : array
        The spectrum of the flattening the subspace was extracted from, by decreasing
        magnitude (eigenvalues for even symmetric order, singular values otherwise); the
        rank estimate counts the values above ``rank_tol`` times
        ``sum(s^2) / sum(|s|)``.
    converged : bool
        Whether every component's power iteration was accepted (``1 - f < accept_tol``)
        and, with ``refine=True``, the refinement met its tolerance.
    n_iter : int
        Power iterations run, over all components (a batch of starts counts once per
        iteration).
    n_restarts : int
        Starts that ended without being accepted (spurious maxima or ``maxiter``).
    timings : Mapping
        Seconds spent in each phase: ``extract`` (flattening and its spectrum),
        ``power`` (power iterations), ``deflate`` (weights and deflation), ``refine``.
    history : History
        One row per component, in the order found: ``component`` (its position in the
        output), ``iterations``, ``objective`` (the final ``f``, 1 for an exact
        component), ``accepted`` (1 or 0), ``rejected_starts``, ``weight`` and ``time``.
    refinement : History or None
        With ``refine=True``, one row per refinement step: ``objective``
        (``||T - T_hat||_F / ||T||_F``), ``step`` (the accepted step length, 0 when no
        step decreased the objective) and ``time``.
    message : str
        How the run ended.
    """

    weights: object
    factors: object
    rank: int
    rank_estimated: bool
    order: int
    symmetry: tuple
    spectrum: object
    converged: bool
    n_iter: int
    n_restarts: int
    timings: Mapping
    history: History
    refinement: object
    message: str

    def to_tensor(self):
        """The dense tensor ``sum_i weights[i] * a_i (x) ... (x) a_i`` (``MemoryError``
        when it would take more than half the machine's memory)."""
        if isinstance(self.factors, list):
            return cp_tensor(self.weights, self.factors)
        return symmetric_tensor(self.weights, self.factors, self.order)
