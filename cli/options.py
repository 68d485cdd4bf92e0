"""Choices and options shared by several commands (``str`` Enums, so Typer lists them)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["Method", "METHOD_CHOICES", "Fold", "Format", "ExportFormat", "parse_formats", "ModelArg", "DataOpt", "WeightsOpt", "UnsafePickleOpt",
           "SeedOpt", "SamplesOpt", "BatchSizeOpt"]


def _method_names() -> list[str]:
    """Method names from netgraph's registry catalog (cheap: no torch), plus plug-ins named in
    ``NETGRAPH_PLUGINS`` (those are imported to learn their names)."""
    from netgraph.select.catalog import declared_method_names

    names = declared_method_names()
    if names is None:
        from netgraph.select import available_methods

        names = available_methods()
    return names


# Selection methods, derived from netgraph's method registry (netgraph.select.catalog).
Method = Enum("Method", {name.replace("-", "_"): name for name in _method_names()}, type=str)
# Choices spelled out in the help text: Rich wraps a long "<a|b|c>" metavar mid-word at 80 columns.
METHOD_CHOICES = ", ".join(member.value for member in Method)


class Fold(str, Enum):
    none = "none"
    exact = "exact"
    lstsq = "lstsq"


class Budget(str, Enum):
    group = "group"
    global_ = "global"


class ExportFormat(str, Enum):
    """File formats of ``netgraph export`` / ``reduce --export``."""

    onnx = "onnx"


class Format(str, Enum):
    html = "html"
    md = "md"
    json = "json"


def parse_formats(text: str) -> list[str]:
    """``"html,md"`` → ``["html", "md"]``; an unknown name is bad input."""
    from netgraph_cli.errors import BadInput

    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    allowed = [f.value for f in Format]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise BadInput(f"Unknown --format {', '.join(unknown) or repr(text)}; use a comma-separated list of {', '.join(allowed)}.")
    return list(dict.fromkeys(names))


ModelArg = Annotated[str, typer.Argument(
    metavar="MODEL", help="zoo:NAME, a Hugging Face model folder, or package.module:factory.", show_default=False)]
DataOpt = Annotated[Optional[str], typer.Option(
    "--data", "-d", metavar="DATA",
    help="zoo:NAME (digits, mnist5k, text, text-kjv, synthetic-sentences, …), a .npy/.npz/.pt file, or a .txt file (one sentence a line). "
         "Default for zoo models: their training data (real English text for minilm).")]
WeightsOpt = Annotated[Optional[Path], typer.Option(
    "--weights", "-w", help="Weights for a factory MODEL: .safetensors, or a .pt state dict.")]
UnsafePickleOpt = Annotated[bool, typer.Option(
    "--unsafe-pickle", help="Allow loading a pickled whole model (runs code from the file; only for files you trust).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of every random choice; same seed, same numbers.")]
SamplesOpt = Annotated[int, typer.Option("--samples", min=1, help="Calibration samples drawn from DATA.")]
BatchSizeOpt = Annotated[int, typer.Option("--batch-size", min=1, help="Samples per calibration batch.")]
