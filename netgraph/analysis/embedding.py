"""Unit embeddings: coordinates in which units that connect alike sit close together.

- ``"ase"``: adjacency spectral embedding. One group: the bipartite graph of its units vs.
  their inputs and outputs with ``|weights|`` (its ASE is the SVD of the biadjacency,
  ``U √Σ``). Whole model: the directed adjacency, out- and in-coordinates side by side
  (``[U √Σ | V √Σ]``, as graspologic returns for directed graphs), by sparse SVD.
- ``"lse"``: the same on the degree-normalised matrix ``D_out^{-1/2} A D_in^{-1/2}``.
- ``"node2vec"``: node2vec coordinates (``netgraph.algorithms.node2vec``) of the
  (bipartite or whole) graph taken as undirected.

``n_components=None`` picks the dimension at the first Zhu–Ghodsi elbow of the singular
values (``netgraph.algorithms.spectral.zhu_ghodsi_elbows``, the same elbow as graspologic's
``select_dimension``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from netgraph.algorithms.node2vec import node2vec_coordinates
from netgraph.algorithms.random_state import as_generator, seed_from
from netgraph.algorithms.spectral import degree_normalised, zhu_ghodsi_elbows
from netgraph.analysis._graph_views import check_group, layer_slices
from netgraph.errors import InvalidParameterError

__all__ = ["UnitEmbedding", "embed_units"]

_OWNER = "embed_units"
_METHODS = ("ase", "lse", "node2vec")
# Singular values computed before the elbow is chosen on a whole-model graph.
_MAX_SPARSE_COMPONENTS = 32


@dataclass
class UnitEmbedding:
    """Coordinates of units, one row per ``node_ids`` entry."""

    node_ids: list
    coordinates: np.ndarray
    method: str
    singular_values: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_components(self) -> int:
        return int(self.coordinates.shape[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_components": self.n_components,
            "node_ids": [[node.group, int(node.index)] for node in self.node_ids],
            "coordinates": self.coordinates.tolist(),
            "singular_values": None if self.singular_values is None else self.singular_values.tolist(),
            "info": self.info,
        }


def _elbow(singular_values: np.ndarray) -> int:
    if singular_values.size < 3:
        return int(singular_values.size)
    return int(max(1, zhu_ghodsi_elbows(singular_values, 1)[0]))


def _node2vec(graph_edges: sp.coo_array, n_nodes: int, rows: np.ndarray, n_components: int | None, seed: int):
    adjacency = sp.csr_array((graph_edges.data, (graph_edges.row, graph_edges.col)), shape=(n_nodes, n_nodes))
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    return node2vec_coordinates(adjacency, n_components or 16, random_state=seed)[rows]


def embed_units(
    graph, group: str | None = None, *, n_components: int | None = None, method: str = "ase", random_state=None
) -> UnitEmbedding:
    """Embed one group's units (or every node) of a neuron graph.

    Examples
    --------
    >>> embedding = embed_units(graph, "fc1", n_components=4)  # doctest: +SKIP
    >>> embedding.coordinates.shape  # doctest: +SKIP
    (300, 4)
    """
    check_group(graph, group, _OWNER)
    if method not in _METHODS:
        raise InvalidParameterError.expected("method", _OWNER, f"one of {', '.join(map(repr, _METHODS))}", method)
    if n_components is not None and (
        not isinstance(n_components, (int, np.integer)) or isinstance(n_components, bool) or n_components < 1
    ):
        raise InvalidParameterError.expected("n_components", _OWNER, "None or a positive integer", n_components)
    generator = as_generator(random_state)
    if group is not None:
        node_ids = list(graph.node_ids[layer_slices(graph)[group]])
        biadjacency = np.abs(np.hstack([graph.incoming(group), graph.outgoing(group)])).astype(np.float64)
        if method == "node2vec":
            n_units = biadjacency.shape[0]
            square = sp.bmat([[None, sp.coo_array(biadjacency)], [sp.coo_array(biadjacency.T), None]]).tocoo()
            coordinates = _node2vec(square, square.shape[0], np.arange(n_units), n_components, seed_from(generator))
            return UnitEmbedding(node_ids, coordinates, method)
        if method == "lse":
            biadjacency = degree_normalised(biadjacency, biadjacency.sum(axis=1), biadjacency.sum(axis=0))
        u, singular, _ = np.linalg.svd(biadjacency, full_matrices=False)
        dimension = min(n_components or _elbow(singular), singular.size)
        return UnitEmbedding(node_ids, u[:, :dimension] * np.sqrt(singular[:dimension]), method, singular)

    adjacency = sp.csr_array(abs(sp.csr_array(graph.adjacency)), dtype=np.float64)
    n = adjacency.shape[0]
    node_ids = list(graph.node_ids)
    if method == "node2vec":
        symmetric = (adjacency + adjacency.T).tocoo()
        return UnitEmbedding(node_ids, _node2vec(symmetric, n, np.arange(n), n_components, seed_from(generator)), method)
    if method == "lse":
        adjacency = degree_normalised(
            adjacency, np.asarray(adjacency.sum(axis=1)).ravel(), np.asarray(adjacency.sum(axis=0)).ravel()
        )
    from scipy.sparse.linalg import svds

    k = min(n_components or _MAX_SPARSE_COMPONENTS, n - 1)
    start = as_generator(seed_from(generator)).normal(size=n)
    u, singular, vt = svds(adjacency, k=k, v0=start)
    order = np.argsort(-singular)
    u, singular, vt = u[:, order], singular[order], vt[order]
    dimension = n_components or _elbow(singular)
    scale = np.sqrt(singular[:dimension])
    coordinates = np.hstack([u[:, :dimension] * scale, vt[:dimension].T * scale])
    return UnitEmbedding(node_ids, coordinates, method, singular, {"directed": True})
