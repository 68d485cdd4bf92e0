"""Saving figures: files (PNG + SVG) and base64 data URIs for self-contained HTML."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Sequence

__all__ = ["new_figure", "save_figure", "figure_to_data_uri", "block_colors"]

# Fixed metadata so the same figure gives the same bytes (no dates, no version strings).
_PNG_METADATA = {"Software": None}
_SVG_METADATA = {"Date": None, "Creator": None}


def new_figure(width: float, height: float):
    """A pyplot-free Figure with an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, directory: str | os.PathLike, stem: str, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``directory/stem.png`` and ``.svg``; return the paths."""
    import matplotlib

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context({"svg.hashsalt": "netgraph"}):
        for kind in formats:
            path = directory / f"{stem}.{kind}"
            metadata = _PNG_METADATA if kind == "png" else _SVG_METADATA if kind == "svg" else None
            figure.savefig(path, format=kind, metadata=metadata)
            paths.append(path)
    return paths


def figure_to_data_uri(figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (nothing to fetch when viewed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata=_PNG_METADATA)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def block_colors(n: int):
    """``n`` distinct colours (tab10, then tab20, then a continuous map)."""
    import matplotlib

    if n <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(max(n, 1))]
    if n <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(n)]
    cmap = matplotlib.colormaps["turbo"]
    return [cmap(i / max(n - 1, 1)) for i in range(n)]
