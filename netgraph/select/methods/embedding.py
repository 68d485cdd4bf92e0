"""Embedding selection: embed the units, cluster into ``n_keep`` clusters, keep one per cluster.

Embeddings (parameter ``embedding``):

- ``"ase"`` (default): adjacency spectral embedding of the bipartite graph of units vs.
  their inputs, with the *signed* incoming weights of the unit directions (ReLU units
  merge when their incoming directions agree, which ``|w|`` cannot tell apart), or of the
  activation-correlation graph when statistics are given;
- ``"lse"``: Laplacian spectral embedding of the bipartite graph of units vs. their
  inputs and outputs with ``|weights|``;
- ``"node2vec"``: graspologic's node2vec on that ``|weights|`` bipartite graph (slow:
  meant for small groups and for comparison).

Rows are normalised (direction on the sphere), clustered by k-means with sample weights
``w²`` (the merge cost, see ``_unit_profiles``); the unit nearest each weighted centre is
kept and the others merge into their nearest kept unit.
"""

from __future__ import annotations

import numpy as np

from netgraph.select.base import Selection, SelectionContext, register_method
from netgraph.select.methods._representatives import seed_from, weighted_kmedoids
from netgraph.select.methods._unit_profiles import (
    _normalise_rows,
    is_positive_int,
    merge_error,
    one_of,
    read_params,
    source_spec,
    unit_profile,
)

__all__ = ["select_embedding", "spectral_coordinates"]

_OWNER = "the 'embedding' method"
_MAX_COMPONENTS = 128
_ENERGY = 0.95


def spectral_coordinates(matrix: np.ndarray, n_components: int | None) -> np.ndarray:
    """Left singular vectors scaled by sqrt(singular values) (ASE of a bipartite graph).

    With ``n_components=None`` the dimension is the smallest that keeps 95 % of the
    squared singular values (at most 128).
    """
    u, singular, _ = np.linalg.svd(matrix, full_matrices=False)
    if n_components is None:
        energy = np.cumsum(singular**2) / max(float(np.sum(singular**2)), 1e-300)
        n_components = int(np.searchsorted(energy, _ENERGY) + 1)
        n_components = max(2, min(n_components, _MAX_COMPONENTS))
    n_components = min(n_components, singular.size)
    return u[:, :n_components] * np.sqrt(singular[:n_components])


def _laplacian_coordinates(biadjacency: np.ndarray, n_components: int | None) -> np.ndarray:
    # Normalised biadjacency D_r^{-1/2} B D_c^{-1/2}: its SVD is the bipartite LSE.
    row = biadjacency.sum(axis=1)
    column = biadjacency.sum(axis=0)
    row_scale = np.where(row > 0, 1.0 / np.sqrt(np.where(row > 0, row, 1.0)), 0.0)
    column_scale = np.where(column > 0, 1.0 / np.sqrt(np.where(column > 0, column, 1.0)), 0.0)
    return spectral_coordinates(row_scale[:, None] * biadjacency * column_scale[None, :], n_components)


def _node2vec_coordinates(biadjacency: np.ndarray, n_components: int | None, seed: int) -> np.ndarray:
    import networkx as nx
    from graspologic.embed import node2vec_embed

    n_units = biadjacency.shape[0]
    graph = nx.Graph()
    graph.add_nodes_from(range(n_units + biadjacency.shape[1]))
    rows, columns = np.nonzero(biadjacency)
    graph.add_weighted_edges_from(
        (int(r), int(n_units + c), float(biadjacency[r, c])) for r, c in zip(rows, columns)
    )
    embedding, labels = node2vec_embed(
        graph,
        dimensions=n_components or 16,
        num_walks=10,
        walk_length=20,
        window_size=5,
        workers=1,
        random_seed=seed,
    )
    coordinates = np.zeros((n_units, embedding.shape[1]))
    for vector, label in zip(embedding, labels):
        if int(label) < n_units:
            coordinates[int(label)] = vector
    return coordinates


@register_method("embedding")
def select_embedding(context: SelectionContext) -> Selection:
    """Cluster spectral (or node2vec) unit embeddings into ``n_keep`` clusters."""
    embedding_check, embedding_constraint = one_of("ase", "lse", "node2vec")
    params = read_params(
        context,
        _OWNER,
        {
            "source": source_spec(),
            "embedding": ("ase", embedding_check, embedding_constraint),
            "n_components": (None, lambda v: v is None or is_positive_int(v), "None or a positive integer"),
        },
    )
    profile = unit_profile(context, params["source"], _OWNER)
    method, n_components = params["embedding"], params["n_components"]
    if method == "ase":
        coordinates = spectral_coordinates(profile.directions, n_components)
    else:
        biadjacency = np.abs(np.hstack([context.incoming, context.outgoing])).astype(np.float64)
        if method == "lse":
            coordinates = _laplacian_coordinates(biadjacency, n_components)
        else:
            coordinates = _node2vec_coordinates(biadjacency, n_components, seed_from(context.random_state))
    points = _normalise_rows(coordinates)
    kept, assignment = weighted_kmedoids(points, profile.weights, context.n_keep, context.random_state, max_iter=1)
    return Selection.from_assignment(
        assignment,
        info={
            "source": profile.source,
            "embedding": method,
            "n_components": int(coordinates.shape[1]),
            "merge_error": merge_error(profile, assignment),
        },
    )
