"""Block-sorted heatmaps and embedding pair plots of one group's units.

Both pictures show the blocks the analysis claims: the heatmap sorts units by block and
draws the block boundaries on both axes (graspologic's ``adjplot`` idea in plain
matplotlib), the pair plot colours each unit by its block, one colour per block, and says
how many there are. Figures carry what they encode (``figure.netgraph_info``) so tests
can check a picture against its caption.
"""

from __future__ import annotations

import numpy as np

from netgraph.viz.figures import block_colors, new_figure

__all__ = ["block_heatmap_figure", "embedding_pairplot_figure", "block_order", "unit_similarity"]


def block_order(labels: np.ndarray | None, n: int) -> np.ndarray:
    """Unit order that puts each block's units together (stable inside a block)."""
    if labels is None:
        return np.arange(n)
    return np.argsort(np.asarray(labels), kind="stable")


def unit_similarity(graph, group: str) -> np.ndarray:
    """Cosine similarity of the units' ``[incoming / ‖in‖, outgoing / ‖out‖]`` weight profiles."""

    def unit_rows(matrix: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)

    incoming = np.asarray(graph.incoming(group), dtype=float)
    outgoing = np.asarray(graph.outgoing(group), dtype=float)
    rows = unit_rows(np.hstack([unit_rows(incoming), unit_rows(outgoing)]))
    return rows @ rows.T


def _boundaries(sorted_labels: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.diff(sorted_labels)) + 0.5


def block_heatmap_figure(graph, group: str, labels: np.ndarray | None = None):
    """Left: unit-by-unit profile similarity sorted by block, block boundaries on both axes.
    Right: |outgoing weights| with rows in the same order (into the next layer).

    A group with real blocks shows bright squares on the diagonal; without structure the
    squares look like the rest of the matrix.
    """
    similarity = unit_similarity(graph, group)
    outgoing = np.abs(np.asarray(graph.outgoing(group), dtype=float))
    n = similarity.shape[0]
    order = block_order(labels, n)
    sorted_labels = np.zeros(n, dtype=int) if labels is None else np.asarray(labels)[order]
    n_blocks = int(np.unique(sorted_labels).size)
    figure = new_figure(11.0, 5.0)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.0]})
    image = left.imshow(similarity[np.ix_(order, order)], aspect="equal", interpolation="nearest", cmap="RdBu_r",
                        vmin=-1, vmax=1)
    figure.colorbar(image, ax=left, label="cosine of weight profiles", shrink=0.8)
    edges = _boundaries(sorted_labels)
    for edge in edges:
        left.axhline(edge, color="black", linewidth=0.8)
        left.axvline(edge, color="black", linewidth=0.8)
        right.axhline(edge, color="cyan", linewidth=0.8)
    left.set_title(f"{group}: units sorted by block ({n_blocks} block{'s' if n_blocks != 1 else ''})", fontsize=10)
    left.set_xlabel("unit (sorted by block)")
    left.set_ylabel("unit (sorted by block)")
    image = right.imshow(outgoing[order], aspect="auto", interpolation="nearest", cmap="magma")
    figure.colorbar(image, ax=right, label="|weight|", shrink=0.8)
    right.set_xlabel("input of the next layer")
    right.set_ylabel("unit (same order)")
    right.set_title(f"{group}: outgoing weights", fontsize=10)
    figure.netgraph_info = {"n_blocks": n_blocks, "boundaries": edges.tolist()}
    return figure


def embedding_pairplot_figure(graph, group: str, labels: np.ndarray | None = None, *, n_components: int = 4,
                              random_state: int = 0):
    """Scatter matrix of the first spectral coordinates of a group's units, one colour per block."""
    from netgraph.analysis import embed_units

    n_units = graph.group_slice(group).stop - graph.group_slice(group).start
    dimension = int(max(1, min(n_components, n_units - 1)))
    embedding = embed_units(graph, group, n_components=dimension, random_state=random_state)
    points = embedding.coordinates
    dimension = points.shape[1]
    figure = new_figure(2.2 * max(dimension, 2), 2.2 * max(dimension, 2))
    label_array = np.zeros(points.shape[0], dtype=int) if labels is None else np.asarray(labels)
    blocks = np.unique(label_array)
    palette = block_colors(int(label_array.max()) + 1)
    axes_grid = figure.subplots(dimension, dimension, squeeze=False)
    marker = float(min(30.0, max(6.0, 600.0 / max(points.shape[0], 1))))  # small groups get visible dots
    for i in range(dimension):
        for j in range(dimension):
            axes = axes_grid[i][j]
            for block in blocks:
                members = label_array == block
                if i == j:
                    axes.hist(points[members, i], bins=20, color=palette[int(block)], alpha=0.6)
                else:
                    axes.scatter(points[members, j], points[members, i], s=marker, color=palette[int(block)], linewidths=0)
            axes.tick_params(labelsize=6)
            if i == dimension - 1:
                axes.set_xlabel(f"dim {j + 1}", fontsize=7)
            if j == 0:
                axes.set_ylabel(f"dim {i + 1}", fontsize=7)
    what = "no blocks given" if labels is None else f"{blocks.size} block{'s' if blocks.size != 1 else ''}, one colour each"
    figure.suptitle(f"{group}: spectral embedding of units ({what})")
    figure.netgraph_info = {"n_blocks": int(blocks.size), "colours": [tuple(palette[int(b)]) for b in blocks]}
    return figure
