"""Progress bars and status lines on stderr (silenced by ``--quiet``).

The library reports progress through plain callbacks; this module turns them into Rich
progress bars, so the library itself never prints.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Any, Callable, Iterator

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


# "cnn-digits: epoch 3/40, loss 0.3022": the zoo's one-line training messages.
_EPOCH = re.compile(r"^(?P<label>.+?): epoch (?P<step>\d+)/(?P<total>\d+)(?:, (?P<detail>.*))?$")


class _EpochBar:
    """One progress bar for a run of epoch messages, instead of one status line per epoch."""

    def __init__(self) -> None:
        self.progress: Any = None
        self.task: Any = None
        self.label = ""

    def update(self, label: str, step: int, total: int, detail: str) -> None:
        if self.progress is None or label != self.label:
            self.close()
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("[dim]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("[dim]{task.fields[detail]}"),
                                     console=stderr_console())
            self.task = self.progress.add_task(f"{label}: training", total=total, detail="")
            self.label = label
            self.progress.start()
        self.progress.update(self.task, completed=step, total=total, detail=detail)
        if step >= total:
            self.close()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
        self.progress = None
        self.label = ""


_EPOCHS = _EpochBar()


def status(message: str) -> None:
    """One dim status line on stderr; epoch messages (``NAME: epoch i/N, …``) drive one bar."""
    if STATE.quiet:
        return
    match = _EPOCH.match(str(message))
    if match:
        _EPOCHS.update(match["label"], int(match["step"]), int(match["total"]), match["detail"] or "")
        return
    _EPOCHS.close()
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
