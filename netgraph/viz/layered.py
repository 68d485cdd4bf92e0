"""The layered neuron graph and the block summary graph.

Large layers are drawn as their blocks (one node per block, sized by its unit count), so
a picture of a 300-unit layer stays readable. Edges are mean weights between the drawn
nodes; every drawn node keeps its strongest outgoing edges and its strongest incoming one
(so no block looks disconnected when it is not), plus the strongest share of the rest.
Nodes are spread evenly within their layer, so blocks never overlap.
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


def strongest_edges(graph, membership, drawn, *, per_block: int = 2, top_fraction: float = 0.0):
    """Edges between drawn nodes that keep every block connected.

    Mean weight per pair of drawn nodes (summed weights would only say which blocks are
    big). Each drawn node keeps its ``per_block`` strongest outgoing and its strongest
    incoming edge, so no block with any weight is left floating; ``top_fraction`` adds the
    strongest share of the rest of each pair of layers. Returns ``[(i, j, w / w_max)]``.
    """
    weights = sp.csr_array(membership.T @ abs(sp.csr_array(graph.adjacency)) @ membership).tocoo()
    sizes = np.array([node["size"] for node in drawn], dtype=float)
    mean = weights.data / (sizes[weights.row] * sizes[weights.col])
    candidates = [(int(i), int(j), float(w)) for i, j, w in zip(weights.row, weights.col, mean) if w > 0 and i != j]
    chosen: set[tuple[int, int]] = set()
    by_source: dict[int, list] = {}
    by_target: dict[int, list] = {}
    by_layers: dict[tuple[int, int], list] = {}
    for edge in candidates:
        by_source.setdefault(edge[0], []).append(edge)
        by_target.setdefault(edge[1], []).append(edge)
        by_layers.setdefault((drawn[edge[0]]["layer_index"], drawn[edge[1]]["layer_index"]), []).append(edge)
    for edges in by_source.values():
        chosen.update((i, j) for i, j, _ in sorted(edges, key=lambda e: -e[2])[:per_block])
    for edges in by_target.values():
        i, j, _ = max(edges, key=lambda e: e[2])
        chosen.add((i, j))
    if top_fraction > 0:
        for edges in by_layers.values():
            keep = int(np.ceil(top_fraction * len(edges)))
            chosen.update((i, j) for i, j, _ in sorted(edges, key=lambda e: -e[2])[:keep])
    strength = {(i, j): w for i, j, w in candidates}
    edges = [(i, j, strength[(i, j)]) for i, j in sorted(chosen)]
    # Scale within each pair of layers, so a weak layer pair is still drawn visibly.
    scale: dict[tuple[int, int], float] = {}
    for i, j, w in edges:
        key = (drawn[i]["layer_index"], drawn[j]["layer_index"])
        scale[key] = max(scale.get(key, 0.0), w)
    return [(i, j, w / scale[(drawn[i]["layer_index"], drawn[j]["layer_index"])]) for i, j, w in edges]


def node_positions(drawn) -> np.ndarray:
    """x = layer, y evenly spread within the layer (blocks in order), so nodes never overlap."""
    xy = np.zeros((len(drawn), 2))
    layers: dict[int, list[int]] = {}
    for index, node in enumerate(drawn):
        layers.setdefault(node["layer_index"], []).append(index)
    for layer_index, members in layers.items():
        count = len(members)
        for rank, index in enumerate(members):
            xy[index] = (layer_index, 0.0 if count == 1 else 1.0 - 2.0 * rank / (count - 1))
    return xy


def _draw(figure, graph, membership, drawn, title: str, top_fraction: float, per_block: int = 2):
    edges = strongest_edges(graph, membership, drawn, per_block=per_block, top_fraction=top_fraction)
    axes = figure.add_subplot()
    n_blocks = max([node["block"] for node in drawn] + [0]) + 1
    palette = block_colors(n_blocks)
    colours = [palette[node["block"]] if node["block"] >= 0 else (0.6, 0.6, 0.6, 1.0) for node in drawn]
    sizes = np.array([node["size"] for node in drawn], dtype=float)
    xy = node_positions(drawn)
    most = max(np.bincount([node["layer_index"] for node in drawn]).max(), 1)
    # Largest marker about as tall as the gap between nodes of the fullest layer.
    node_sizes = (20 + 280 * np.sqrt(sizes / sizes.max())) * min(1.0, 12.0 / most)
    for i, j, w in edges:
        (x0, y0), (x1, y1) = xy[i], xy[j]
        axes.plot([x0, x1], [y0, y1], color="0.25", alpha=0.15 + 0.6 * w, linewidth=0.4 + 2.2 * w, zorder=1)
    axes.scatter(xy[:, 0], xy[:, 1], s=node_sizes, c=colours, edgecolors="black", linewidths=0.4, zorder=2)
    for layer_index, layer in enumerate(graph.layers):
        members = [i for i, node in enumerate(drawn) if node["layer_index"] == layer_index]
        if members:
            size = graph.group_slice(layer).stop - graph.group_slice(layer).start
            axes.annotate(f"{layer}\n({size})", (layer_index, 1.0), xytext=(0, 14), textcoords="offset points",
                          ha="center", va="bottom", fontsize=8)
    axes.set_title(title)
    axes.set_axis_off()
    axes.margins(0.08, 0.15)
    figure.netgraph_edges = edges
    figure.netgraph_drawn = drawn
    return edges


def layered_graph_figure(graph, blocks: Mapping[str, np.ndarray] | None = None, *, max_units: int = 40,
                         top_fraction: float = 0.1, per_block: int = 2):
    """Units by layer, edges by weight, coloured by SBM block; layers over ``max_units`` drawn by block.

    Parameters
    ----------
    graph : NeuronGraph
    blocks : {layer name: block label per unit}, optional
    max_units : layers with more units are summarised by block
    top_fraction : share of the remaining strongest edges drawn between each pair of layers
    per_block : strongest outgoing edges kept for every drawn node (unit or block)
    """
    membership, drawn = display_nodes(graph, blocks, max_units)
    figure = new_figure(max(6.0, 2.2 * len(graph.layers)), 6.0)
    _draw(figure, graph, membership, drawn, "Neuron graph (colour: block within its layer)", top_fraction, per_block)
    return figure


def block_summary_figure(graph, blocks: Mapping[str, np.ndarray] | None = None, *, top_fraction: float = 0.25,
                         per_block: int = 2):
    """Every layer drawn as its blocks: the quotient graph of the block partition."""
    membership, drawn = display_nodes(graph, blocks, max_units=0, summarise_all=True)
    figure = new_figure(max(6.0, 2.2 * len(graph.layers)), 5.0)
    _draw(figure, graph, membership, drawn, "Block summary graph (node size: units in block)", top_fraction, per_block)
    return figure
