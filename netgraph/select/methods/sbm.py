"""Stochastic-block-model selection: merge units that are stochastically equivalent.

Units of one block connect to the rest of the network the same way (same incoming
direction data-free, correlated activations with data, see ``netgraph.select.profiles``), so
merging inside a block loses little. Blocks come from a Gaussian mixture whose number of
components is chosen by BIC (at most ``min(max_blocks, n_keep)``), or from Leiden on a
sparse kNN similarity graph. The budget ``n_keep`` is shared across blocks in proportion
to weighted size × spread (at least one each), and inside a block weighted k-medoids
picks the representatives that the other members merge into.
"""

from __future__ import annotations

import numpy as np

from netgraph.algorithms.blocks import gaussian_blocks
from netgraph.algorithms.kmedoids import weighted_kmedoids
from netgraph.algorithms.random_state import seed_from
from netgraph.algorithms.similarity_graph import knn_similarity_graph, leiden_communities
from netgraph.algorithms.spectral import project
from netgraph.select.base import Selection, SelectionContext, register_method
from netgraph.select.params import SOURCE, choice, positive_int, positive_number
from netgraph.select.profiles import merge_error, unit_profile

__all__ = ["select_sbm", "allocate_budget"]

_OWNER = "the 'sbm' method"


def allocate_budget(sizes: np.ndarray, spreads: np.ndarray, budget: int) -> np.ndarray:
    """Share ``budget`` among blocks ∝ size × spread, at least 1 and at most the size each."""
    sizes = np.asarray(sizes, dtype=np.int64)
    quota = np.ones(sizes.size, dtype=np.int64)
    extra = budget - int(quota.sum())
    demand = np.asarray(sizes, dtype=np.float64) * np.asarray(spreads, dtype=np.float64)
    while extra > 0:
        room = sizes - quota
        open_blocks = room > 0
        if not open_blocks.any():
            break
        weights = np.where(open_blocks, demand, 0.0)
        if weights.sum() <= 0:
            weights = open_blocks.astype(float) * room
        share = extra * weights / weights.sum()
        grant = np.minimum(np.floor(share).astype(np.int64), room)
        if grant.sum() == 0:
            # Largest remainder: one more unit to the block with the largest share.
            grant[int(np.argmax(np.where(open_blocks, share, -np.inf)))] = 1
        quota += grant
        extra -= int(grant.sum())
    return quota


@register_method(
    "sbm",
    params=[
        SOURCE,
        positive_int("max_blocks", 16, "Most blocks the mixture may use (also bounded by n_keep)."),
        choice("algorithm", "gmm", ("gmm", "leiden"), "Gaussian mixture by BIC, or Leiden on a kNN graph."),
        positive_int("n_neighbors", 10, "Neighbours per unit in Leiden's kNN graph."),
        positive_number("resolution", 1.0, "Leiden resolution (higher: more, smaller blocks)."),
    ],
)
def select_sbm(context: SelectionContext) -> Selection:
    """Blocks of stochastically equivalent units; merge within blocks."""
    params = context.params
    profile = unit_profile(context, params["source"], _OWNER)
    points = project(profile.directions)
    n_keep = context.n_keep
    bound = min(params["max_blocks"], n_keep)
    info: dict = {"source": profile.source, "algorithm": params["algorithm"]}
    if params["algorithm"] == "gmm":
        labels, bics = gaussian_blocks(points, bound, context.random_state)
        info["bic"] = bics
    else:
        graph = knn_similarity_graph(points, params["n_neighbors"])
        labels, quality = leiden_communities(
            graph, resolution=params["resolution"], seed=seed_from(context.random_state)
        )
        info["leiden_quality"] = quality
        if labels.max() + 1 > bound:
            # More communities than the budget allows: merge them by their centroids.
            centroids = np.array([points[labels == b].mean(axis=0) for b in range(labels.max() + 1)])
            masses = np.bincount(labels, weights=profile.weights**2 + 1e-12)
            _, block_of = weighted_kmedoids(centroids, np.sqrt(masses), bound, context.random_state)
            _, labels = np.unique(block_of[labels], return_inverse=True)
    n_blocks = int(labels.max()) + 1
    sample_weight = profile.weights**2 + 1e-12
    sizes = np.bincount(labels, minlength=n_blocks)
    spreads = np.zeros(n_blocks)
    for block in range(n_blocks):
        members = labels == block
        centroid = sample_weight[members] @ points[members] / sample_weight[members].sum()
        spreads[block] = np.sqrt(
            sample_weight[members] @ np.sum((points[members] - centroid) ** 2, axis=1) / sample_weight[members].sum()
        )
    quota = allocate_budget(sizes, spreads * np.sqrt(sample_weight.sum() / sizes.sum()), n_keep)
    assignment = np.empty(context.n_units, dtype=np.int64)
    for block in range(n_blocks):
        members = np.flatnonzero(labels == block)
        kept, local = weighted_kmedoids(points[members], profile.weights[members], quota[block], context.random_state)
        assignment[members] = members[local]
    info.update(
        n_blocks=n_blocks,
        block_sizes=sizes.tolist(),
        block_quota=quota.tolist(),
        merge_error=merge_error(profile, assignment),
    )
    return Selection.from_assignment(assignment, info=info)
