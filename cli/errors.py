"""One place that turns exceptions into exit codes and one-line messages.

Exit codes: 0 success, 1 a failure inside netgraph, 2 bad input (missing or corrupt file,
unknown option value, data that does not fit the model). A traceback is printed only with
``--debug``.
"""

from __future__ import annotations

import functools
import sys
import traceback
from typing import Any, Callable, TypeVar

import typer

from netgraph_cli.state import STATE

__all__ = ["BadInput", "EXIT_BAD_INPUT", "EXIT_FAILURE", "exit_code_for", "handle_errors", "error_line"]

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(Exception):
    """A problem with what the user typed or pointed to; the message says how to fix it."""


def exit_code_for(error: BaseException) -> int:
    """Map an exception to the command's exit code (the only such mapping in the CLI)."""
    from netgraph import errors

    if isinstance(error, BadInput):
        return EXIT_BAD_INPUT
    bad_input = (
        errors.InvalidParameterError,
        errors.CheckpointError,
        errors.CalibrationError,
        errors.PlanError,
        errors.UnsupportedModelError,
    )
    if isinstance(error, bad_input):
        return EXIT_BAD_INPUT
    return EXIT_FAILURE


def error_line(error: BaseException) -> str:
    """The single line shown for ``error``."""
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, BadInput):
        return f"Error: {message}"
    from netgraph.errors import NetgraphError

    if isinstance(error, NetgraphError):
        return f"Error: {message}"
    return f"Error: {type(error).__name__}: {message} (rerun with --debug for the traceback)"


def handle_errors(function: F) -> F:
    """Run a command, turning any exception into one stderr line and an exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            raise typer.Exit(code=130)
        except Exception as error:  # noqa: BLE001 - this is the one catch-all of the CLI
            if STATE.debug:
                traceback.print_exc(file=sys.stderr)
            print(error_line(error), file=sys.stderr)
            raise typer.Exit(code=exit_code_for(error)) from None

    return wrapper  # type: ignore[return-value]
