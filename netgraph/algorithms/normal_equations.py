"""Solving ridge-regularised normal equations ``G x = b`` built from streamed Gram matrices.

Every least-squares fold in netgraph (consumer refits, head and FFN refits of
transformers) ends in this solve; one copy keeps their numerics identical.
"""

from __future__ import annotations

import numpy as np

__all__ = ["solve_normal_equations"]


def solve_normal_equations(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``matrix⁻¹ rhs`` for a symmetric positive (semi-)definite ``matrix``.

    Cholesky first (fast and stable for a regularised Gram); a Gram that round-off made
    indefinite falls back to least squares instead of failing.

    Examples
    --------
    >>> import numpy as np
    >>> solve_normal_equations(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0]))
    array([1. , 0.5])
    """
    try:
        factor = np.linalg.cholesky(matrix)
        return np.linalg.solve(factor.T, np.linalg.solve(factor, rhs))
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(matrix, rhs, rcond=None)[0]
