"""The ``netgraph`` command: a thin Typer layer over the library.

Heavy imports (torch, the engine, graspologic, matplotlib) happen inside the command
functions, so ``netgraph --help`` answers at once.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from netgraph_cli import commands
from netgraph_cli.state import STATE

app = typer.Typer(
    name="netgraph",
    help="Make trained PyTorch networks smaller by treating them as weighted neuron graphs.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    epilog="Output folders (--out) hold exactly one run: written beside --out and swapped in whole, so --out is "
           "always the previous complete result or the new one. Only a new, empty or netgraph-written folder is "
           "accepted; staging folders left by killed runs are removed, and listed, by the next run.",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("netgraph")
        except PackageNotFoundError:  # running from a source tree that is not installed
            number = "unknown"
        typer.echo(f"netgraph {number}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback when something fails.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or status messages.")] = False,
) -> None:
    """Make trained PyTorch networks smaller by treating them as weighted neuron graphs.

    MODEL is zoo:NAME (built-in: mlp-digits, cnn-digits, lenet-300-100, resnet-digits, minilm),
    a local Hugging Face model folder, or package.module:factory with --weights FILE.

    Output folders (--out) hold exactly one run: everything is written into a hidden folder
    beside --out and swapped in whole at the end, so --out is always the previous complete
    result or the new one. Only a new, empty or netgraph-written folder is accepted; staging
    folders left by killed runs are removed (and listed) by the next run.
    """
    STATE.debug = debug
    STATE.quiet = quiet


commands.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
