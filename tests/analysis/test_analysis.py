"""Analysis objects on planted graphs: blocks, embeddings, summaries, redundancy, clusterability."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.metrics import adjusted_rand_score
from torch import nn

from netgraph.analysis import clusterability, embed_units, redundancy, sbm_blocks, summarize_graph
from netgraph.analysis.clusterability import normalized_cut
from netgraph.calibrate.stats import UnitStats
from netgraph.errors import InvalidParameterError
from netgraph.graph.neuron_graph import NeuronGraph, NeuronId

N_GROUPS, PER_GROUP = 6, 10


@pytest.fixture(scope="module")
def planted_mlp():
    """16 → 60 → 24 → 4 ReLU MLP; the 60 hidden units form 6 near-duplicate groups."""
    generator = np.random.default_rng(0)
    truth = np.repeat(np.arange(N_GROUPS), PER_GROUP)
    centres = generator.normal(size=(N_GROUPS, 17))
    rows = centres[truth] * generator.uniform(0.5, 2.0, size=(truth.size, 1)) + 0.02 * generator.normal(size=(60, 17))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 60), nn.ReLU(), nn.Linear(60, 24), nn.ReLU(), nn.Linear(24, 4))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(rows[:, :-1], dtype=torch.float32))
        model[0].bias.copy_(torch.tensor(rows[:, -1], dtype=torch.float32))
    graph = NeuronGraph.from_model(model, torch.randn(2, 16))
    return SimpleNamespace(model=model, graph=graph, truth=truth, group=graph.group_names[0])


class PlantedGraph:
    """A NeuronGraph-like layered graph whose layers hold planted blocks (for whole-model analyses)."""

    def __init__(self, layer_sizes, n_blocks, degree, seed):
        generator = np.random.default_rng(seed)
        self.layers = [f"layer{i}" for i in range(len(layer_sizes))]
        self.group_names = self.layers[:-1]
        self.node_ids = [NeuronId(name, i) for name, size in zip(self.layers, layer_sizes) for i in range(size)]
        offsets = np.cumsum([0] + list(layer_sizes))
        self.truth = np.concatenate([generator.integers(0, n_blocks, size) for size in layer_sizes])
        rows, cols = [], []
        for layer in range(len(layer_sizes) - 1):
            sources = np.arange(offsets[layer], offsets[layer + 1])
            targets = np.arange(offsets[layer + 1], offsets[layer + 2])
            for source in sources:
                # Block b feeds block b of the next layer (plus a little noise).
                same = targets[self.truth[targets] == self.truth[source]]
                chosen = generator.choice(same, size=min(degree, same.size), replace=False)
                noise = generator.choice(targets, size=1)
                rows.extend([source] * (chosen.size + 1))
                cols.extend(list(chosen) + list(noise))
        n = offsets[-1]
        weights = generator.uniform(0.5, 1.5, size=len(rows))
        self.adjacency = sp.csr_array((weights, (rows, cols)), shape=(n, n))
        self.adjacency.sum_duplicates()


@pytest.fixture(scope="module")
def planted_graph():
    return PlantedGraph([120, 120, 120, 40], n_blocks=4, degree=8, seed=1)


def test_sbm_blocks_recovers_planted_group(planted_mlp):
    result = sbm_blocks(planted_mlp.graph, planted_mlp.group, max_blocks=10, random_state=0)
    assert adjusted_rand_score(planted_mlp.truth, result.labels) >= 0.9
    assert result.n_blocks == N_GROUPS
    assert [node.group for node in result.node_ids] == [planted_mlp.group] * 60
    # Within-block similarity dominates the between-block one.
    assert np.all(np.diag(result.block_matrix) > result.block_matrix.max(axis=1) - 1e-12)
    assert result.modularity > 0.3
    json.dumps(result.to_dict())


def test_sbm_blocks_whole_model_recovers_planted_partition(planted_graph):
    result = sbm_blocks(planted_graph, n_neighbors=8, random_state=0)
    hidden = np.array([node.group != "layer3" for node in planted_graph.node_ids])
    layer = np.array([node.group for node in planted_graph.node_ids])
    for name in ["layer1", "layer2"]:
        mask = layer == name
        assert adjusted_rand_score(planted_graph.truth[mask], result.labels[mask]) >= 0.8
    assert result.flow_matrix is not None and result.flow_matrix.shape == (result.n_blocks, result.n_blocks)
    assert hidden.sum() > 0 and np.isfinite(result.bic)
    json.dumps(result.to_dict())


def test_sbm_blocks_same_seed_same_labels(planted_graph):
    first = sbm_blocks(planted_graph, random_state=3)
    second = sbm_blocks(planted_graph, random_state=3)
    np.testing.assert_array_equal(first.labels, second.labels)


@pytest.mark.parametrize(
    "kwargs, parameter",
    [({"group": "nope"}, "group"), ({"max_blocks": 0}, "max_blocks"), ({"resolution": 0.0}, "resolution")],
)
def test_sbm_blocks_invalid_parameters(planted_mlp, kwargs, parameter):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter"):
        sbm_blocks(planted_mlp.graph, **kwargs)


@pytest.mark.parametrize("method", ["ase", "lse"])
def test_embed_group(planted_mlp, method):
    embedding = embed_units(planted_mlp.graph, planted_mlp.group, n_components=6, method=method, random_state=0)
    assert embedding.coordinates.shape == (60, 6)
    assert embedding.node_ids[0] == NeuronId(planted_mlp.group, 0)
    json.dumps(embedding.to_dict())


def test_embed_group_dimension_by_elbow(planted_mlp):
    embedding = embed_units(planted_mlp.graph, planted_mlp.group)
    assert 1 <= embedding.n_components <= 60


@pytest.mark.parametrize("method", ["ase", "lse"])
def test_embed_whole_model(planted_graph, method):
    embedding = embed_units(planted_graph, n_components=4, method=method, random_state=0)
    assert embedding.coordinates.shape == (len(planted_graph.node_ids), 8)  # out- and in-coordinates


def test_embed_invalid_method(planted_mlp):
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        embed_units(planted_mlp.graph, method="tsne")


def test_summarize_graph_on_planted_mlp(planted_mlp):
    summary = summarize_graph(planted_mlp.graph, n_supernodes={planted_mlp.group: N_GROUPS}, random_state=0)
    group_nodes = np.array([node.group == planted_mlp.group for node in summary.node_ids])
    assert adjusted_rand_score(planted_mlp.truth, summary.supernode_of[group_nodes]) >= 0.9
    nx_summary = summary.to_networkx()
    assert nx_summary.number_of_nodes() == summary.n_supernodes
    # Summed weights: the summary carries the whole graph's weight.
    assert summary.adjacency.sum() == pytest.approx(planted_mlp.graph.adjacency.sum())
    json.dumps(summary.to_dict())


def test_summary_error_shrinks_with_more_supernodes(planted_graph):
    errors = [summarize_graph(planted_graph, keep=keep, random_state=0).reconstruction_error for keep in (0.05, 0.3, 1.0)]
    assert errors[0] >= errors[1] >= errors[2] - 1e-12
    assert errors[2] == pytest.approx(0.0, abs=1e-9)


def test_summarize_graph_invalid_keep(planted_graph):
    with pytest.raises(InvalidParameterError, match="'keep' parameter"):
        summarize_graph(planted_graph, keep=1.5)


def test_redundancy_finds_dead_and_duplicate_units():
    generator = np.random.default_rng(0)
    incoming = generator.normal(size=(8, 5))
    incoming[1] = 2.5 * incoming[0]  # exact duplicate, positive scale
    incoming[2] = 0.7 * incoming[0] + 1e-4 * generator.normal(size=5)  # near duplicate
    incoming[3] = -incoming[4]  # negative scale: not a duplicate
    outgoing = generator.normal(size=(8, 3))
    outgoing[7] = 0.0  # dead: nothing reads it
    inputs = generator.normal(size=(500, 4))
    hidden = np.maximum(inputs @ incoming[:, :-1].T + incoming[:, -1], 0)
    stats = UnitStats.empty(8)
    stats.update(torch.tensor(hidden))
    report = redundancy(incoming, outgoing, stats)
    assert [n.index for n in report.dead] == [7]
    assert [[n.index for n in g] for g in report.duplicate_groups] == [[0, 1, 2]]
    assert [[n.index for n in g] for g in report.exact_duplicate_groups] == [[0, 1]]
    assert report.n_redundant == 3
    curve = report.svd_error_curve
    assert curve[0] == pytest.approx(1.0) and curve[-1] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(curve) <= 1e-12)
    assert 1.0 <= report.effective_rank <= 8.0
    json.dumps(report.to_dict())


def test_redundancy_effective_rank_of_isotropic_activations():
    stats = UnitStats(count=1, total=np.zeros(5), gram=np.eye(5))
    report = redundancy(np.eye(5), np.eye(5), stats)
    assert report.effective_rank == pytest.approx(5.0)
    assert report.rank_for_error(0.0) == 5


def test_redundancy_from_neuron_graph(planted_mlp):
    name = planted_mlp.group
    report = redundancy(
        planted_mlp.graph.incoming(name),
        planted_mlp.graph.outgoing(name),
        node_ids=planted_mlp.graph.node_ids[planted_mlp.graph.group_slice(name)],
        near_threshold=0.99,
    )
    assert len(report.duplicate_groups) == N_GROUPS


def test_normalized_cut_of_disconnected_blocks_is_zero():
    adjacency = sp.csr_array(sp.block_diag([np.ones((3, 3)), np.ones((2, 2))]))
    assert normalized_cut(adjacency, np.array([0, 0, 0, 1, 1])) == pytest.approx(0.0)
    assert normalized_cut(adjacency, np.array([0, 1, 0, 1, 1])) > 0


def test_clusterability_trained_vs_shuffled(planted_graph):
    result = clusterability(planted_graph, n_clusters=4, n_shuffles=5, random_state=0)
    assert result.shuffled_n_cuts.shape == (5,)
    # The planted graph is modular; its shuffles are not.
    assert result.n_cut < result.shuffled_n_cuts.min()
    assert result.z_score > 2 and result.p_value == pytest.approx(1 / 6)
    json.dumps(result.to_dict())


def test_clusterability_runs_on_a_model_graph(planted_mlp):
    result = clusterability(planted_mlp.graph, n_clusters=3, n_shuffles=3, random_state=0)
    assert np.isfinite(result.n_cut) and np.all(np.isfinite(result.shuffled_n_cuts))


def test_clusterability_invalid_parameters(planted_graph):
    with pytest.raises(InvalidParameterError, match="'n_shuffles' parameter"):
        clusterability(planted_graph, n_shuffles=0)
