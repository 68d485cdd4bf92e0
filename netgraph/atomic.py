"""Writing files so that a reader never sees half of one: temporary file, then rename.

Also the one check, made before any work starts, that a path can be written at all
(:func:`check_writable`), so a run never spends minutes computing a result it cannot save.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from netgraph.errors import CheckpointError

__all__ = ["atomic_write", "atomic_write_bytes", "check_writable", "umask_mode", "process_alive"]


def umask_mode(directory: bool = False) -> int:
    """The mode a plain ``open``/``mkdir`` would give under the current umask.

    ``tempfile`` creates private files (0600) and folders (0700); results moved out of a
    temporary place get this mode instead, so they look like any other file the user writes.
    """
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary_path)``, then move the result onto ``path`` in one rename.

    The temporary file ``.NAME.PID.*.tmp`` lives next to ``path`` (same file system, so the
    rename is atomic) and is removed if ``write`` fails; one left by a killed process is
    removed by the next write of the same file. The final file gets the usual umask-based
    mode rather than mkstemp's private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_temporaries(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, umask_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a leftover of a dead one may be removed)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # exists but not ours / not a pid: leave it alone
        return True
    return True


def _remove_dead_temporaries(path: Path) -> None:
    """Remove ``.NAME.PID.*.tmp`` files beside ``path`` left by killed writers."""
    prefix = f".{path.name}."
    try:
        candidates = [entry for entry in os.scandir(path.parent) if entry.name.startswith(prefix)
                      and entry.name.endswith(".tmp")]
    except OSError:
        return
    for entry in candidates:
        pid = entry.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, flushed to disk before the rename."""

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())

    atomic_write(path, write)


def check_writable(path: str | os.PathLike, what: str = "Output folder") -> Path:
    """Check, without writing anything, that folder ``path`` can be created or replaced.

    The folder's nearest existing ancestor must be a writable folder (results are staged
    beside ``path`` and renamed onto it), and ``path`` itself, when it exists, must be a
    folder. Returns ``path`` made absolute.

    Raises
    ------
    CheckpointError
        Naming the path, what is wrong and how to fix it.
    """
    text = os.fspath(path)
    if not text.strip():
        raise CheckpointError(f"{what} path is empty; give a folder name.")
    target = Path(text).expanduser().absolute()
    if target.exists() and not target.is_dir():
        raise CheckpointError(f"{what} {text!r} exists and is a file; give a folder path.")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise CheckpointError(f"{what} {text!r} lies under {str(parent)!r}, which is a file; give a folder path.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CheckpointError(
            f"{what} {text!r} cannot be written: {str(parent)!r} is not writable; choose a folder you can write to."
        )
    return target
