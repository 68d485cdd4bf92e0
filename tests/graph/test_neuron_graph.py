import numpy as np
import torch

from netgraph import NeuronGraph, NeuronId


def test_edges_are_weight_magnitudes(tiny_mlp):
    graph = NeuronGraph.from_model(tiny_mlp, torch.randn(2, 10))
    assert graph.layers == ["0", "2", "4"]
    first, second = graph.group_slice("0"), graph.group_slice("2")
    block = graph.adjacency.toarray()[first, second]
    np.testing.assert_allclose(block, tiny_mlp[2].weight.detach().abs().numpy().T, rtol=1e-6)
    assert graph.node_ids[second.start] == NeuronId("2", 0)


def test_conv_edges_are_kernel_frobenius_norms(tiny_cnn):
    graph = NeuronGraph.from_model(tiny_cnn, torch.randn(2, 1, 8, 8))
    block = graph.adjacency.toarray()[graph.group_slice("conv1"), graph.group_slice("conv2")]
    expected = tiny_cnn.conv2.weight.detach().pow(2).sum((2, 3)).sqrt().numpy().T
    np.testing.assert_allclose(block, expected, rtol=1e-6)
    # The head reads 4 flattened columns per channel: one edge per channel and class.
    assert graph.adjacency.toarray()[graph.group_slice("conv2"), graph.group_slice("fc")].shape == (8, 5)


def test_incoming_folds_batchnorm(tiny_cnn):
    graph = NeuronGraph.from_model(tiny_cnn, torch.randn(2, 1, 8, 8))
    bn = tiny_cnn.bn1
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().double().numpy()
    expected = tiny_cnn.conv1.weight.detach().double().reshape(6, -1).numpy() * scale[:, None]
    np.testing.assert_allclose(graph.incoming("conv1")[:, :-1], expected, rtol=1e-6)


def test_to_networkx_keeps_ids_and_weights(tiny_mlp):
    graph = NeuronGraph.from_model(tiny_mlp, torch.randn(2, 10))
    nx_graph = graph.to_networkx()
    assert nx_graph.number_of_nodes() == graph.n_nodes
    assert nx_graph.number_of_edges() == graph.adjacency.nnz
    weight = nx_graph[NeuronId("0", 3)][NeuronId("2", 5)]["weight"]
    assert abs(weight - abs(float(tiny_mlp[2].weight[5, 3].detach()))) < 1e-6
    assert nx_graph.nodes[NeuronId("2", 0)]["layer_index"] == 1
