"""Output folders that are always one complete run: staged beside the target, swapped in whole.

The rule
--------
A command that writes a folder ``OUT`` never writes into ``OUT`` itself. It writes every
file into a fresh hidden folder ``.OUT.staging-<pid>-<random>`` beside ``OUT`` and, once
all of them are written, puts that folder in ``OUT``'s place in one step:

* ``OUT`` absent: one ``rename``.
* ``OUT`` present: one ``renameat2(RENAME_EXCHANGE)`` (Linux) swaps the two folders
  atomically, then the old one (now under the staging name) is deleted. Where the
  exchange is not available the old folder is first renamed to ``.OUT.old-<pid>-<random>``
  and the new one renamed in; if the process dies between the two renames the next run
  puts the old folder back.

So ``OUT`` is at every moment either the previous run's complete folder or the new
run's complete folder, never a mix: files of the old run that the new run does not
write (``report.html`` after a ``--format json`` run, say) disappear with it. Because the
old folder goes as a whole, only a folder netgraph wrote itself (it holds the marker file
``.netgraph-output``) or an empty one is replaced; any other existing folder is refused
before work starts, so ``--out ~/Documents`` can never delete a user's files. Staging
folders of runs that died (SIGKILL, power loss) stay behind; the next run into the same
``OUT`` removes them and lists what it removed (:func:`clean_stale_staging`). Finished
folders and files get the modes a plain ``mkdir``/``open`` would under the user's umask.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Iterator

from netgraph.atomic import check_writable, process_alive, umask_mode
from netgraph.errors import CheckpointError

__all__ = ["staged_directory", "clean_stale_staging", "check_output_folder", "swap_in", "MARKER"]

MARKER = ".netgraph-output"
"""Written into every staged folder: marks a folder netgraph may replace as a whole."""

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>staging|old)-(?P<pid>\d+)-[0-9a-f]+$")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _leftovers(target: Path) -> list[tuple[Path, str]]:
    if not target.parent.is_dir():
        return []
    found = []
    for path in target.parent.iterdir():
        match = _LEFTOVER.match(path.name)
        if match and match["name"] == target.name and not process_alive(int(match["pid"])):
            found.append((path, match["kind"]))
    return sorted(found)


def clean_stale_staging(target: str | os.PathLike) -> list[Path]:
    """Remove what dead runs left beside ``target``; return the paths removed.

    A ``.TARGET.staging-PID-*`` or ``.TARGET.old-PID-*`` folder whose process no longer
    runs is a leftover. If ``target`` itself is missing and a leftover ``.old`` folder
    exists, a run died between the two renames of a fallback swap: that folder is the
    last complete result and is moved back to ``target`` instead of being removed.
    """
    target = Path(target).absolute()
    removed = []
    leftovers = _leftovers(target)
    if not target.exists():
        old = [path for path, kind in leftovers if kind == "old"]
        if old:
            os.replace(old[-1], target)
            leftovers = [(p, k) for p, k in leftovers if p != old[-1]]
    for path, _ in leftovers:
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    return removed


def check_output_folder(target: str | os.PathLike) -> Path:
    """Check before any work that ``target`` can be written and replaced; returns it absolute.

    Raises
    ------
    CheckpointError
        ``target`` is a file, lies under a file, cannot be written, is the current folder
        (or one above it), or is a non-empty folder that netgraph did not write.
    """
    target = check_writable(target)
    here = Path.cwd().resolve()
    if target.resolve() == here or target.resolve() in here.parents:
        raise CheckpointError(
            f"Output folder {str(target)!r} is the current folder or contains it, and a run replaces its output "
            "folder as a whole; give a subfolder name (an empty --out means the current folder)."
        )
    if target.is_dir() and not (target / MARKER).is_file() and any(target.iterdir()):
        raise CheckpointError(
            f"Output folder {str(target)!r} already holds files netgraph did not write, and a run replaces its "
            "output folder as a whole; give a new or empty folder."
        )
    return target


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux ``renameat2``; False when unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: file system or kernel cannot exchange
        return False
    raise OSError(errno, os.strerror(errno), str(second))


def _apply_umask(folder: Path) -> None:
    file_mode, folder_mode = umask_mode(), umask_mode(directory=True)
    for root, folders, files in os.walk(folder):
        os.chmod(root, folder_mode)
        for name in files:
            os.chmod(os.path.join(root, name), file_mode)


def swap_in(staging: Path, target: Path) -> None:
    """Put the complete folder ``staging`` in ``target``'s place (see the module rule)."""
    _apply_umask(staging)
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now the old result
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
    os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_directory(target: str | os.PathLike, *, removed: list[Path] | None = None) -> Iterator[Path]:
    """Yield an empty folder beside ``target``; on success it replaces ``target`` as a whole.

    Parameters
    ----------
    target : folder to create or replace
    removed : optional list that receives the stale staging folders of dead runs that
        were cleaned up before this one started (see :func:`clean_stale_staging`)

    On any error the staging folder is removed and ``target`` is untouched.

    Raises
    ------
    CheckpointError
        When ``target`` is a file, lies under a file, its folder is not writable, or it is
        a non-empty folder netgraph did not write (see :func:`check_output_folder`).
    """
    target = check_output_folder(target)
    stale = clean_stale_staging(target)
    if removed is not None:
        removed.extend(stale)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.staging-{os.getpid()}-{secrets.token_hex(4)}")
    staging.mkdir()
    try:
        (staging / MARKER).write_text("This folder was written by netgraph; a later run into it replaces it whole.\n")
        yield staging
        swap_in(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
