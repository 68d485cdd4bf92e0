"""Layer-structure figures: they draw, save as PNG and SVG, and summarise big layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def graph():
    from netgraph import NeuronGraph

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 60), nn.ReLU(), nn.Linear(60, 6), nn.ReLU(), nn.Linear(6, 3))
    return NeuronGraph.from_model(model, torch.randn(4, 5))


def test_big_layers_are_drawn_by_block(graph):
    from netgraph.viz.layered import display_nodes

    blocks = {"0": np.arange(60) % 3}
    membership, drawn = display_nodes(graph, blocks, max_units=20)
    layer0 = [node for node in drawn if node["layer"] == "0"]
    assert len(layer0) == 3 and sum(node["size"] for node in layer0) == 60
    assert membership.shape == (graph.n_nodes, len(drawn))
    assert np.all(membership.sum(axis=1) == 1)


def test_every_figure_saves_png_and_svg(graph, tmp_path):
    from netgraph.viz import (block_heatmap_figure, block_summary_figure, embedding_pairplot_figure,
                              layered_graph_figure, redundancy_curves_figure, save_figure)

    labels = np.arange(60) % 2
    figures = {
        "layers": layered_graph_figure(graph, {"0": labels}),
        "summary": block_summary_figure(graph, {"0": labels}),
        "heatmap": block_heatmap_figure(graph, "0", labels),
        "embedding": embedding_pairplot_figure(graph, "0", labels, n_components=3),
        "curves": redundancy_curves_figure([{"group": "0", "units": 60, "curve": {
            "keep": [0.5, 1.0], "svd_bound": [0.1, 0.0], "methods": {"magnitude": [0.2, 0.0]}}}]),
        "no_curves": redundancy_curves_figure([]),
    }
    for stem, figure in figures.items():
        paths = save_figure(figure, tmp_path, stem)
        assert [p.suffix for p in paths] == [".png", ".svg"]
        assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in paths[1].read_bytes()[:2000]


def test_data_uri():
    from netgraph.viz import figure_to_data_uri
    from netgraph.viz.figures import new_figure

    figure = new_figure(2, 2)
    figure.add_subplot().plot([0, 1])
    assert figure_to_data_uri(figure).startswith("data:image/png;base64,iVBOR")
