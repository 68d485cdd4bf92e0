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

__all__ = ["draw_all", "blocks_from_report", "safe_stem"]


def safe_stem(name: str) -> str:
    """A file-name-safe version of a group name (``layer1.0.conv1`` → ``layer1.0.conv1``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "group"


def blocks_from_report(report: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {g["group"]: np.asarray(g["blocks"]["labels"]) for g in report.get("groups", []) if g.get("blocks")}


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
