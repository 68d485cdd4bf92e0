"""node2vec without gensim: walks follow edges, and the coordinates separate planted blocks."""

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from netgraph.algorithms.node2vec import node2vec_coordinates, random_walks


def _planted(n=160, p_in=0.2, p_out=0.02, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.repeat([0, 1], n // 2)
    probability = np.where(truth[:, None] == truth[None, :], p_in, p_out)
    upper = np.triu(rng.random((n, n)) < probability, 1).astype(float)
    return upper + upper.T, truth


def test_walks_only_follow_edges_and_isolated_nodes_stay():
    adjacency, _ = _planted(40)
    adjacency[:, 0] = adjacency[0, :] = 0
    adjacency[:, -1] = adjacency[-1, :] = 0  # isolated nodes at both ends of the index range
    walks = random_walks(adjacency, 2, 12, random_state=0)
    assert walks.shape == (80, 12)
    assert (walks[walks[:, 0] == 39] == 39).all()
    steps = np.stack([walks[:, :-1].ravel(), walks[:, 1:].ravel()])
    moved = steps[0] != steps[1]
    assert adjacency[steps[0][moved], steps[1][moved]].min() > 0
    assert (walks[walks[:, 0] == 0] == 0).all()


def test_node2vec_separates_a_planted_two_block_graph():
    adjacency, truth = _planted()
    coordinates = node2vec_coordinates(adjacency, 8, random_state=0)
    points = coordinates / np.linalg.norm(coordinates, axis=1, keepdims=True)
    labels = KMeans(2, n_init=5, random_state=0).fit_predict(points)
    assert adjusted_rand_score(truth, labels) >= 0.9


def test_node2vec_is_reproducible():
    adjacency, _ = _planted(60)
    np.testing.assert_array_equal(
        node2vec_coordinates(adjacency, 4, random_state=3), node2vec_coordinates(adjacency, 4, random_state=3)
    )
