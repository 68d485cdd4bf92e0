"""Weighted k-medoids, Gaussian blocks, Leiden and random-state normalisation."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score

from netgraph.algorithms.blocks import gaussian_blocks
from netgraph.algorithms.kmedoids import weighted_kmedoids
from netgraph.algorithms.random_state import as_generator, seed_from
from netgraph.algorithms.similarity_graph import knn_similarity_graph, leiden_communities, modularity
from netgraph.errors import InvalidParameterError


def _clusters(n_per=20, centres=4, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(centres), n_per)
    points = 5 * rng.standard_normal((centres, 6))[truth] + 0.1 * rng.standard_normal((truth.size, 6))
    return points, truth


@pytest.mark.parametrize("k", [1, 4, 9, 80])
def test_kmedoids_returns_exactly_k_real_units(k):
    points, _ = _clusters()
    kept, assignment = weighted_kmedoids(points, np.ones(len(points)), k, np.random.default_rng(0))
    assert kept.size == k and np.all(np.diff(kept) > 0)
    assert np.array_equal(assignment[kept], kept) and np.isin(assignment, kept).all()


def test_kmedoids_recovers_clusters_and_heavy_units_stay():
    points, truth = _clusters()
    weights = np.ones(len(points))
    weights[7] = 100.0  # a heavy unit is its own cluster's representative
    kept, assignment = weighted_kmedoids(points, weights, 4, np.random.default_rng(0))
    assert adjusted_rand_score(truth, assignment) == 1.0
    assert 7 in kept


def test_gaussian_blocks_choose_the_planted_number_by_bic():
    points, truth = _clusters(centres=3)
    labels, bics = gaussian_blocks(points, 6, np.random.default_rng(0))
    assert len(bics) == 6 and int(np.argmin(bics)) + 1 == 3
    assert adjusted_rand_score(truth, labels) == 1.0


def test_leiden_on_a_knn_graph_finds_the_clusters():
    points, truth = _clusters()
    graph = knn_similarity_graph(points - points.mean(axis=0), 5)
    assert (graph != graph.T).nnz == 0
    labels, _ = leiden_communities(graph, seed=1)
    assert adjusted_rand_score(truth, labels) >= 0.9
    assert modularity(graph, labels) > modularity(graph, np.zeros(len(points), dtype=int))


def test_modularity_matches_networkx():
    import networkx as nx

    points, truth = _clusters(n_per=8)
    graph = knn_similarity_graph(points, 4)
    expected = nx.community.modularity(nx.from_scipy_sparse_array(sp.csr_matrix(graph)),
                                       [set(np.flatnonzero(truth == b)) for b in np.unique(truth)])
    assert modularity(graph, truth) == pytest.approx(expected)


def test_random_state_normalisation():
    generator = np.random.default_rng(0)
    assert as_generator(generator) is generator
    assert as_generator(5).random() == as_generator(np.int64(5)).random()
    assert 0 <= seed_from(as_generator(None)) < 2**31 - 1
    with pytest.raises(InvalidParameterError, match="'random_state' parameter of embed_units"):
        as_generator(0.5, owner="embed_units")


@pytest.mark.parametrize("seed", range(6))
def test_fast_kmeans_plusplus_gives_scikit_learns_clustering(seed):
    import warnings

    from sklearn.cluster import KMeans

    from netgraph.algorithms.kmedoids import _kmeans_plusplus

    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(30, 200)), int(rng.integers(2, 25))
    points = rng.standard_normal((n, 12)) * rng.random(12)
    points[: n // 4] = points[0]  # duplicates, as groups of merged units have
    weights = rng.random(n) ** 2 + 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = KMeans(k, n_init=4, random_state=seed).fit_predict(points, sample_weight=weights)
        fast = KMeans(k, init=_kmeans_plusplus(weights), n_init=4, random_state=seed).fit_predict(
            points, sample_weight=weights
        )
    np.testing.assert_array_equal(fast, reference)


@pytest.mark.slow
def test_large_groups_take_the_fast_path_and_still_recover_clusters():
    from netgraph.algorithms.kmedoids import LARGE_WORK

    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(1050), 2)  # 2,100 points in 1,050 tight pairs
    points = 10 * rng.standard_normal((1050, 8))[truth] + 1e-3 * rng.standard_normal((2100, 8))
    assert points.shape[0] * 1050 > LARGE_WORK
    kept, assignment = weighted_kmedoids(points, np.ones(2100), 1050, np.random.default_rng(0))
    assert kept.size == 1050 and np.isin(assignment, kept).all()
    assert adjusted_rand_score(truth, assignment) > 0.95
