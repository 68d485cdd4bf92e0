"""``netgraph visualize``: pictures of the layer structure (PNG and SVG)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netgraph_cli.errors import handle_errors
from netgraph_cli.options import BatchSizeOpt, DataOpt, ModelArg, SamplesOpt, SeedOpt, UnsafePickleOpt, WeightsOpt

__all__ = ["visualize"]


@handle_errors
def visualize(
    model: ModelArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the pictures.")],
    data: DataOpt = None,
    weights: WeightsOpt = None,
    unsafe_pickle: UnsafePickleOpt = False,
    samples: SamplesOpt = 512,
    batch_size: BatchSizeOpt = 128,
    seed: SeedOpt = 0,
) -> None:
    """Draw the layered neuron graph, block-sorted heatmaps, embedding pair plots, the block summary graph
    and redundancy curves."""
    from netgraph_cli.commands._shared import check_output_dir
    from netgraph_cli.commands.analyze import run_analysis
    from netgraph_cli.progress import status, steps

    check_output_dir(out)
    report, graph = run_analysis(model, data, weights, unsafe_pickle, samples=samples, batch_size=batch_size,
                                 seed=seed, methods=["magnitude", "activation", "submodular"], shuffles=0)
    from netgraph.report import staged_directory
    from netgraph.viz import draw_all

    with staged_directory(out) as staging, steps("Drawing") as progress:
        paths = draw_all(graph, report, staging, random_state=seed, progress=progress)
    status(f"{len(paths)} pictures written to {out}")
    for path in paths:
        typer.echo(str(out / path.name))
