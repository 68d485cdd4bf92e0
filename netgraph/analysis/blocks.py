"""Stochastic block structure of a group's units or of a whole model's neuron graph.

Units in one block are stochastically equivalent: they connect to the rest of the network
in the same way, so one of them can stand in for the others. The blocks are found on a
*unit similarity graph* (cosine of connectivity profiles): for one group the dense
similarity of the signed ``[incoming | outgoing]`` rows, blocks from a Gaussian mixture
with BIC-chosen size; for a whole model a sparse kNN similarity graph per layer (profiles
from the edge magnitudes) and Leiden communities, so cost grows with units × neighbours.
The block model is then described with weighted block means (graspologic's
``SBMEstimator`` only takes binary graphs), a Gaussian block log-likelihood and BIC, and
the partition's modularity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from netgraph.algorithms.blocks import gaussian_blocks
from netgraph.algorithms.random_state import as_generator, seed_from
from netgraph.algorithms.similarity_graph import leiden_communities, modularity
from netgraph.algorithms.spectral import project
from netgraph.analysis._graph_views import (
    block_sums,
    check_group,
    gaussian_block_log_likelihood,
    group_profile,
    layer_knn_graph,
    layer_names,
    layer_rows,
    layer_slices,
    pair_counts,
)
from netgraph.errors import InvalidParameterError

__all__ = ["SBMResult", "sbm_blocks"]

_OWNER = "sbm_blocks"


@dataclass
class SBMResult:
    """Blocks of units and the block model that describes them.

    Attributes
    ----------
    node_ids : list of NeuronId
        The units that were partitioned, in the order of ``labels``.
    labels : ndarray of int
        Block of each unit (0..n_blocks-1).
    block_matrix : ndarray, shape (n_blocks, n_blocks)
        Weighted block means of the unit similarity graph (mean similarity of a pair of
        units from blocks a and b; self pairs excluded).
    flow_matrix : ndarray or None
        Weighted block means of the neuron graph's directed edges between blocks (whole
        model only: within one group there are no edges).
    log_likelihood, bic : float
        Gaussian weighted SBM on the similarity graph (mean and variance per block pair).
    modularity : float
        Newman modularity of the partition on the similarity graph.
    """

    node_ids: list
    labels: np.ndarray
    block_matrix: np.ndarray
    flow_matrix: np.ndarray | None
    log_likelihood: float
    bic: float
    modularity: float
    method: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_blocks(self) -> int:
        return int(self.labels.max()) + 1 if self.labels.size else 0

    @property
    def block_sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.n_blocks)

    def blocks(self) -> list[list]:
        """The NeuronIds of each block."""
        members: list[list] = [[] for _ in range(self.n_blocks)]
        for node, label in zip(self.node_ids, self.labels):
            members[label].append(node)
        return members

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_blocks": self.n_blocks,
            "block_sizes": self.block_sizes.tolist(),
            "labels": [[node.group, int(node.index), int(label)] for node, label in zip(self.node_ids, self.labels)],
            "block_matrix": self.block_matrix.tolist(),
            "flow_matrix": None if self.flow_matrix is None else self.flow_matrix.tolist(),
            "log_likelihood": self.log_likelihood,
            "bic": self.bic,
            "modularity": self.modularity,
            "info": self.info,
        }


def _describe(similarity: sp.csr_array, labels: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    n_blocks = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=n_blocks)
    sums, squares = block_sums(similarity, labels, n_blocks)
    counts = pair_counts(sizes, loops=False)
    block_matrix = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    log_likelihood = gaussian_block_log_likelihood(sums, squares, counts)
    n_parameters = 2 * n_blocks**2 + n_blocks - 1
    bic = -2 * log_likelihood + n_parameters * np.log(max(counts.sum(), 2.0))
    return block_matrix, log_likelihood, float(bic), modularity(similarity, labels)


def sbm_blocks(
    graph,
    group: str | None = None,
    *,
    max_blocks: int = 16,
    n_neighbors: int = 10,
    resolution: float = 1.0,
    random_state=None,
) -> SBMResult:
    """Estimate blocks of stochastically equivalent units.

    Parameters
    ----------
    graph : NeuronGraph
    group : str, optional
        One group's units (dense similarity, Gaussian mixture with 1..``max_blocks``
        blocks chosen by BIC). ``None``: every node of the graph (sparse per-layer kNN
        similarity graph + Leiden; ``max_blocks`` does not apply).
    n_neighbors : int
        Neighbours per unit in the whole-model kNN graph.
    resolution : float
        Leiden resolution (higher: more, smaller blocks).
    random_state : None, int or numpy Generator

    Examples
    --------
    >>> result = sbm_blocks(graph, "fc1", max_blocks=8, random_state=0)  # doctest: +SKIP
    >>> result.n_blocks, result.to_dict()["modularity"]  # doctest: +SKIP
    """
    check_group(graph, group, _OWNER)
    for name, value in (("max_blocks", max_blocks), ("n_neighbors", n_neighbors)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise InvalidParameterError.expected(name, _OWNER, "a positive integer", value)
    if not isinstance(resolution, (int, float)) or resolution <= 0:
        raise InvalidParameterError.expected("resolution", _OWNER, "a positive number", resolution)
    generator = as_generator(random_state)
    if group is not None:
        rows, _ = group_profile(graph, group)
        labels, bics = gaussian_blocks(project(rows), max_blocks, generator)
        similarity = np.clip(rows @ rows.T, 0.0, None)
        np.fill_diagonal(similarity, 0.0)
        similarity = sp.csr_array(similarity)
        node_ids = list(graph.node_ids[layer_slices(graph)[group]])
        block_matrix, log_likelihood, bic, quality = _describe(similarity, labels)
        return SBMResult(
            node_ids, labels, block_matrix, None, log_likelihood, bic, quality, "gaussian-mixture", {"mixture_bic": bics}
        )

    slices = layer_slices(graph)
    adjacency = sp.csr_array(graph.adjacency)
    pieces = []
    for name in layer_names(graph):
        nodes = slices[name]
        rows, _ = layer_rows(adjacency, nodes)
        with threadpool_limits(1):
            pieces.append(layer_knn_graph(rows, n_neighbors, seed_from(generator)))
    similarity = sp.csr_array(sp.block_diag(pieces, format="csr"))
    labels, quality = leiden_communities(similarity, resolution=resolution, seed=seed_from(generator))
    block_matrix, log_likelihood, bic, partition_modularity = _describe(similarity, labels)
    sums, _ = block_sums(adjacency, labels, int(labels.max()) + 1)
    counts = pair_counts(np.bincount(labels), loops=True)
    flow = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    return SBMResult(
        list(graph.node_ids),
        labels,
        block_matrix,
        flow,
        log_likelihood,
        bic,
        partition_modularity,
        "knn-leiden",
        {"leiden_quality": quality, "n_neighbors": int(n_neighbors), "similarity_edges": int(similarity.nnz)},
    )
