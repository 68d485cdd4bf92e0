"""Determinantal point processes: greedy MAP inference and exact k-DPP sampling.

Both work on a positive semi-definite kernel ``L`` (``L = diag(q) S diag(q)`` with
quality ``q`` and similarity ``S``): a subset ``Y`` has probability proportional to
``det(L_Y)``, so subsets of high-quality, mutually dissimilar items are likely.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

__all__ = ["greedy_map_dpp", "sample_k_dpp", "k_dpp_marginals"]


def greedy_map_dpp(kernel: np.ndarray, k: int, *, tol: float = 1e-10) -> np.ndarray:
    """Greedy MAP inference of a DPP (Chen, Zhang & Zhou 2018), in O(n k²).

    Each step adds the item with the largest marginal gain ``log det`` increase, kept as
    the squared diagonal ``d_i²`` of an incremental Cholesky factorisation; the picks are
    exactly the pivots of a pivoted Cholesky factorisation of ``kernel``. When the kernel's
    rank is exhausted (all gains below ``tol`` times the largest diagonal) the remaining
    picks follow the kernel's diagonal, largest first.

    Parameters
    ----------
    kernel : ndarray, shape (n, n)
        Symmetric positive semi-definite kernel.
    k : int
        Number of items to pick (at most n).

    Returns
    -------
    ndarray of int, shape (k,)
        The picked items in the order they were chosen.

    Examples
    --------
    >>> greedy_map_dpp(np.diag([1.0, 3.0, 2.0]), 2).tolist()
    [1, 2]
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    n = kernel.shape[0]
    k = min(int(k), n)
    diagonal = np.diag(kernel).copy()
    gains = diagonal.copy()
    factors = np.zeros((k, n))
    chosen: list[int] = []
    available = np.ones(n, dtype=bool)
    threshold = tol * max(float(diagonal.max(initial=0.0)), np.finfo(float).tiny)
    for step in range(k):
        masked = np.where(available, gains, -np.inf)
        best = int(np.argmax(masked))
        if masked[best] <= threshold:
            # Rank exhausted: the rest carry no new volume; fall back to quality order.
            rest = np.flatnonzero(available)
            rest = rest[np.argsort(-diagonal[rest], kind="stable")]
            chosen.extend(int(i) for i in rest[: k - step])
            break
        chosen.append(best)
        available[best] = False
        pivot = np.sqrt(gains[best])
        update = (kernel[best] - factors[:step].T @ factors[:step, best]) / pivot
        factors[step] = update
        gains = np.maximum(gains - update**2, 0.0)
    return np.asarray(chosen, dtype=np.int64)


def _log_elementary_symmetric(eigenvalues: np.ndarray, k: int) -> np.ndarray:
    """``log e_l(λ_1..λ_m)`` for l = 0..k and m = 0..n, in log space (no overflow)."""
    n = eigenvalues.size
    with np.errstate(divide="ignore"):
        log_values = np.log(np.maximum(eigenvalues, 0.0))
    table = np.full((k + 1, n + 1), -np.inf)
    table[0, :] = 0.0
    for m in range(1, n + 1):
        table[1:, m] = np.logaddexp(table[1:, m - 1], log_values[m - 1] + table[:-1, m - 1])
    return table


def sample_k_dpp(
    kernel: np.ndarray,
    k: int,
    random_state: np.random.Generator,
    *,
    eigen: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Draw one exact sample of a k-DPP (Kulesza & Taskar 2012, Algorithm 8).

    Phase 1 picks k eigenvectors with probabilities given by elementary symmetric
    polynomials of the eigenvalues; phase 2 samples the projection DPP they span by the
    chain rule, as an incremental Cholesky factorisation of its kernel (O(n k²)).

    Parameters
    ----------
    kernel : ndarray, shape (n, n)
        Symmetric positive semi-definite kernel of rank at least k.
    k : int
        Sample size.
    random_state : numpy Generator
        Source of randomness.
    eigen : (eigenvalues, eigenvectors), optional
        A precomputed ``np.linalg.eigh(kernel)``, to draw many samples cheaply.

    Returns
    -------
    ndarray of int, shape (k,), sorted
    """
    if eigen is None:
        eigen = np.linalg.eigh(np.asarray(kernel, dtype=np.float64))
    eigenvalues, eigenvectors = eigen
    eigenvalues = np.maximum(eigenvalues, 0.0)
    n = eigenvalues.size
    k = min(int(k), int(np.count_nonzero(eigenvalues > 0)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    table = _log_elementary_symmetric(eigenvalues, k)
    with np.errstate(divide="ignore"):
        log_values = np.log(eigenvalues)
    selected: list[int] = []
    remaining = k
    for m in range(n, 0, -1):
        if remaining == 0:
            break
        if remaining == m:
            selected.extend(range(m - 1, -1, -1))
            break
        log_probability = log_values[m - 1] + table[remaining - 1, m - 1] - table[remaining, m]
        if random_state.random() < np.exp(log_probability):
            selected.append(m - 1)
            remaining -= 1
    basis = eigenvectors[:, selected]
    # Chain rule on the projection kernel K = V Vᵀ via an incremental Cholesky factor.
    norms = np.sum(basis**2, axis=1)
    factors = np.zeros((n, k))
    items = np.zeros(k, dtype=np.int64)
    for step in range(k):
        probabilities = np.maximum(norms, 0.0)
        probabilities /= probabilities.sum()
        item = int(random_state.choice(n, p=probabilities))
        items[step] = item
        column = basis @ basis[item] - factors[:, :step] @ factors[item, :step]
        factors[:, step] = column / np.sqrt(norms[item])
        norms = norms - factors[:, step] ** 2
        norms[item] = 0.0
    return np.sort(items)


def k_dpp_marginals(kernel: np.ndarray, k: int) -> np.ndarray:
    """Exact inclusion probabilities of a k-DPP by enumerating all k-subsets (small n only)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    n = kernel.shape[0]
    marginals = np.zeros(n)
    total = 0.0
    for subset in combinations(range(n), k):
        weight = max(np.linalg.det(kernel[np.ix_(subset, subset)]), 0.0)
        total += weight
        marginals[list(subset)] += weight
    return marginals / total
