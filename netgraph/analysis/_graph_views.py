"""Views of a NeuronGraph the analyses share: layer positions, unit profiles, generators.

Only ``node_ids``, ``adjacency``, ``layers``/``group_names``, ``incoming`` and ``outgoing``
of the graph are read, so any object with those (e.g. a synthetic graph in a benchmark)
works.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from netgraph.algorithms.random_state import as_generator, seed_from
from netgraph.algorithms.similarity_graph import knn_similarity_graph, sparse_knn_similarity_graph, sparse_product_size
from netgraph.algorithms.spectral import normalise_rows
from netgraph.errors import InvalidParameterError

__all__ = [
    "as_generator",
    "seed_from",
    "normalise_rows",
    "layer_names",
    "layer_slices",
    "check_group",
    "group_profile",
    "layer_rows",
    "layer_knn_graph",
    "reduce_rows",
    "block_sums",
    "pair_counts",
    "gaussian_block_log_likelihood",
    "layer_of",
]

# Whole-model profiles are embedded in this many coordinates per layer before the
# neighbour search, so cost is O(units · dimension), not O(units · fan-in).
PROFILE_DIMENSION = 16


def layer_names(graph) -> list[str]:
    return list(getattr(graph, "layers", None) or graph.group_names)


def layer_slices(graph) -> dict[str, slice]:
    """Contiguous node positions of every layer, in one pass over ``node_ids``."""
    slices: dict[str, slice] = {}
    start = 0
    names = [node.group for node in graph.node_ids]
    for position in range(1, len(names) + 1):
        if position == len(names) or names[position] != names[start]:
            slices[names[start]] = slice(start, position)
            start = position
    return slices


def check_group(graph, group: str | None, owner: str) -> None:
    if group is not None and group not in graph.group_names:
        raise InvalidParameterError.expected("group", owner, f"None or one of {graph.group_names}", group)


def group_profile(graph, group: str) -> tuple[np.ndarray, np.ndarray]:
    """Connectivity profile of one group's units from the signed weights.

    Rows ``[u_in, u_out] / √2`` (normalised incoming [w, b] row and outgoing row), and
    weights ``‖incoming‖·‖outgoing‖`` (how much of the signal a unit carries).
    """
    incoming = np.asarray(graph.incoming(group), dtype=np.float64)
    outgoing = np.asarray(graph.outgoing(group), dtype=np.float64)
    rows = np.hstack([normalise_rows(incoming), normalise_rows(outgoing)]) / np.sqrt(2.0)
    weights = np.linalg.norm(incoming, axis=1) * np.linalg.norm(outgoing, axis=1)
    return rows, weights


def layer_rows(adjacency: sp.csr_array, nodes: slice) -> tuple[sp.csr_array, np.ndarray]:
    """A layer's connectivity profile from edge magnitudes: rows of ``[Aᵀ | A]``.

    Who feeds a node and whom it feeds, restricted to the columns that are not empty (the
    neighbouring layers), with the rows' norms as weights.
    """
    rows = sp.csr_array(sp.hstack([adjacency[:, nodes].T, adjacency[nodes, :]], format="csr"))
    used = np.unique(rows.indices)
    rows = sp.csr_array(rows[:, used])
    weights = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    return rows, weights


# Above this many entries of X Xᵀ per node the exact sparse neighbour search gives way to
# a truncated SVD (dense layers make X Xᵀ dense).
_SPARSE_PRODUCT_PER_NODE = 2_000


def layer_knn_graph(rows: sp.csr_array, n_neighbors: int, seed: int) -> sp.csr_array:
    """Cosine kNN graph of a layer's profile rows: exact and sparse when cheap, SVD otherwise."""
    n = rows.shape[0]
    if sparse_product_size(rows) <= _SPARSE_PRODUCT_PER_NODE * max(n, 1):
        return sparse_knn_similarity_graph(rows, n_neighbors)
    return knn_similarity_graph(reduce_rows(rows, PROFILE_DIMENSION, seed), n_neighbors)


def reduce_rows(rows: sp.csr_array, dimension: int, seed: int) -> np.ndarray:
    """Rows in at most ``dimension`` coordinates (randomized truncated SVD)."""
    from sklearn.decomposition import TruncatedSVD

    n_nodes, n_columns = rows.shape
    dimension = min(dimension, n_nodes - 1, n_columns - 1)
    if dimension < 1 or rows.nnz == 0:
        return np.asarray(rows.todense()).reshape(n_nodes, -1) if n_columns else np.zeros((n_nodes, 1))
    return TruncatedSVD(dimension, algorithm="randomized", n_iter=3, random_state=seed).fit_transform(rows)


def block_sums(matrix: sp.csr_array, labels: np.ndarray, n_blocks: int, *, dense: bool = True):
    """Per block pair: the sum of entries and the sum of squared entries (B × B, dense or sparse)."""
    membership = sp.csr_array(
        (np.ones(labels.size), (np.arange(labels.size), labels)), shape=(labels.size, n_blocks)
    )
    matrix = sp.csr_array(matrix)
    sums = sp.csr_array(membership.T @ matrix @ membership)
    squares = sp.csr_array(membership.T @ matrix.multiply(matrix) @ membership)
    if dense:
        return sums.toarray(), squares.toarray()
    return sums, squares


def pair_counts(sizes: np.ndarray, *, loops: bool) -> np.ndarray:
    counts = np.outer(sizes, sizes).astype(np.float64)
    if not loops:
        counts -= np.diag(sizes.astype(np.float64))
    return counts


def gaussian_block_log_likelihood(sums: np.ndarray, squares: np.ndarray, counts: np.ndarray) -> float:
    """Log-likelihood of a weighted SBM with a Gaussian (mean, variance) per block pair."""
    valid = counts > 0
    mean = np.where(valid, sums / np.where(valid, counts, 1), 0.0)
    variance = np.where(valid, squares / np.where(valid, counts, 1), 0.0) - mean**2
    overall = float(squares.sum() / max(counts.sum(), 1) - (sums.sum() / max(counts.sum(), 1)) ** 2)
    # A variance floor keeps perfectly uniform block pairs finite.
    variance = np.maximum(variance, 1e-6 * max(overall, 1e-300))
    return float(-0.5 * np.sum(counts[valid] * (np.log(2 * np.pi * variance[valid]) + 1.0)))


def layer_of(graph) -> np.ndarray:
    """Index of every node's layer (order of ``layer_names``)."""
    index = {name: i for i, name in enumerate(layer_names(graph))}
    return np.array([index[node.group] for node in graph.node_ids], dtype=np.int64)
