"""The pickle policy: tensors only, unless the caller says it trusts the file.

``torch.load(weights_only=True)`` reads state dicts without running code from the file;
anything that needs real unpickling (a whole pickled model) is refused with a message
naming the safe alternative, and read only when ``allow_pickle=True``.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from netgraph.errors import CheckpointError

__all__ = ["read_weights", "PICKLE_HINT", "WEIGHT_SUFFIXES"]

PICKLE_HINT = (
    "loading a pickled object can run arbitrary code; save a state dict "
    "(torch.save(model.state_dict(), f)) or, only if you trust the file, allow pickle "
    "(--unsafe-pickle on the command line, allow_pickle=True in Python)"
)
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")


def check_weights_path(path: str | os.PathLike, what: str = "Weights file") -> Path:
    """The path of an existing regular file, or a :class:`CheckpointError` saying what it is instead."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise CheckpointError(f"{what} {str(path)!r} is a folder; give the weights file inside it.")
    if not path.is_file():
        raise CheckpointError(f"{what} {str(path)!r} does not exist; check the path.")
    return path


def read_weights(path: str | os.PathLike, allow_pickle: bool = False) -> Any:
    """Read a ``.safetensors`` file or a ``torch.save`` file (a state dict, or with
    ``allow_pickle`` any pickled object such as a whole model).

    Raises
    ------
    CheckpointError
        Missing, corrupt or truncated file, or a pickled object while ``allow_pickle`` is False.
    """
    import torch

    path = check_weights_path(path)
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as error:
            raise CheckpointError(f"Weights file {str(path)!r} is not a valid safetensors file ({error}); re-export it.") from error
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "weights_only" not in str(error) and "Unsupported global" not in str(error):
            raise CheckpointError(f"Weights file {str(path)!r} is corrupt or truncated; re-save it.") from error
        if not allow_pickle:
            raise CheckpointError(f"{str(path)!r} holds a pickled object, not only tensors: {PICKLE_HINT}.") from error
    except (RuntimeError, EOFError, OSError, ValueError, TypeError, AttributeError, ImportError) as error:
        detail = " ".join(str(error).split())[:160]
        raise CheckpointError(f"Weights file {str(path)!r} is corrupt or truncated ({detail}); re-save it.") from error
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - any failure of an untrusted pickle is the file's fault
        detail = " ".join(str(error).split())[:160]
        raise CheckpointError(f"Could not unpickle {str(path)!r}: {type(error).__name__}: {detail}.") from error
