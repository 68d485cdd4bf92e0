"""Checksums that make any change to a saved plan or its companion files detectable.

``plan.json`` opens with its own SHA-256: the digest of the file's exact bytes with the
digest itself written as 64 zeros. Because it covers the bytes, not the parsed values,
every flipped bit is caught, including ones that would still parse (``1e5`` → ``1E5``).
The plan also lists, under ``files``, the SHA-256 and size of every file saved with it
(``model.safetensors``, the compensation tensors), so the pair can never be mixed up or
damaged unnoticed. Plans written before checksums existed have no ``checksum`` line and
are still read, but then only the version-1 fields are allowed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

from netgraph.errors import CheckpointError

__all__ = ["dumps_checked", "loads_checked", "file_record", "verify_files", "json_default", "CHECKSUM_KEY", "FILES_KEY"]

CHECKSUM_KEY = "checksum"
FILES_KEY = "files"
_PLACEHOLDER = "0" * 64
_HEADER = re.compile(rb'\A\{"checksum": "sha256:([0-9a-f]{64})",\n')
_RESAVE = "re-create it (netgraph reduce, or plan.save / save_reduced) from the original model"


def dumps_checked(data: dict[str, Any], default: Callable[[Any], Any] | None = None) -> bytes:
    """``data`` as indented JSON bytes whose first field is the checksum of those bytes."""
    if CHECKSUM_KEY in data:
        data = {k: v for k, v in data.items() if k != CHECKSUM_KEY}
    body = json.dumps(data, indent=1, default=default, allow_nan=True)
    text = f'{{"{CHECKSUM_KEY}": "sha256:{_PLACEHOLDER}",\n' + body[1:].lstrip("\n")
    raw = text.encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()
    return raw.replace(_PLACEHOLDER.encode(), digest.encode(), 1)


def loads_checked(raw: bytes, source: str) -> tuple[dict[str, Any], bool]:
    """Parse plan bytes and verify their checksum; returns ``(data, checked)``.

    ``checked`` is False for a plan written before checksums existed (no checksum line
    and no ``checksum`` field anywhere at the top level).

    Raises
    ------
    CheckpointError
        When the bytes are not UTF-8 JSON holding an object, or the checksum does not match.
    """
    match = _HEADER.match(raw)
    if match is not None:
        digest = match.group(1).decode()
        expected = hashlib.sha256(raw[: match.start(1)] + _PLACEHOLDER.encode() + raw[match.end(1) :]).hexdigest()
        if digest != expected:
            raise CheckpointError(
                f"Plan file {source!r} was changed or damaged after it was saved (its SHA-256 does not match "
                f"the 'checksum' field); {_RESAVE}."
            )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"Plan file {source!r} is not valid JSON ({error}); it may be truncated; {_RESAVE}.") from error
    if not isinstance(data, dict):
        raise CheckpointError(
            f"Plan file {source!r} holds a JSON {type(data).__name__}, not an object; it is not a netgraph plan."
        )
    if match is None and CHECKSUM_KEY in data:
        raise CheckpointError(f"Plan file {source!r} has a malformed 'checksum' field; {_RESAVE}.")
    data.pop(CHECKSUM_KEY, None)
    return data, match is not None


def file_record(path: str | os.PathLike) -> dict[str, Any]:
    """``{"sha256": hex, "bytes": size}`` of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}


def verify_files(records: dict[str, Any], folder: Path, source: str) -> None:
    """Check every file listed in a plan's ``files`` against its size and SHA-256."""
    for name, record in records.items():
        path = folder / name
        if not path.is_file():
            raise CheckpointError(
                f"File {str(path)!r} listed in {source!r} is missing; copy it back next to the plan or {_RESAVE}."
            )
        actual = file_record(path)
        if actual["bytes"] != record["bytes"] or actual["sha256"] != record["sha256"]:
            raise CheckpointError(
                f"File {str(path)!r} does not match the SHA-256 recorded in {source!r} (field 'files.{name}'): "
                f"it was changed or damaged after saving; {_RESAVE}."
            )


def json_default(value: Any) -> Any:
    """Turn numpy scalars and arrays into JSON values (for :func:`json.dumps`)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Cannot serialise {type(value).__name__} to JSON.")
