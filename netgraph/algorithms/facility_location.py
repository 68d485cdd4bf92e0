"""Facility location: pick k exemplars that best cover every item.

``f(S) = Σ_i max_{j∈S} sim(i, j)`` with non-negative ``sim`` is monotone submodular, so the
greedy algorithm reaches at least ``(1 − 1/e)`` of the optimum (Nemhauser et al. 1978).
The lazy variant (Minoux 1978) keeps stale marginal gains in a priority queue: by
submodularity a stale gain is an upper bound, so most items are never re-evaluated.
"""

from __future__ import annotations

import heapq

import numpy as np

__all__ = ["lazy_greedy_facility_location", "greedy_facility_location", "facility_location_value"]


def facility_location_value(similarity: np.ndarray, subset) -> float:
    """``Σ_i max_{j ∈ subset} similarity[i, j]`` (0 for the empty set)."""
    subset = np.asarray(list(subset), dtype=np.int64)
    if subset.size == 0:
        return 0.0
    return float(np.asarray(similarity)[:, subset].max(axis=1).sum())


def _check(similarity: np.ndarray) -> np.ndarray:
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.ndim != 2 or similarity.shape[0] != similarity.shape[1]:
        raise ValueError(f"similarity must be square, got shape {similarity.shape}.")
    if (similarity < 0).any():
        raise ValueError("facility location needs a non-negative similarity.")
    return similarity


def lazy_greedy_facility_location(similarity: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Lazy greedy maximisation of facility location.

    Parameters
    ----------
    similarity : ndarray, shape (n, n), non-negative
        ``similarity[i, j]``: how well exemplar j represents item i.
    k : int
        Number of exemplars.

    Returns
    -------
    picks : ndarray of int, shape (k,)
        Exemplars in the order they were chosen (ties go to the lower index, exactly as
        :func:`greedy_facility_location`).
    gains : ndarray of float, shape (k,)
        Marginal gain of each pick; their sum is ``f(picks)``.

    Examples
    --------
    >>> sim = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> lazy_greedy_facility_location(sim, 2)[0].tolist()
    [0, 2]
    """
    similarity = _check(similarity)
    n = similarity.shape[0]
    k = min(int(k), n)
    coverage = np.zeros(n)
    # Heap of (-upper bound on gain, index, step at which the bound was computed).
    heap = [(-float(value), j, 0) for j, value in enumerate(similarity.sum(axis=0))]
    heapq.heapify(heap)
    picks: list[int] = []
    gains: list[float] = []
    while len(picks) < k and heap:
        negative_bound, j, fresh_at = heapq.heappop(heap)
        if fresh_at == len(picks):
            picks.append(j)
            gains.append(-negative_bound)
            coverage = np.maximum(coverage, similarity[:, j])
            continue
        gain = float(np.maximum(similarity[:, j] - coverage, 0.0).sum())
        heapq.heappush(heap, (-gain, j, len(picks)))
    return np.asarray(picks, dtype=np.int64), np.asarray(gains)


def greedy_facility_location(similarity: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain greedy (re-evaluates every gain each step); reference for tests, O(n² k)."""
    similarity = _check(similarity)
    n = similarity.shape[0]
    k = min(int(k), n)
    coverage = np.zeros(n)
    available = np.ones(n, dtype=bool)
    picks, gains = [], []
    for _ in range(k):
        all_gains = np.maximum(similarity - coverage[:, None], 0.0).sum(axis=0)
        all_gains[~available] = -np.inf
        j = int(np.argmax(all_gains))
        picks.append(j)
        gains.append(float(all_gains[j]))
        available[j] = False
        coverage = np.maximum(coverage, similarity[:, j])
    return np.asarray(picks, dtype=np.int64), np.asarray(gains)
