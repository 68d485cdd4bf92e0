"""All layer-structure pictures of a model at once, from its graph and analysis report."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from netgraph.viz.curves import redundancy_curves_figure
from netgraph.viz.figures import save_figure
from netgraph.viz.layered import block_summary_figure, layered_graph_figure
from netgraph.viz.matrices import block_heatmap_figure, embedding_pairplot_figure

__all__ = ["draw_all", "blocks_from_report", "safe_stem", "report_figures"]


def safe_stem(name: str) -> str:
    """A file-name-safe version of a group name (``layer1.0.conv1`` → ``layer1.0.conv1``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "group"


def blocks_from_report(report: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {g["group"]: np.asarray(g["blocks"]["labels"]) for g in report.get("groups", []) if g.get("blocks")}


def report_figures(graph, report: Mapping[str, Any], *, max_heatmaps: int = 4):
    """(caption, figure, stem) triples for an analysis report, most useful first.

    The redundancy curves (what engineers act on), block-sorted heatmaps of the groups
    whose blocks are beyond chance (up to ``max_heatmaps``, else of the first groups), the
    layered neuron graph and the block summary graph.
    """
    blocks = blocks_from_report(report)
    groups = list(report.get("groups", []))
    figures = []
    if any(g.get("curve") for g in groups):
        figures.append(("Reducibility: unexplained variance vs keep fraction, per method, with the SVD bound",
                        redundancy_curves_figure(groups), "redundancy_curves"))
    tested = [g for g in groups if ((g.get("blocks") or {}).get("chance") or {}).get("beyond_chance")]
    for entry in (tested or groups)[:max_heatmaps]:
        name = entry["group"]
        figures.append((f"{name}: {entry.get('structure') or 'block-sorted weights'}",
                        block_heatmap_figure(graph, name, blocks.get(name)), f"heatmap_{safe_stem(name)}"))
    figures.append(("Layered neuron graph, coloured by block (each node keeps its strongest edges)",
                    layered_graph_figure(graph, blocks), "neuron_graph"))
    figures.append(("Block summary graph", block_summary_figure(graph, blocks), "block_summary"))
    return figures


def draw_all(graph, report: Mapping[str, Any], directory: str | os.PathLike, *, random_state: int = 0,
             formats=("png", "svg"), progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Write every picture into ``directory`` and return the paths.

    Files: ``neuron_graph``, ``block_summary``, ``redundancy_curves``, and per group
    ``heatmap_<group>``, ``embedding_<group>`` (each ``.png`` and ``.svg``).
    """
    blocks = blocks_from_report(report)
    jobs: list[tuple[str, Callable[[], Any]]] = [
        ("neuron_graph", lambda: layered_graph_figure(graph, blocks)),
        ("block_summary", lambda: block_summary_figure(graph, blocks)),
        ("redundancy_curves", lambda: redundancy_curves_figure(report.get("groups", []))),
    ]
    for name in graph.group_names:
        labels = blocks.get(name)
        jobs.append((f"heatmap_{safe_stem(name)}", lambda name=name, labels=labels: block_heatmap_figure(graph, name, labels)))
        jobs.append((
            f"embedding_{safe_stem(name)}",
            lambda name=name, labels=labels: embedding_pairplot_figure(graph, name, labels, random_state=random_state),
        ))
    paths: list[Path] = []
    for step, (stem, make) in enumerate(jobs):
        if progress is not None:
            progress(stem, step, len(jobs))
        paths.extend(save_figure(make(), directory, stem, formats))
    if progress is not None:
        progress("done", len(jobs), len(jobs))
    return paths
