"""node2vec coordinates without gensim: weighted random walks, then an SVD of their PMI.

Skip-gram with negative sampling on random-walk windows implicitly factorises the shifted
pointwise mutual information of (node, context) pairs (Levy & Goldberg 2014; NetMF, Qiu
et al. 2018). Here that matrix is built explicitly from the walks and factorised with a
truncated SVD, which is deterministic given the seed and needs no word2vec library.
Walks are node2vec's with return and in-out parameters p = q = 1 (graspologic's
defaults): each step picks a neighbour with probability proportional to the edge weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from netgraph.algorithms.random_state import as_generator

__all__ = ["random_walks", "node2vec_coordinates"]


def random_walks(adjacency, n_walks: int, walk_length: int, random_state: Any = None) -> np.ndarray:
    """``n_walks`` weighted random walks from every node, shape (n_nodes · n_walks, walk_length).

    A walk that reaches a node without edges stays there.
    """
    graph = sp.csr_array(adjacency, dtype=np.float64)
    n = graph.shape[0]
    generator = as_generator(random_state)
    weights = np.abs(graph.data)
    cumulative = np.cumsum(weights)
    row_start = np.r_[0.0, cumulative][graph.indptr[:-1]]
    degree = np.diff(graph.indptr)
    row_total = np.bincount(np.repeat(np.arange(n), degree), weights=weights, minlength=n)
    walks = np.empty((n * n_walks, walk_length), dtype=np.int64)
    walks[:, 0] = np.tile(np.arange(n), n_walks)
    for step in range(1, walk_length):
        current = walks[:, step - 1]
        target = row_start[current] + generator.random(current.size) * row_total[current]
        position = np.searchsorted(cumulative, target, side="right")
        position = np.clip(position, graph.indptr[current], np.maximum(graph.indptr[current + 1] - 1, 0))
        nxt = graph.indices[position] if graph.indices.size else current
        walks[:, step] = np.where(degree[current] > 0, nxt, current)
    return walks


def node2vec_coordinates(
    adjacency,
    n_components: int = 16,
    *,
    n_walks: int = 10,
    walk_length: int = 20,
    window_size: int = 5,
    negative: float = 1.0,
    random_state: Any = None,
) -> np.ndarray:
    """One row of coordinates per node of an undirected weighted graph.

    Parameters
    ----------
    adjacency : (n, n) array or sparse matrix
        Symmetric edge weights (their magnitudes are used).
    n_components : int
        Coordinates per node.
    n_walks, walk_length, window_size : int
        Walks per node, nodes per walk, and the context window on each side.
    negative : float
        Negative samples of the equivalent skip-gram (the PMI is shifted by ``log negative``).

    Examples
    --------
    >>> import numpy as np
    >>> two_triangles = np.kron(np.eye(2), np.ones((3, 3)) - np.eye(3))
    >>> node2vec_coordinates(two_triangles, 2, random_state=0).shape
    (6, 2)
    """
    graph = sp.csr_array(abs(sp.csr_array(adjacency, dtype=np.float64)))
    n = graph.shape[0]
    walks = random_walks(graph, n_walks, walk_length, random_state)
    rows, columns = [], []
    for offset in range(1, min(window_size, walk_length - 1) + 1):
        rows += [walks[:, :-offset].ravel(), walks[:, offset:].ravel()]
        columns += [walks[:, offset:].ravel(), walks[:, :-offset].ravel()]
    if not rows:
        return np.zeros((n, n_components))
    row, column = np.concatenate(rows), np.concatenate(columns)
    counts = sp.csr_array((np.ones(row.size), (row, column)), shape=(n, n))
    counts.sum_duplicates()
    total = float(counts.sum())
    node_count = np.asarray(counts.sum(axis=1)).ravel()
    context_count = np.asarray(counts.sum(axis=0)).ravel()
    coo = counts.tocoo()
    pmi = np.log(coo.data * total / (node_count[coo.row] * context_count[coo.col])) - np.log(negative)
    positive = pmi > 0
    matrix = sp.csr_array((pmi[positive], (coo.row[positive], coo.col[positive])), shape=(n, n))
    dimension = min(n_components, n - 1)
    if dimension < 1 or matrix.nnz == 0:
        return np.zeros((n, n_components))
    if dimension >= n // 2:
        u, singular, _ = np.linalg.svd(matrix.toarray(), full_matrices=False)
    else:
        from scipy.sparse.linalg import svds

        start = as_generator(random_state).normal(size=n)
        u, singular, _ = svds(matrix, k=dimension, v0=start)
        order = np.argsort(-singular)
        u, singular = u[:, order], singular[order]
    coordinates = np.zeros((n, n_components))
    coordinates[:, :dimension] = u[:, :dimension] * np.sqrt(singular[:dimension])
    isolated = np.diff(graph.indptr) == 0
    coordinates[isolated] = 0.0
    return coordinates
