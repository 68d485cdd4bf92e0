"""A content-checked cache of trained zoo weights (safetensors + JSON sidecar, no pickle).

Each entry is two files under ``<cache root>/zoo/``: ``<key>.safetensors`` and
``<key>.json``. The sidecar records the SHA-256 of the weights file and the key the
weights were made for (architecture and recipe version). An entry whose files are
missing, whose hash does not match or whose key differs is treated as absent and
rebuilt: a cache is never trusted blindly. Writes go to a temporary file in the same
folder and are moved into place with :func:`os.replace`, so a crash never leaves a
half-written entry behind under the final name.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from netgraph.atomic import atomic_write_bytes
from netgraph.errors import CheckpointError

__all__ = ["cache_root", "load_cached_state", "save_cached_state", "file_sha256"]

ENV_VAR = "NETGRAPH_CACHE_DIR"


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder zoo weights live in.

    Order: the ``cache_dir`` argument, then the ``NETGRAPH_CACHE_DIR`` environment
    variable, then ``platformdirs.user_cache_dir("netgraph")``; ``zoo/`` is appended.
    """
    if cache_dir is not None:
        base = Path(cache_dir)
    elif os.environ.get(ENV_VAR):
        base = Path(os.environ[ENV_VAR])
    else:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("netgraph"))
    return base / "zoo"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _paths(root: Path, name: str) -> tuple[Path, Path]:
    return root / f"{name}.safetensors", root / f"{name}.json"


def load_cached_state(root: Path, name: str, key: dict) -> dict[str, torch.Tensor] | None:
    """Return the cached state dict of ``name`` if its entry is intact and matches ``key``.

    Returns ``None`` (never raises) when the entry is missing, corrupt or stale, so the
    caller rebuilds it.
    """
    from safetensors.torch import load

    weights, sidecar = _paths(root, name)
    if not weights.is_file() or not sidecar.is_file():
        return None
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        data = weights.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("key") != key:
        return None
    if meta.get("sha256") != hashlib.sha256(data).hexdigest():
        return None
    try:
        return load(data)
    except Exception:  # a corrupt safetensors header raises library-specific errors
        return None


def save_cached_state(root: Path, name: str, key: dict, state: dict[str, torch.Tensor]) -> Path:
    """Write ``state`` and its sidecar atomically; return the weights path."""
    from safetensors.torch import save

    weights, sidecar = _paths(root, name)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    data = save(tensors)
    try:
        atomic_write_bytes(weights, data)
        meta = {"key": key, "sha256": hashlib.sha256(data).hexdigest(), "format": "safetensors"}
        atomic_write_bytes(sidecar, json.dumps(meta, indent=2, sort_keys=True).encode("utf-8"))
    except OSError as error:
        raise CheckpointError(f"Could not write the zoo cache entry {weights}: {error}") from error
    return weights
