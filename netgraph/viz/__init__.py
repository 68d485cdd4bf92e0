"""Pictures of a network's layer structure (matplotlib, Agg; PNG and SVG).

Every function returns a ``matplotlib.figure.Figure`` built without pyplot, so nothing
depends on a display or on global figure state; :func:`save_figure` writes PNG and SVG.

Examples
--------
>>> from netgraph.viz import layered_graph_figure, save_figure   # doctest: +SKIP
>>> save_figure(layered_graph_figure(graph, blocks), "out", "layers")  # doctest: +SKIP
"""

from netgraph.viz.curves import redundancy_curves_figure
from netgraph.viz.figures import figure_to_data_uri, save_figure
from netgraph.viz.layered import block_summary_figure, layered_graph_figure
from netgraph.viz.matrices import block_heatmap_figure, embedding_pairplot_figure
from netgraph.viz.gallery import draw_all

__all__ = [
    "block_heatmap_figure",
    "block_summary_figure",
    "draw_all",
    "embedding_pairplot_figure",
    "figure_to_data_uri",
    "layered_graph_figure",
    "redundancy_curves_figure",
    "save_figure",
]
