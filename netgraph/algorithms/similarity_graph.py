"""Sparse k-nearest-neighbour similarity graphs and Leiden communities on them.

Cost grows with n·k (plus the brute-force neighbour search in a low dimension), never
n², so the same code serves one layer and a whole model.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["knn_similarity_graph", "leiden_communities", "modularity"]


def knn_similarity_graph(points: np.ndarray, n_neighbors: int) -> sp.csr_array:
    """Symmetric cosine kNN graph with edge weights ``max(cos, 0)`` (tiny floor, no self loops).

    Parameters
    ----------
    points : ndarray, shape (n, d)
    n_neighbors : int
        Neighbours per point before symmetrisation (``max(A, Aᵀ)``).
    """
    from sklearn.neighbors import NearestNeighbors

    n = points.shape[0]
    k = min(int(n_neighbors), n - 1)
    if k < 1:
        return sp.csr_array((n, n))
    search = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(points)
    distances, neighbours = search.kneighbors(points)
    rows = np.repeat(np.arange(n), k + 1)
    weights = np.clip(1.0 - distances.ravel(), 1e-6, None)
    graph = sp.csr_array((weights, (rows, neighbours.ravel())), shape=(n, n))
    graph.setdiag(0)
    graph.eliminate_zeros()
    return sp.csr_array(graph.maximum(graph.T))


def leiden_communities(
    graph: sp.csr_array, *, resolution: float = 1.0, seed: int | None = None
) -> tuple[np.ndarray, float]:
    """Leiden (modularity) communities of an undirected sparse graph via graspologic-native.

    Returns labels 0..B-1 (ordered by first appearance) and the quality Leiden reports.
    """
    import graspologic_native

    graph = sp.csr_array(graph)
    n = graph.shape[0]
    if graph.nnz == 0:
        return np.arange(n), 0.0
    quality, partition = graspologic_native.leiden_csr(
        graph.indptr.astype(np.int64),
        graph.indices.astype(np.int32),
        graph.data.astype(np.float64),
        n,
        resolution=float(resolution),
        seed=None if seed is None else int(seed) % (2**31 - 2) + 1,
    )
    raw = np.array([partition.get(i, -1) for i in range(n)])
    # Isolated nodes may be missing: give each its own community.
    missing = raw < 0
    raw[missing] = raw.max(initial=-1) + 1 + np.arange(missing.sum())
    _, labels = np.unique(raw, return_inverse=True)
    return labels.astype(np.int64), float(quality)


def modularity(graph: sp.csr_array, labels: np.ndarray) -> float:
    """Newman modularity of ``labels`` on an undirected weighted graph, in O(nnz)."""
    graph = sp.csr_array(graph)
    total = float(graph.sum())
    if total <= 0:
        return 0.0
    labels = np.asarray(labels)
    coo = graph.tocoo()
    inside = float(coo.data[labels[coo.row] == labels[coo.col]].sum())
    degree = np.asarray(graph.sum(axis=1)).ravel()
    block_degree = np.bincount(labels, weights=degree)
    return inside / total - float(np.sum(block_degree**2)) / total**2


def sparse_knn_similarity_graph(rows: sp.csr_array, n_neighbors: int) -> sp.csr_array:
    """Exact cosine kNN graph of sparse rows via the sparse product ``X Xᵀ``.

    Meant for sparse profiles whose product stays sparse (``Σ_c nnz(column c)²`` small);
    symmetrised with ``max(A, Aᵀ)``, weights ``max(cos, 0)``, no self loops.
    """
    rows = sp.csr_array(rows, dtype=np.float64)
    n = rows.shape[0]
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    unit = sp.csr_array(sp.diags(scale) @ rows)
    product = sp.coo_array(unit @ unit.T)
    keep = (product.row != product.col) & (product.data > 0)
    row, col, value = product.row[keep], product.col[keep], product.data[keep]
    # Top-k per row: one sort on row + (1 - cos) (cos in (0, 1]) groups rows, best first.
    order = np.argsort(row + 0.999 * (1.0 - np.minimum(value, 1.0)), kind="quicksort")
    row, col, value = row[order], col[order], value[order]
    starts = np.searchsorted(row, np.arange(n))
    rank = np.arange(row.size) - starts[row]
    keep = rank < n_neighbors
    graph = sp.csr_array((np.clip(value[keep], 1e-6, None), (row[keep], col[keep])), shape=(n, n))
    return sp.csr_array(graph.maximum(graph.T))


def sparse_product_size(rows: sp.csr_array) -> int:
    """Number of (possibly duplicate) entries ``X Xᵀ`` would produce: ``Σ_c nnz(column c)²``."""
    column_counts = np.bincount(sp.csr_array(rows).indices, minlength=rows.shape[1]).astype(np.int64)
    return int(np.sum(column_counts**2))
