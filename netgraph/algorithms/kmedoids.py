"""Weighted k-medoids on unit directions: k representatives, everyone merged into the nearest.

The cost of merging unit p into representative k is ``w_p² ‖u_p − u_k‖²``, and for a
cluster the member minimising the summed cost is the one nearest the *weighted* centroid,
so a k-means solution (with sample weights ``w²``) followed by Voronoi iteration
(reassign to nearest representative, re-pick the nearest-to-centroid member) gives
representatives that are real units and a cost that never increases.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import scipy.sparse as sp

from netgraph.algorithms.random_state import seed_from

__all__ = ["weighted_kmedoids", "top_up", "LARGE_WORK"]

# Above this many point × cluster pairs (ViT-B's FFN at keep 0.5: 3,072 × 1,536 = 4.7 M;
# MiniLM's: 1.2 M; LeNet's: 45 k) the clustering takes its fast path: one restart seeded by
# plain weighted k-means++ (one candidate per centre instead of 2 + log k) and vectorised
# medoid updates. Below it, results are exactly those of scikit-learn's KMeans seeding.
LARGE_WORK = 2_000_000


def _squared_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distances = np.sum(points**2, axis=1)[:, None] - 2 * points @ centres.T + np.sum(centres**2, axis=1)[None, :]
    return np.maximum(distances, 0.0)


def _kmeans_plusplus(sample_weight: np.ndarray) -> Callable:
    """scikit-learn's weighted k-means++ seeding, draw for draw, without its per-call overhead.

    ``KMeans(init="k-means++")`` spends most of its time validating the inputs of one
    small distance computation per centre (0.8 s of 1 s for 150 centres × 10 restarts on
    300 units); this callable makes the same random draws and the same float64 arithmetic
    (``-2 X·Yᵀ + ‖X‖² + ‖Y‖²``, clipped at 0), so KMeans returns the same clustering.
    """

    def init(points: np.ndarray, n_clusters: int, random_state: np.random.RandomState) -> np.ndarray:
        n_samples = points.shape[0]
        squared_norms = np.einsum("ij,ij->i", points, points)
        weight = np.asarray(sample_weight, dtype=points.dtype)
        n_local_trials = 2 + int(np.log(n_clusters))

        def distances(rows: np.ndarray) -> np.ndarray:
            result = -2 * (rows @ points.T)
            result += np.einsum("ij,ij->i", rows, rows)[:, None]
            result += squared_norms[None, :]
            return np.maximum(result, 0, out=result)

        centres = np.empty((n_clusters, points.shape[1]), dtype=points.dtype)
        centre = random_state.choice(n_samples, p=weight / weight.sum())
        centres[0] = points[centre]
        closest = distances(centres[0, np.newaxis])
        potential = closest @ weight
        for c in range(1, n_clusters):
            draws = random_state.uniform(size=n_local_trials) * potential
            candidates = np.searchsorted(np.cumsum(weight * closest), draws)
            np.clip(candidates, None, closest.size - 1, out=candidates)
            to_candidates = distances(points[candidates])
            np.minimum(closest, to_candidates, out=to_candidates)
            candidate_potentials = to_candidates @ weight.reshape(-1, 1)
            best = np.argmin(candidate_potentials)
            potential = candidate_potentials[best]
            closest = to_candidates[best]
            centres[c] = points[candidates[best]]
        return centres

    return init


def _plain_kmeans_plusplus(sample_weight: np.ndarray) -> Callable:
    """Weighted k-means++ with one candidate per centre (Arthur & Vassilvitskii 2007): each
    step costs one distance row, O(n·d), so seeding k centres is O(k·n·d)."""

    def init(points: np.ndarray, n_clusters: int, random_state: np.random.RandomState) -> np.ndarray:
        weight = np.asarray(sample_weight, dtype=points.dtype)
        squared_norms = np.einsum("ij,ij->i", points, points)
        chosen = np.empty(n_clusters, dtype=np.int64)
        chosen[0] = random_state.choice(points.shape[0], p=weight / weight.sum())
        closest = np.maximum(squared_norms + squared_norms[chosen[0]] - 2 * points @ points[chosen[0]], 0)
        for c in range(1, n_clusters):
            cumulative = np.cumsum(weight * closest)
            pick = min(int(np.searchsorted(cumulative, random_state.uniform() * cumulative[-1])), points.shape[0] - 1)
            chosen[c] = pick
            np.minimum(closest, np.maximum(squared_norms + squared_norms[pick] - 2 * points @ points[pick], 0), out=closest)
        return points[chosen].copy()

    return init


def _medoids(points: np.ndarray, sample_weight: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For every label, the member nearest the members' weighted centroid (all at once)."""
    _, inverse = np.unique(labels, return_inverse=True)
    n_labels = int(inverse.max()) + 1
    membership = sp.csr_array((sample_weight, (inverse, np.arange(labels.size))), shape=(n_labels, labels.size))
    centroids = (membership @ points) / np.bincount(inverse, weights=sample_weight)[:, None]
    distance = np.sum((points - centroids[inverse]) ** 2, axis=1)
    order = np.lexsort((np.arange(labels.size), distance, inverse))
    firsts = np.r_[0, np.flatnonzero(np.diff(inverse[order])) + 1]
    return order[firsts].astype(np.int64)


