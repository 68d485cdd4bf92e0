"""Each picture encodes what its caption claims: colours = blocks, boundaries = blocks − 1,
every block keeps an edge, nodes of a layer never overlap."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def graph():
    from netgraph import NeuronGraph

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 60), nn.ReLU(), nn.Linear(60, 12), nn.ReLU(), nn.Linear(12, 3))
    return NeuronGraph.from_model(model, torch.randn(4, 5))


def _scatter_colours(figure) -> set:
    from matplotlib.collections import PathCollection

    colours = set()
    for axes in figure.axes:
        for collection in axes.collections:
            if isinstance(collection, PathCollection) and len(collection.get_offsets()):
                colours.update(tuple(np.round(c, 4)) for c in collection.get_facecolors())
    return colours


@pytest.mark.parametrize("n_blocks", [1, 3, 5])
def test_embedding_has_one_colour_per_block(graph, n_blocks):
    from netgraph.viz import embedding_pairplot_figure

    labels = np.arange(60) % n_blocks
    figure = embedding_pairplot_figure(graph, "0", labels, n_components=3)
    assert len(_scatter_colours(figure)) == n_blocks
    assert figure.netgraph_info["n_blocks"] == n_blocks
    assert f"{n_blocks} block" in figure._suptitle.get_text()


@pytest.mark.parametrize("n_blocks", [1, 2, 4])
def test_heatmap_draws_block_boundaries_on_both_axes(graph, n_blocks):
    from netgraph.viz import block_heatmap_figure

    labels = np.arange(60) % n_blocks
    figure = block_heatmap_figure(graph, "0", labels)
    similarity_axes = figure.axes[0]
    horizontal = [line for line in similarity_axes.lines if np.ptp(line.get_ydata()) == 0]
    vertical = [line for line in similarity_axes.lines if np.ptp(line.get_xdata()) == 0]
    assert len(horizontal) == len(vertical) == n_blocks - 1
    assert f"({n_blocks} block" in similarity_axes.get_title()
    # Sorted by block: boundaries sit where the sorted labels change.
    assert figure.netgraph_info["boundaries"] == [60 // n_blocks * k - 0.5 for k in range(1, n_blocks)]


def test_every_block_keeps_an_edge_and_nodes_do_not_overlap(graph):
    from netgraph.viz import block_summary_figure, layered_graph_figure

    blocks = {"0": np.arange(60) % 6, "2": np.arange(12) % 3}
    for figure in (layered_graph_figure(graph, blocks, max_units=10), block_summary_figure(graph, blocks)):
        drawn, edges = figure.netgraph_drawn, figure.netgraph_edges
        touched = {i for i, _, _ in edges} | {j for _, j, _ in edges}
        assert touched == set(range(len(drawn)))  # no floating block
        positions = {}
        for node in drawn:
            positions.setdefault(node["layer_index"], 0)
            positions[node["layer_index"]] += 1
        from netgraph.viz.layered import node_positions

        xy = node_positions(drawn)
        assert len({tuple(p) for p in np.round(xy, 6)}) == len(drawn)


def test_report_figures_put_curves_and_tested_heatmaps_first(graph):
    from netgraph.viz.gallery import report_figures

    report = {"groups": [
        {"group": "0", "units": 60, "structure": "0 has 3 blocks, more modular than 97 % of 39 copies",
         "blocks": {"labels": (np.arange(60) % 3).tolist(), "chance": {"beyond_chance": True}},
         "curve": {"keep": [0.5, 1.0], "svd_bound": [0.1, 0.0], "methods": {"activation": [0.2, 0.0]}}},
        {"group": "2", "units": 12, "structure": "2: no block structure beyond chance",
         "blocks": {"labels": [0] * 12, "chance": {"beyond_chance": False}}, "curve": None},
    ]}
    stems = [stem for _, _, stem in report_figures(graph, report)]
    assert stems == ["redundancy_curves", "heatmap_0", "neuron_graph", "block_summary"]
