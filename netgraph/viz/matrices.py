"""Block-sorted weight heatmaps and embedding pair plots of one group's units."""

from __future__ import annotations

import numpy as np

from netgraph.viz.figures import block_colors, new_figure

__all__ = ["block_heatmap_figure", "embedding_pairplot_figure", "block_order"]


def block_order(labels: np.ndarray | None, n: int) -> np.ndarray:
    """Unit order that puts each block's units together (stable inside a block)."""
    if labels is None:
        return np.arange(n)
    return np.argsort(np.asarray(labels), kind="stable")


def block_heatmap_figure(graph, group: str, labels: np.ndarray | None = None):
    """|outgoing weights| of a group's units (rows sorted by block) into the next layer.

    Columns are sorted by the next group's blocks when it has them; lines mark block edges.
    """
    outgoing = np.abs(np.asarray(graph.outgoing(group), dtype=float))
    rows = block_order(labels, outgoing.shape[0])
    matrix = outgoing[rows]
    figure = new_figure(6.5, 5.0)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, aspect="auto", interpolation="nearest", cmap="magma")
    figure.colorbar(image, ax=axes, label="|weight|")
    if labels is not None:
        sorted_labels = np.asarray(labels)[rows]
        for edge in np.flatnonzero(np.diff(sorted_labels)) + 0.5:
            axes.axhline(edge, color="cyan", linewidth=0.6)
    axes.set_xlabel("outgoing weight (next layer input)")
    axes.set_ylabel(f"unit of {group} (sorted by block)")
    axes.set_title(f"{group}: block-sorted outgoing weights")
    return figure


def embedding_pairplot_figure(graph, group: str, labels: np.ndarray | None = None, *, n_components: int = 4,
                              random_state: int = 0):
    """Scatter matrix of the first spectral coordinates of a group's units, coloured by block."""
    from netgraph.analysis import embed_units

    n_units = graph.group_slice(group).stop - graph.group_slice(group).start
    dimension = int(max(1, min(n_components, n_units - 1)))
    embedding = embed_units(graph, group, n_components=dimension, random_state=random_state)
    points = embedding.coordinates
    dimension = points.shape[1]
    figure = new_figure(2.2 * max(dimension, 2), 2.2 * max(dimension, 2))
    label_array = np.zeros(points.shape[0], dtype=int) if labels is None else np.asarray(labels)
    palette = block_colors(int(label_array.max()) + 1)
    colours = [palette[int(b)] for b in label_array]
    axes_grid = figure.subplots(dimension, dimension, squeeze=False)
    for i in range(dimension):
        for j in range(dimension):
            axes = axes_grid[i][j]
            if i == j:
                for block in np.unique(label_array):
                    axes.hist(points[label_array == block, i], bins=20, color=palette[int(block)], alpha=0.6)
            else:
                axes.scatter(points[:, j], points[:, i], s=6, c=colours, linewidths=0)
            axes.tick_params(labelsize=6)
            if i == dimension - 1:
                axes.set_xlabel(f"dim {j + 1}", fontsize=7)
            if j == 0:
                axes.set_ylabel(f"dim {i + 1}", fontsize=7)
    figure.suptitle(f"{group}: spectral embedding of units (colour: block)")
    return figure
