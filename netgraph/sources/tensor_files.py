"""Tensor data files: ``.npy``, ``.npz`` and ``.pt`` (tensors only), with optional labels.

Inputs are the first axis = samples. Labels (``y`` / ``labels`` / ``targets``) must be
class indices: integers, or floats that are whole numbers; anything else is refused
instead of being cast to class 0 silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from netgraph.errors import CheckpointError

__all__ = ["read_tensor_file", "TENSOR_SUFFIXES"]

TENSOR_SUFFIXES = (".npy", ".npz", ".pt", ".pth")
_INPUT_KEYS = ("x", "X", "inputs", "data")
_LABEL_KEYS = ("y", "labels", "targets")


def _class_labels(labels: Any, source: str):
    import torch

    labels = torch.as_tensor(labels)
    if labels.ndim != 1:
        raise CheckpointError(
            f"Labels in DATA file {source!r} have shape {tuple(labels.shape)}; give one class index per sample."
        )
    if labels.is_floating_point():
        finite = bool(torch.isfinite(labels).all())
        if not finite or not bool((labels == labels.round()).all()):
            raise CheckpointError(
                f"Labels in DATA file {source!r} are fractional numbers, not class indices; "
                "store integer classes (e.g. y.astype(int)) or drop the labels."
            )
    elif labels.dtype == torch.bool or labels.is_complex():
        raise CheckpointError(f"Labels in DATA file {source!r} are {labels.dtype}; store integer class indices.")
    labels = labels.long()
    if labels.numel() and int(labels.min()) < 0:
        raise CheckpointError(f"Labels in DATA file {source!r} include negative classes; class indices start at 0.")
    return labels


def read_tensor_file(path: str | os.PathLike) -> tuple[Any, Any]:
    """``(inputs, labels or None)`` from a tensor file; inputs may be a dict of tensors (text models).

    Raises
    ------
    CheckpointError
        Unknown suffix, corrupt file, pickled content, a scalar, or labels that are not
        class indices or do not match the number of inputs.
    """
    import numpy as np
    import torch

    path = Path(path)
    source = str(path)
    labels = None
    try:
        if path.suffix == ".npy":
            inputs = torch.from_numpy(np.ascontiguousarray(np.load(path, allow_pickle=False)))
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                key = next((k for k in _INPUT_KEYS if k in keys), keys[0] if keys else None)
                if key is None:
                    raise CheckpointError(f"DATA file {source!r} is an empty .npz archive; save the inputs as 'x'.")
                inputs = torch.from_numpy(np.ascontiguousarray(archive[key]))
                label_key = next((k for k in _LABEL_KEYS if k in keys), None)
                if label_key is not None:
                    labels = np.ascontiguousarray(archive[label_key])
        elif path.suffix in (".pt", ".pth"):
            content = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(content, (tuple, list)) and len(content) == 2 and all(torch.is_tensor(c) for c in content):
                inputs, labels = content
            elif isinstance(content, dict) and any(k in content for k in _INPUT_KEYS):
                inputs = next(content[k] for k in _INPUT_KEYS if k in content)
                labels = next((content[k] for k in _LABEL_KEYS if k in content), None)
            elif isinstance(content, dict) and "input_ids" in content:
                inputs = content
            elif torch.is_tensor(content):
                inputs = content
            else:
                raise CheckpointError(
                    f"DATA file {source!r} holds {type(content).__name__}; save a tensor, (inputs, labels) "
                    "or a dict with 'x' (and 'y')."
                )
        else:
            raise CheckpointError(f"DATA file {source!r} has an unknown type; use .npy, .npz, .pt or .txt (sentences).")
    except CheckpointError:
        raise
    except Exception as error:  # noqa: BLE001 - numpy/torch raise many kinds for broken files
        detail = " ".join(str(error).split())[:160]
        raise CheckpointError(f"DATA file {source!r} is corrupt or unreadable ({type(error).__name__}: {detail}).") from error
    if isinstance(inputs, dict):
        if not all(torch.is_tensor(v) for v in inputs.values()):
            raise CheckpointError(f"DATA file {source!r} holds a dict whose values are not all tensors.")
    elif not torch.is_tensor(inputs) or inputs.ndim == 0:
        raise CheckpointError(f"DATA file {source!r} holds a scalar; give a batch of inputs (first axis = samples).")
    if labels is not None:
        labels = _class_labels(labels, source)
        from netgraph.batches import batch_size

        if len(labels) != batch_size(inputs):
            raise CheckpointError(f"DATA file {source!r} has {len(labels)} labels for {batch_size(inputs)} inputs.")
    return inputs, labels
