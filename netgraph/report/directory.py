"""Write an output folder atomically: stage everything next to it, then move it in place."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["staged_directory"]


@contextlib.contextmanager
def staged_directory(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success its files replace ``target``'s.

    A new ``target`` appears in one rename. When ``target`` exists, each staged file is
    moved over the old one (one rename each) and other files in it are left alone. On any
    error the staging folder is removed and ``target`` is untouched.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"Output path {str(target)!r} exists and is not a folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.staging-"))
    try:
        yield staging
        if not target.exists():
            os.replace(staging, target)
            return
        for path in sorted(staging.rglob("*")):
            relative = path.relative_to(staging)
            destination = target / relative
            if path.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
