"""Per-group redundancy curves: reconstruction error vs. keep fraction, with the SVD bound."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from netgraph.viz.figures import new_figure

__all__ = ["redundancy_curves_figure"]


def redundancy_curves_figure(groups: Sequence[Mapping[str, Any]]):
    """One panel per analysed group (entries of an analysis report's ``groups`` with a curve).

    Errors are drawn on a log scale; the dashed black line is the rank-k SVD floor.
    """
    entries = [g for g in groups if g.get("curve")]
    n = max(len(entries), 1)
    columns = min(n, 3)
    rows = int(np.ceil(n / columns))
    figure = new_figure(4.2 * columns, 3.4 * rows)
    axes_grid = figure.subplots(rows, columns, squeeze=False)
    floor = 1e-6
    for index, axes in enumerate(np.ravel(axes_grid)):
        if index >= len(entries):
            axes.set_axis_off()
            if not entries:
                axes.text(0.5, 0.5, "No curves: give calibration data (--data)", ha="center", va="center")
            continue
        entry = entries[index]
        curve = entry["curve"]
        keep = curve["keep"]
        for method, errors in curve["methods"].items():
            axes.plot(keep, np.maximum(errors, floor), marker="o", markersize=3, label=method)
        axes.plot(keep, np.maximum(curve["svd_bound"], floor), color="black", linestyle="--", label="SVD bound")
        for level in (0.01, 0.05):
            axes.axhline(level, color="0.7", linewidth=0.6, linestyle=":")
        axes.set_yscale("log")
        axes.set_xlabel("keep fraction")
        axes.set_ylabel("unexplained variance")
        axes.set_title(f"{entry['group']} ({entry['units']} units)", fontsize=9)
        axes.legend(fontsize=7)
    return figure
