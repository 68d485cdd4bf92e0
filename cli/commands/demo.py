"""``netgraph demo``: the quick start on a built-in model, end to end, in about a minute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netgraph_cli.errors import handle_errors

__all__ = ["demo"]

DEMO_MODEL = "zoo:mlp-digits"


@handle_errors
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo's reports and reduced model.")] = Path("out/demo"),
    keep: Annotated[float, typer.Option("--keep", help="Fraction of units to keep.")] = 0.25,
    epochs: Annotated[int, typer.Option("--epochs", min=0, help="Fine-tuning epochs after the reduction.")] = 3,
) -> None:
    """Train (first run only, cached) a small digits MLP, analyse it, reduce it with SBM + least squares,
    fine-tune it and write the reports."""
    from netgraph_cli.commands._shared import check_keep, check_output_dir
    from netgraph_cli.commands.analyze import report_figures, run_analysis
    from netgraph_cli.commands.reduce import run_reduction
    from netgraph_cli.progress import status, stdout_console

    check_keep(keep)  # before the analysis, not after it
    check_output_dir(out)
    report, graph = run_analysis(DEMO_MODEL, None, None, False, samples=512, batch_size=128, seed=0,
                                 methods=["magnitude", "activation", "submodular"], shuffles=3)
    from netgraph import save_reduced
    from netgraph.report import print_report, staged_directory, write_report
    from netgraph.viz import draw_all

    console = stdout_console()
    print_report(report, console)
    _, reduced, plan, reduction = run_reduction(
        DEMO_MODEL, None, None, False, keep=keep, method="sbm", fold="lstsq", groups=None, finetune_epochs=epochs,
        distill=False, lr=1e-3, samples=512, batch_size=128, seed=0,
    )
    print_report(reduction, console)
    with staged_directory(out) as staging:
        write_report(report, staging / "analysis", ("html", "md", "json"), report_figures(graph, report, 0))
        draw_all(graph, report, staging / "pictures", formats=("png", "svg"))
        save_reduced(reduced, plan, staging / "reduced")
        write_report(reduction, staging / "reduced", ("html", "md", "json"))
    status("Done.")
    typer.echo(f"Analysis report: {out / 'analysis' / 'report.html'}")
    typer.echo(f"Reduction report: {out / 'reduced' / 'report.html'}")
    typer.echo(f"Reduced model: {out / 'reduced'} (plan.json + model.safetensors)")