def _medoid(points: np.ndarray, sample_weight: np.ndarray, members: np.ndarray) -> int:
    weight = sample_weight[members]
    total = weight.sum()
    centroid = (weight @ points[members]) / total if total > 0 else points[members].mean(axis=0)
    return int(members[np.argmin(np.sum((points[members] - centroid) ** 2, axis=1))])


def weighted_kmedoids(
    points: np.ndarray,
    weights: np.ndarray,
    n_clusters: int,
    random_state: np.random.Generator,
    *,
    n_init: int = 3,
    max_iter: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """Representatives (sorted unit indices) and each point's representative.

    Exactly ``min(n_clusters, n_points)`` representatives are returned, even when fewer
    distinct points exist (extra representatives are then duplicates of others).
    """
    from sklearn.cluster import KMeans

    n = points.shape[0]
    n_clusters = min(int(n_clusters), n)
    sample_weight = np.asarray(weights, dtype=np.float64) ** 2
    # A small floor keeps zero-weight units from being ignored altogether.
    sample_weight = sample_weight + 1e-6 * (float(sample_weight.mean()) or 1.0)
    if n_clusters == n:
        everything = np.arange(n)
        return everything, everything.copy()
    large = n * n_clusters > LARGE_WORK
    seeding = _plain_kmeans_plusplus(sample_weight) if large else _kmeans_plusplus(sample_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer distinct points than clusters
        kmeans = KMeans(
            n_clusters, init=seeding, n_init=1 if large else n_init, max_iter=100,
            random_state=seed_from(random_state),
        )
        labels = kmeans.fit_predict(points, sample_weight=sample_weight)

    def medoids(labels: np.ndarray) -> np.ndarray:
        if large:
            return _medoids(points, sample_weight, labels)
        return np.array(
            [_medoid(points, sample_weight, np.flatnonzero(labels == label)) for label in np.unique(labels)],
            dtype=np.int64,
        )

    representatives = medoids(labels)
    assignment = representatives[np.argmin(_squared_distances(points, points[representatives]), axis=1)]
    for _ in range(max_iter):
        assignment[representatives] = representatives
        updated = np.unique(medoids(assignment))
        new_assignment = updated[np.argmin(_squared_distances(points, points[updated]), axis=1)]
        new_assignment[updated] = updated
        if np.array_equal(updated, np.sort(representatives)) and np.array_equal(new_assignment, assignment):
            break
        representatives, assignment = updated, new_assignment
    representatives = np.sort(representatives)
    assignment[representatives] = representatives
    return top_up(points, sample_weight, representatives, assignment, n_clusters)


def top_up(
    points: np.ndarray, sample_weight: np.ndarray, representatives: np.ndarray, assignment: np.ndarray, n_keep: int
) -> tuple[np.ndarray, np.ndarray]:
    """Promote the costliest merged units until exactly ``n_keep`` representatives exist."""
    representatives = np.asarray(representatives, dtype=np.int64)
    assignment = assignment.copy()
    while representatives.size < n_keep:
        cost = sample_weight * np.sum((points - points[assignment]) ** 2, axis=1)
        cost[representatives] = -np.inf
        # Ties (duplicates, cost 0) resolve to the heaviest unit.
        order = np.lexsort((-sample_weight, -cost))
        promoted = int(order[0])
        representatives = np.sort(np.append(representatives, promoted))
        closer = np.sum((points - points[promoted]) ** 2, axis=1) < np.sum((points - points[assignment]) ** 2, axis=1)
        assignment[closer] = promoted
        assignment[representatives] = representatives
    return representatives, assignment
