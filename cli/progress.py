"""Progress bars and status lines on stderr (silenced by ``--quiet``).

The library reports progress through plain callbacks; this module turns them into Rich
progress bars, so the library itself never prints.
"""

from __future__ import annotations

import contextlib
import os
from typing import Callable, Iterator

from netgraph_cli.state import STATE

__all__ = ["stderr_console", "stdout_console", "status", "steps"]


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def stdout_console():
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped or logged output has no width to fit; Rich's 80-column default squeezes
        # per-group tables with long layer names into unreadable slivers.
        console = Console(highlight=False, soft_wrap=False, width=140)
    return console


def status(message: str) -> None:
    """One dim status line on stderr."""
    if not STATE.quiet:
        stderr_console().print(f"[dim]{message}[/dim]")


@contextlib.contextmanager
def steps(description: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar driven by ``callback(label, step, total)`` calls (the library's convention)."""
    if STATE.quiet:
        yield lambda label, step, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[label]}"),
        console=stderr_console(),
        transient=False,
    )
    task = progress.add_task(description, total=None, label="")

    def update(label: str, step: int, total: int) -> None:
        progress.update(task, completed=step, total=total, label=str(label))

    with progress:
        yield update
