"""One module per command; :func:`register` adds them to the Typer app.

Modules are imported here, but each command imports torch and the engine only when it
runs, so registering them costs nothing.
"""

from __future__ import annotations

import importlib

import typer

__all__ = ["register"]

# (module, function) in help order; ``compress`` is owned by its own module and is added
# only when that module exists.
_COMMANDS = ("analyze", "visualize", "reduce", "export", "demo")


def register(app: typer.Typer) -> None:
    for name in _COMMANDS:
        module = importlib.import_module(f"netgraph_cli.commands.{name}")
        app.command(name=name)(getattr(module, name))
    try:
        module = importlib.import_module("netgraph_cli.commands.compress")
    except ModuleNotFoundError as error:
        if error.name != "netgraph_cli.commands.compress":
            raise
        return
    function = getattr(module, "compress", None)
    if callable(function):
        app.command(name="compress")(function)
