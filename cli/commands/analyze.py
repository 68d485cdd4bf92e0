"""``netgraph analyze``: how redundant is each layer, and how far could it shrink?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from netgraph_cli.errors import BadInput, handle_errors
from netgraph_cli.options import (BatchSizeOpt, DataOpt, ModelArg, SamplesOpt, SeedOpt, UnsafePickleOpt, WeightsOpt,
                                  parse_formats)

__all__ = ["analyze", "run_analysis"]


def run_analysis(model_spec: str, data_spec: Optional[str], weights: Optional[Path], unsafe_pickle: bool, *,
                 samples: int, batch_size: int, seed: int, methods: list[str], shuffles: int):
    """Load and analyse; returns ``(report, graph)``."""
    from netgraph import NeuronGraph
    from netgraph.report import build_analysis_report
    from netgraph_cli.commands._shared import load_inputs
    from netgraph_cli.progress import steps

    model, example, info, data = load_inputs(model_spec, data_spec, weights, unsafe_pickle,
                                             samples=samples, batch_size=batch_size, seed=seed)
    data_info = None if data is None else {"source": data.source}
    labelled = None
    if data is not None and data.held_out and data.held_out_labels is not None:
        labelled = (data.held_out, data.held_out_labels)
    graph = NeuronGraph.from_model(model, example)
    with steps("Analysing") as progress:
        report = build_analysis_report(
            model, example, None if data is None else data.calibration, model_info=info.to_dict(), data_info=data_info,
            methods=methods, n_shuffles=shuffles, random_state=seed, progress=progress, graph=graph, labelled=labelled,
            held_out=None if data is None else data.held_out,
        )
    return report, graph


def _methods(text: str) -> list[str]:
    from netgraph import available_methods

    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in available_methods()]
    if unknown or not names:
        raise BadInput(f"Unknown --methods {', '.join(unknown) or repr(text)}; choose from {', '.join(available_methods())}.")
    return names


def report_figures(graph, report, seed: int):
    """(caption, figure, stem) triples embedded in analysis reports."""
    from netgraph.viz.gallery import report_figures as figures

    return figures(graph, report)


@handle_errors
def analyze(
    model: ModelArg,
    data: DataOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the report files.")] = None,
    format: Annotated[str, typer.Option(
        "--format", "-f", help="Comma-separated: html, md, json. Without --out, only 'json' (to stdout).")] = "html,md,json",
    methods: Annotated[str, typer.Option("--methods", help="Methods drawn in the reducibility curves.")] = "magnitude,activation,submodular",
    shuffles: Annotated[int, typer.Option("--shuffles", min=0, help="Weight-shuffled copies each block statistic is tested against (0: skip; 19+ for p < 0.05 to be possible).")] = 39,
    weights: WeightsOpt = None,
    unsafe_pickle: UnsafePickleOpt = False,
    samples: SamplesOpt = 512,
    batch_size: BatchSizeOpt = 128,
    seed: SeedOpt = 0,
) -> None:
    """Report per layer: dead units, duplicates, effective rank, SBM blocks, clusterability, and how far it can shrink.

    Prints tables; with --out also writes report.html (self-contained), report.md and report.json.
    """
    from netgraph_cli.commands._shared import check_output_dir
    from netgraph_cli.progress import status, stdout_console

    formats = parse_formats(format)
    to_stdout_json = out is None and format != "html,md,json"
    if to_stdout_json and formats != ["json"]:
        raise BadInput("--format html/md writes files; add --out DIR (without --out only --format json is printed).")
    if out is not None:
        check_output_dir(out)
    method_names = _methods(methods)
    report, graph = run_analysis(model, data, weights, unsafe_pickle, samples=samples, batch_size=batch_size,
                                 seed=seed, methods=method_names, shuffles=shuffles)
    from netgraph.report import print_report, to_json, write_report

    if to_stdout_json:
        typer.echo(to_json(report), nl=False)
        return
    print_report(report, stdout_console())
    if out is not None:
        from netgraph.report import staged_directory

        figures = report_figures(graph, report, seed) if ("html" in formats or "md" in formats) else []
        with staged_directory(out) as staging:
            write_report(report, staging, formats, figures)
        main = "report.html" if "html" in formats else "report.md" if "md" in formats else "report.json"
        status(f"Report written to {out / main}")
