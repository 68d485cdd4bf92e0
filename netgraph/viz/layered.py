"""The layered neuron graph and the block summary graph.

Large layers are drawn as their blocks (one node per block, sized by its unit count), so
a picture of a 300-unit layer stays readable; edges are summed weights between the drawn
nodes, and only the strongest per pair of layers are drawn.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import scipy.sparse as sp

from netgraph.viz.figures import block_colors, new_figure

__all__ = ["layered_graph_figure", "block_summary_figure", "display_nodes"]


def display_nodes(graph, blocks: Mapping[str, np.ndarray] | None, max_units: int, summarise_all: bool = False):
    """Map every graph node to a drawn node.

    Returns ``(membership, drawn)``: a sparse (n_nodes, n_drawn) 0/1 matrix and a list of
    dicts ``{layer, layer_index, label, size, block}`` for the drawn nodes.
    """
    blocks = dict(blocks or {})
    rows, cols, drawn = [], [], []
    position = 0
    for layer_index, layer in enumerate(graph.layers):
        nodes = graph.group_slice(layer)
        n = nodes.stop - nodes.start
        labels = blocks.get(layer)
        if labels is not None and len(labels) != n:
            labels = None
        if n <= max_units and not summarise_all:
            for unit in range(n):
                block = int(labels[unit]) if labels is not None else -1
                drawn.append({"layer": layer, "layer_index": layer_index, "label": f"{layer}[{unit}]", "size": 1, "block": block})
                rows.append(nodes.start + unit)
                cols.append(len(drawn) - 1)
            continue
        if labels is None:
            # No blocks known (an output layer): bins of consecutive units.
            n_bins = min(max_units // 4 or 1, n)
            labels = (np.arange(n) * n_bins) // n
            coloured = False
        else:
            coloured = True
        for block in np.unique(labels):
            members = np.flatnonzero(labels == block)
            drawn.append({
                "layer": layer, "layer_index": layer_index, "label": f"{layer}:{int(block)}",
                "size": int(members.size), "block": int(block) if coloured else -1,
            })
            rows.extend((nodes.start + members).tolist())
            cols.extend([len(drawn) - 1] * members.size)
        position += n
    membership = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(graph.n_nodes, len(drawn)))
    return membership, drawn


def _draw(figure, graph, membership, drawn, title: str, top_fraction: float) -> None:
    import networkx as nx

    weights = sp.csr_array(membership.T @ abs(sp.csr_array(graph.adjacency)) @ membership).tocoo()
    # Mean weight per pair of drawn nodes: summed weights would only say which blocks are big.
    sizes_drawn = np.array([node["size"] for node in drawn], dtype=float)
    weights.data = weights.data / (sizes_drawn[weights.row] * sizes_drawn[weights.col])
    network = nx.DiGraph()
    for index, node in enumerate(drawn):
        network.add_node(index, layer_index=node["layer_index"])
    pairs: dict[tuple[int, int], list] = {}
    for i, j, w in zip(weights.row, weights.col, weights.data):
        if w > 0 and i != j:
            pairs.setdefault((drawn[i]["layer_index"], drawn[j]["layer_index"]), []).append((int(i), int(j), float(w)))
    edges = []
    for items in pairs.values():
        items.sort(key=lambda e: -e[2])
        keep = max(1, int(np.ceil(top_fraction * len(items))))
        strongest = items[0][2]
        edges.extend((i, j, w / strongest) for i, j, w in items[:keep])
    network.add_weighted_edges_from(edges)
    positions = nx.multipartite_layout(network, subset_key="layer_index")
    axes = figure.add_subplot()
    n_blocks = max([node["block"] for node in drawn] + [0]) + 1
    palette = block_colors(n_blocks)
    colours = [palette[node["block"]] if node["block"] >= 0 else (0.6, 0.6, 0.6, 1.0) for node in drawn]
    sizes = np.array([node["size"] for node in drawn], dtype=float)
    node_sizes = 20 + 280 * np.sqrt(sizes / sizes.max())
    for i, j, w in edges:
        (x0, y0), (x1, y1) = positions[i], positions[j]
        axes.plot([x0, x1], [y0, y1], color="0.25", alpha=0.05 + 0.55 * w, linewidth=0.3 + 2.0 * w, zorder=1)
    xy = np.array([positions[i] for i in range(len(drawn))])
    axes.scatter(xy[:, 0], xy[:, 1], s=node_sizes, c=colours, edgecolors="black", linewidths=0.4, zorder=2)
    for layer_index, layer in enumerate(graph.layers):
        members = [i for i, node in enumerate(drawn) if node["layer_index"] == layer_index]
        if members:
            x = float(np.mean(xy[members, 0]))
            top = float(xy[members, 1].max())
            size = graph.group_slice(layer).stop - graph.group_slice(layer).start
            axes.annotate(f"{layer}\n({size})", (x, top), xytext=(0, 12), textcoords="offset points",
                          ha="center", va="bottom", fontsize=8)
    axes.set_title(title)
    axes.set_axis_off()
    axes.margins(0.08, 0.15)


def layered_graph_figure(graph, blocks: Mapping[str, np.ndarray] | None = None, *, max_units: int = 40,
                         top_fraction: float = 0.35):
    """Units by layer, edges by weight, coloured by SBM block; layers over ``max_units`` drawn by block.

    Parameters
    ----------
    graph : NeuronGraph
    blocks : {layer name: block label per unit}, optional
    max_units : layers with more units are summarised by block
    top_fraction : share of the strongest edges drawn between each pair of layers
    """
    membership, drawn = display_nodes(graph, blocks, max_units)
    figure = new_figure(max(6.0, 2.2 * len(graph.layers)), 6.0)
    _draw(figure, graph, membership, drawn, "Neuron graph (colour: SBM block; big layers drawn by block)", top_fraction)
    return figure


def block_summary_figure(graph, blocks: Mapping[str, np.ndarray] | None = None, *, top_fraction: float = 0.5):
    """Every layer drawn as its blocks: the quotient graph of the block partition."""
    membership, drawn = display_nodes(graph, blocks, max_units=0, summarise_all=True)
    figure = new_figure(max(6.0, 2.2 * len(graph.layers)), 5.0)
    _draw(figure, graph, membership, drawn, "Block summary graph (node size: units in block)", top_fraction)
    return figure
