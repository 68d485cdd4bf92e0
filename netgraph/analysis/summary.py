"""Graph summarization: supernodes per layer and the summary graph between them.

Each group's units are grouped into supernodes by weighted k-means on their connectivity
profile (units feeding and fed alike end together); output layers keep one supernode per
unit. The summary graph sums the edge weights between supernodes (a quotient graph), and
the reconstruction error is ``‖A − Â‖_F / ‖A‖_F`` where ``Â`` puts on every edge the mean
weight of its supernode pair, the usual error of a graph summary. Everything stays sparse
(``Zᵀ A Z``), so whole models with 10⁵ units summarise in seconds; ``to_networkx`` builds
the summary as a networkx graph when wanted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from netgraph.algorithms.random_state import as_generator, seed_from
from netgraph.algorithms.spectral import normalise_rows
from netgraph.analysis._graph_views import (
    PROFILE_DIMENSION,
    block_sums,
    layer_names,
    layer_rows,
    layer_slices,
    reduce_rows,
)
from netgraph.errors import InvalidParameterError

__all__ = ["GraphSummary", "summarize_graph"]

_OWNER = "summarize_graph"


@dataclass
class GraphSummary:
    """Supernodes and the summary graph.

    Attributes
    ----------
    node_ids : list of NeuronId
    supernode_of : ndarray of int
        Supernode of each node (index into ``supernodes``).
    supernodes : list of (layer, index)
        Supernode names; supernodes of one layer are contiguous.
    adjacency : scipy.sparse.csr_array
        Summed edge weights between supernodes (directed).
    reconstruction_error : float
        ``‖A − Â‖_F / ‖A‖_F`` with ``Â`` the supernode-pair mean weights.
    """

    node_ids: list
    supernode_of: np.ndarray
    supernodes: list[tuple[str, int]]
    adjacency: sp.csr_array
    reconstruction_error: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_supernodes(self) -> int:
        return len(self.supernodes)

    def members(self, supernode: int) -> list:
        return [self.node_ids[i] for i in np.flatnonzero(self.supernode_of == supernode)]

    def to_networkx(self):
        """``networkx.DiGraph``: supernodes (attributes ``layer``, ``size``), ``weight`` = summed weights."""
        import networkx as nx

        summary = nx.DiGraph()
        sizes = np.bincount(self.supernode_of, minlength=self.n_supernodes)
        for position, (layer, index) in enumerate(self.supernodes):
            summary.add_node((layer, index), layer=layer, size=int(sizes[position]))
        coo = self.adjacency.tocoo()
        summary.add_weighted_edges_from(
            (self.supernodes[i], self.supernodes[j], float(w)) for i, j, w in zip(coo.row, coo.col, coo.data)
        )
        return summary

    def to_dict(self) -> dict[str, Any]:
        sizes = np.bincount(self.supernode_of, minlength=self.n_supernodes)
        per_layer: dict[str, int] = {}
        for layer, _ in self.supernodes:
            per_layer[layer] = per_layer.get(layer, 0) + 1
        coo = self.adjacency.tocoo()
        return {
            "n_nodes": len(self.node_ids),
            "n_supernodes": self.n_supernodes,
            "supernodes_per_layer": per_layer,
            "supernode_sizes": sizes.tolist(),
            "reconstruction_error": self.reconstruction_error,
            "n_summary_edges": int(self.adjacency.nnz),
            "edges": [[int(i), int(j), float(w)] for i, j, w in zip(coo.row, coo.col, coo.data)]
            if self.adjacency.nnz <= 100_000
            else None,
            "info": self.info,
        }


def _cluster(points: np.ndarray, weights: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if n_clusters >= points.shape[0]:
        return np.arange(points.shape[0])
    sample_weight = weights**2 + 1e-12 * (float(np.mean(weights**2)) or 1.0)
    if points.shape[0] > 5000:
        model = MiniBatchKMeans(n_clusters, batch_size=4096, n_init=1, random_state=seed)
    else:
        model = KMeans(n_clusters, n_init=2, random_state=seed)
    labels = model.fit_predict(points, sample_weight=sample_weight)
    _, labels = np.unique(labels, return_inverse=True)
    return labels


def summarize_graph(
    graph,
    *,
    keep: float = 0.25,
    n_supernodes: int | dict[str, int] | None = None,
    profile: str = "auto",
    random_state=None,
) -> GraphSummary:
    """Summarise a neuron graph into supernodes.

    Parameters
    ----------
    graph : NeuronGraph
    keep : float in (0, 1]
        Supernodes per group as a fraction of its units (ignored where ``n_supernodes``
        gives a number).
    n_supernodes : int or {group: int}, optional
        Supernodes per group (all groups, or per name).
    profile : {"auto", "weights", "edges"}
        ``"weights"``: signed incoming/outgoing rows of each group (as the ``summarize``
        selection method uses); ``"edges"``: the adjacency's edge magnitudes, sparse and
        low-dimensional; ``"auto"``: weights for groups up to 4,096 units, edges beyond.
    """
    if not isinstance(keep, (int, float)) or isinstance(keep, bool) or not 0 < keep <= 1:
        raise InvalidParameterError.expected("keep", _OWNER, "a float in (0, 1]", keep)
    if profile not in ("auto", "weights", "edges"):
        raise InvalidParameterError.expected("profile", _OWNER, "one of 'auto', 'weights', 'edges'", profile)
    if n_supernodes is not None and not isinstance(n_supernodes, dict):
        if not isinstance(n_supernodes, (int, np.integer)) or isinstance(n_supernodes, bool) or n_supernodes < 1:
            raise InvalidParameterError.expected("n_supernodes", _OWNER, "None, a positive integer or a dict", n_supernodes)
    generator = as_generator(random_state)
    adjacency = sp.csr_array(graph.adjacency, dtype=np.float64)
    slices = layer_slices(graph)
    groups = set(graph.group_names)
    supernode_of = np.empty(adjacency.shape[0], dtype=np.int64)
    supernodes: list[tuple[str, int]] = []
    for name in layer_names(graph):
        nodes = slices[name]
        size = nodes.stop - nodes.start
        if name not in groups:
            count, labels = size, np.arange(size)
        else:
            if isinstance(n_supernodes, dict):
                count = n_supernodes.get(name, max(1, round(keep * size)))
            elif n_supernodes is not None:
                count = n_supernodes
            else:
                count = max(1, round(keep * size))
            count = int(min(count, size))
            use_weights = profile == "weights" or (profile == "auto" and size <= 4096 and hasattr(graph, "incoming"))
            if use_weights:
                incoming = np.asarray(graph.incoming(name), dtype=np.float64)
                outgoing = np.asarray(graph.outgoing(name), dtype=np.float64)
                points = normalise_rows(incoming)
                weights = np.linalg.norm(incoming, axis=1) * np.linalg.norm(outgoing, axis=1)
            else:
                rows, weights = layer_rows(adjacency, nodes)
                # Cosine geometry in a few SVD coordinates: k-means on sparse rows is slow.
                scale = np.divide(1.0, weights, out=np.zeros_like(weights), where=weights > 0)
                with threadpool_limits(1):
                    # Small dense factorisations: BLAS threads cost more than they save.
                    points = normalise_rows(
                        reduce_rows(sp.csr_array(sp.diags(scale) @ rows), PROFILE_DIMENSION, seed_from(generator))
                    )
            with threadpool_limits(1):
                labels = _cluster(points, weights, count, seed_from(generator))
            count = int(labels.max()) + 1
        supernode_of[nodes] = len(supernodes) + labels
        supernodes.extend((name, k) for k in range(count))
    n_super = len(supernodes)
    # Sparse throughout: a whole model has tens of thousands of supernodes.
    summary, squares = block_sums(adjacency, supernode_of, n_super, dense=False)
    summary.eliminate_zeros()
    sizes = np.bincount(supernode_of, minlength=n_super).astype(np.float64)
    coo = summary.tocoo()
    residual = float(squares.sum()) - float(np.sum(coo.data**2 / (sizes[coo.row] * sizes[coo.col])))
    total = float(adjacency.multiply(adjacency).sum())
    error = float(np.sqrt(max(residual, 0.0) / total)) if total > 0 else 0.0
    return GraphSummary(list(graph.node_ids), supernode_of, supernodes, summary, error, {"keep": keep, "profile": profile})
