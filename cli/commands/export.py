"""``netgraph export``: an original or reduced model as a file deployment tools run (ONNX)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from netgraph_cli.errors import BadInput, handle_errors
from netgraph_cli.options import DataOpt, ExportFormat, SeedOpt, UnsafePickleOpt, WeightsOpt

__all__ = ["export", "load_for_export", "write_export"]


def _recorded_model_spec(folder: Path) -> str | None:
    """The MODEL a reduced folder was made from, as its report.json records it."""
    report = folder / "report.json"
    if not report.is_file():
        return None
    try:
        return json.loads(report.read_text()).get("model", {}).get("spec")
    except (OSError, ValueError, AttributeError):
        return None


def load_for_export(source: str, model_spec: Optional[str], data_spec: Optional[str], weights: Optional[Path],
                    unsafe_pickle: bool, seed: int):
    """``(model, example_inputs)``: MODEL as given, or a reduced folder rebuilt on its original."""
    from netgraph.reduce.persistence import PLAN_FILE
    from netgraph_cli.commands._shared import load_inputs
    from netgraph_cli.progress import status

    folder = Path(source).expanduser()
    reduced_folder = folder.is_dir() and (folder / PLAN_FILE).is_file()
    if not reduced_folder:
        if model_spec is not None:
            raise BadInput("--model names the original of a reduced folder; MODEL_OR_REDUCED_DIR is not one "
                           f"(no {PLAN_FILE} in {source!r}).")
        model, example, _, _ = load_inputs(source, data_spec, weights, unsafe_pickle, samples=8, batch_size=8, seed=seed)
        return model, example
    spec = model_spec or _recorded_model_spec(folder)
    if spec is None:
        raise BadInput(f"{source!r} is a reduced model; name the model it was reduced from with --model "
                       "(e.g. --model zoo:cnn-digits), since its folder has no report.json recording it.")
    from netgraph import load_reduced

    original, example, _, _ = load_inputs(spec, data_spec, weights, unsafe_pickle, samples=8, batch_size=8, seed=seed)
    status(f"Rebuilding the reduced model in {source} …")
    return load_reduced(original, folder).eval(), example


def write_export(model, example, out: Path, format: str) -> str:
    """Write ``model`` to ``out`` in ``format``; returns the line that says what was written."""
    if format != "onnx":  # pragma: no cover - the Enum admits only onnx today
        raise BadInput(f"Unknown --format {format!r}; use onnx.")
    from netgraph.export import export_onnx

    result = export_onnx(model, example, out)
    return (f"Wrote {out} (inputs: {', '.join(result.input_names)}); onnxruntime reproduces PyTorch within "
            f"{result.relative_diff:.1e} relative (max abs {result.max_abs_diff:.1e}, limit {result.rtol:g}).")


@handle_errors
def export(
    source: Annotated[str, typer.Argument(
        metavar="MODEL_OR_REDUCED_DIR", show_default=False,
        help="A MODEL (zoo:NAME, a Hugging Face folder, package.module:factory) or a folder written by netgraph reduce.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write, e.g. model.onnx.")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="File format.")] = ExportFormat.onnx,
    model: Annotated[Optional[str], typer.Option(
        "--model", help="For a reduced folder: the MODEL it was reduced from (default: the one its report.json records).")] = None,
    data: DataOpt = None,
    weights: WeightsOpt = None,
    unsafe_pickle: UnsafePickleOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Export a model, original or reduced, for deployment: an ONNX file checked in onnxruntime.

    The batch dimension (and the sequence length of token inputs) stays dynamic. The file is
    written only if onnxruntime reproduces PyTorch's outputs within 1e-4 (relative).
    Needs the export extra: pip install 'netgraph\\[export]'.
    """
    from netgraph.atomic import check_writable
    from netgraph_cli.progress import status

    if out.suffix.lower() != f".{format.value}":
        raise BadInput(f"--out must end in .{format.value} for --format {format.value}; got {str(out)!r}.")
    check_writable(out.expanduser().absolute().parent, "Folder of --out")
    loaded, example = load_for_export(source, model, data, weights, unsafe_pickle, seed)
    status(f"Exporting to {format.value} …")
    typer.echo(write_export(loaded, example, out, format.value))
