"""Embedding selection: embed the units, cluster into ``n_keep`` clusters, keep one per cluster.

Embeddings (parameter ``embedding``):

- ``"ase"`` (default): adjacency spectral embedding of the bipartite graph of units vs.
  their inputs, with the *signed* incoming weights of the unit directions (ReLU units
  merge when their incoming directions agree, which ``|w|`` cannot tell apart), or of the
  activation-correlation graph when statistics are given;
- ``"lse"``: Laplacian spectral embedding of the bipartite graph of units vs. their
  inputs and outputs with ``|weights|``;
- ``"node2vec"``: node2vec coordinates (``netgraph.algorithms.node2vec``: weighted random
  walks and an SVD of their PMI) of that ``|weights|`` bipartite graph.

Rows are normalised (direction on the sphere), clustered by k-means with sample weights
``w²`` (the merge cost, see ``netgraph.select.profiles``); the unit nearest each weighted
centre is kept and the others merge into their nearest kept unit.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from netgraph.algorithms.kmedoids import weighted_kmedoids
from netgraph.algorithms.node2vec import node2vec_coordinates
from netgraph.algorithms.random_state import seed_from
from netgraph.algorithms.spectral import laplacian_coordinates, normalise_rows, spectral_coordinates
from netgraph.select.base import Selection, SelectionContext, register_method
from netgraph.select.params import SOURCE, choice, optional_positive_int
from netgraph.select.profiles import merge_error, unit_profile

__all__ = ["select_embedding"]

_OWNER = "the 'embedding' method"


def _node2vec_coordinates(biadjacency: np.ndarray, n_components: int | None, seed: int) -> np.ndarray:
    """node2vec on the undirected bipartite graph of units and their inputs and outputs."""
    n_units = biadjacency.shape[0]
    square = sp.bmat([[None, sp.csr_array(biadjacency)], [sp.csr_array(biadjacency.T), None]], format="csr")
    return node2vec_coordinates(square, n_components or 16, random_state=seed)[:n_units]


@register_method(
    "embedding",
    params=[
        SOURCE,
        choice("embedding", "ase", ("ase", "lse", "node2vec"), "Adjacency or Laplacian spectral embedding, or node2vec."),
        optional_positive_int("n_components", None, "Embedding dimension (None: 95 % of the spectrum)."),
    ],
)
def select_embedding(context: SelectionContext) -> Selection:
    """Cluster spectral (or node2vec) unit embeddings into ``n_keep`` clusters."""
    params = context.params
    profile = unit_profile(context, params["source"], _OWNER)
    method, n_components = params["embedding"], params["n_components"]
    if method == "ase":
        coordinates = spectral_coordinates(profile.directions, n_components)
    else:
        biadjacency = np.abs(np.hstack([context.incoming, context.outgoing])).astype(np.float64)
        if method == "lse":
            coordinates = laplacian_coordinates(biadjacency, n_components)
        else:
            coordinates = _node2vec_coordinates(biadjacency, n_components, seed_from(context.random_state))
    points = normalise_rows(coordinates, relative_floor=1e-12)
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
