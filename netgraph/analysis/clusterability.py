"""Is the trained network more modular than chance? (Filan et al., "Clusterability in NNs")

The neuron graph (``|w|``, symmetrised) is partitioned by spectral clustering and scored by
its normalised cut; the same is done for copies whose weights are shuffled within each
pair of connected layers (same layer sizes and sparsity, no learned structure). A trained
network that is clusterable has a lower n-cut than its shuffles: the report gives both,
the z-score ``(mean_shuffled − trained) / std_shuffled`` and the one-sided permutation
p-value ``(1 + #{shuffled ≤ trained}) / (1 + n_shuffles)`` (which cannot go below
``1 / (1 + n_shuffles)``: use 20 or more shuffles for a p-value under 0.05 to be possible).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from netgraph.analysis._graph_views import as_generator, layer_of, seed_from
from netgraph.errors import InvalidParameterError

__all__ = ["ClusterabilityResult", "clusterability", "normalized_cut"]

_OWNER = "clusterability"


@dataclass
class ClusterabilityResult:
    node_ids: list
    labels: np.ndarray
    n_cut: float
    shuffled_n_cuts: np.ndarray
    z_score: float
    p_value: float
    info: dict[str, Any] = field(default_factory=dict)

    def sentence(self) -> str:
        """One plain sentence: is the whole network more clusterable than its shuffled copies?"""
        n = self.shuffled_n_cuts.size
        if n == 0:
            return "Clusterability not tested (no shuffled copies)."
        lower = int(np.floor(100 * np.mean(self.shuffled_n_cuts > self.n_cut)))
        if self.p_value < 0.05:
            return (f"The network splits into {int(self.labels.max()) + 1} clusters with a lower normalised cut than "
                    f"{lower} % of {n} weight-shuffled copies (p = {self.p_value:.3f}).")
        return (f"No clusterability beyond chance: normalised cut {self.n_cut:.3f} vs {float(np.median(self.shuffled_n_cuts)):.3f} "
                f"for {n} weight-shuffled copies (p = {self.p_value:.2f}).")

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_clusters": int(self.labels.max()) + 1 if self.labels.size else 0,
            "n_cut": self.n_cut,
            "shuffled_n_cuts": self.shuffled_n_cuts.tolist(),
            "shuffled_mean": float(self.shuffled_n_cuts.mean()) if self.shuffled_n_cuts.size else None,
            "z_score": self.z_score,
            "p_value": self.p_value,
            "labels": [[node.group, int(node.index), int(label)] for node, label in zip(self.node_ids, self.labels)],
            "info": self.info,
        }


def normalized_cut(adjacency, labels: np.ndarray) -> float:
    """``Σ_c cut(c, rest) / vol(c)`` on an undirected weighted graph (0 for isolated clusters)."""
    adjacency = sp.csr_array(adjacency)
    labels = np.asarray(labels)
    n_clusters = int(labels.max()) + 1
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    volume = np.bincount(labels, weights=degree, minlength=n_clusters)
    coo = adjacency.tocoo()
    same = labels[coo.row] == labels[coo.col]
    inside = np.bincount(labels[coo.row[same]], weights=coo.data[same], minlength=n_clusters)
    cut = volume - inside
    return float(np.sum(np.divide(cut, volume, out=np.zeros_like(cut), where=volume > 0)))


def _partition(symmetric: sp.csr_array, n_clusters: int, seed: int) -> np.ndarray:
    from sklearn.cluster import spectral_clustering

    # scikit-learn only takes 32-bit sparse indices.
    symmetric = sp.csr_matrix(
        (symmetric.data, symmetric.indices.astype(np.int32), symmetric.indptr.astype(np.int32)), shape=symmetric.shape
    )

    # Disconnected graphs (dead units) only warn; the partition is still well defined.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectral_clustering(
            symmetric, n_clusters=n_clusters, assign_labels="cluster_qr", random_state=seed, eigen_solver="arpack"
        )


def _shuffle_within_layers(adjacency: sp.csr_array, layer: np.ndarray, generator: np.random.Generator) -> sp.csr_array:
    coo = adjacency.tocoo()
    data = coo.data.copy()
    pair = layer[coo.row] * (int(layer.max()) + 1) + layer[coo.col]
    for key in np.unique(pair):
        positions = np.flatnonzero(pair == key)
        data[positions] = data[generator.permutation(positions)]
    return sp.csr_array((data, (coo.row, coo.col)), shape=adjacency.shape)


def clusterability(graph, n_clusters: int = 4, n_shuffles: int = 39, random_state=None) -> ClusterabilityResult:
    """Normalised cut of the trained graph vs. weight-shuffled copies.

    Examples
    --------
    >>> result = clusterability(graph, n_clusters=4, n_shuffles=10, random_state=0)  # doctest: +SKIP
    >>> result.n_cut < result.shuffled_n_cuts.mean()  # doctest: +SKIP
    """
    for name, value, least in (("n_clusters", n_clusters, 2), ("n_shuffles", n_shuffles, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
            raise InvalidParameterError.expected(name, _OWNER, f"an integer >= {least}", value)
    adjacency = abs(sp.csr_array(graph.adjacency, dtype=np.float64))
    if n_clusters >= adjacency.shape[0]:
        raise InvalidParameterError.expected("n_clusters", _OWNER, f"smaller than the {adjacency.shape[0]} nodes", n_clusters)
    generator = as_generator(random_state)
    layer = layer_of(graph)

    def score(matrix: sp.csr_array) -> tuple[float, np.ndarray]:
        symmetric = sp.csr_array(matrix + matrix.T)
        labels = _partition(symmetric, n_clusters, seed_from(generator))
        return normalized_cut(symmetric, labels), labels

    trained, labels = score(adjacency)
    shuffled = np.array([score(_shuffle_within_layers(adjacency, layer, generator))[0] for _ in range(n_shuffles)])
    spread = float(shuffled.std(ddof=1)) if shuffled.size > 1 else 0.0
    z_score = float((shuffled.mean() - trained) / spread) if spread > 0 else 0.0
    p_value = float((1 + np.sum(shuffled <= trained)) / (1 + shuffled.size))
    return ClusterabilityResult(
        list(graph.node_ids), np.asarray(labels), trained, shuffled, z_score, p_value, {"n_clusters": n_clusters}
    )
