"""DATA specs: ``zoo:NAME``, a tensor file, or a ``.txt`` file of sentences.

:func:`load_data` reads the data, holds out a fifth of a file (zoo data sets have their own
test split) to measure fidelity, draws the calibration samples, cuts batches and checks
the first batch runs through the model, so a mismatch is reported before any long work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netgraph.batches import batch_size as count_samples
from netgraph.errors import CalibrationError, CheckpointError, InvalidParameterError
from netgraph.sources.models import ModelInfo
from netgraph.sources.tensor_files import TENSOR_SUFFIXES, read_tensor_file

__all__ = ["Data", "load_data", "default_data_spec", "check_data_spec"]

_DATA_HINT = "give a .npy/.npz/.pt file, a .txt file (one sentence a line) or zoo:NAME"


@dataclass
class Data:
    """Calibration batches and held-out batches (with labels when known)."""

    source: str
    calibration: list
    held_out: list
    held_out_labels: Any = None  # tensor of class labels aligned with held_out, or None
    train: Any = None  # a TensorDataset(X, y) for fine-tuning, when labels are known

    @property
    def n_calibration(self) -> int:
        return sum(count_samples(b) for b in self.calibration)

    @property
    def n_held_out(self) -> int:
        return sum(count_samples(b) for b in self.held_out)


def default_data_spec(info: ModelInfo) -> str | None:
    """The data a model comes with: its training set for zoo models, nothing otherwise."""
    if info.zoo_name is not None:
        from netgraph import zoo

        return f"zoo:{zoo.model_dataset(info.zoo_name)}"
    return None


def check_data_spec(spec: str) -> str:
    """Check a DATA spec without reading it; returns ``"zoo"``, ``"text"`` or ``"tensors"``.

    Raises
    ------
    InvalidParameterError
        Empty spec or unknown zoo data set.
    CheckpointError
        The file is missing, a folder, or of an unknown type.

    Examples
    --------
    >>> check_data_spec("zoo:digits")
    'zoo'
    >>> check_data_spec("missing.npy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    netgraph.errors.CheckpointError: DATA file 'missing.npy' does not exist; ...
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidParameterError(f"DATA is empty; {_DATA_HINT}.")
    if spec.startswith("zoo:"):
        from netgraph import zoo

        name = spec.split(":", 1)[1]
        if name not in zoo.DATASETS:
            raise InvalidParameterError(f"Unknown zoo data set {name!r}; choose one of: {', '.join(zoo.DATASETS)}.")
        return "zoo"
    path = Path(spec).expanduser()
    if path.is_dir():
        raise CheckpointError(f"DATA {spec!r} is a folder; {_DATA_HINT}.")
    if not path.is_file():
        raise CheckpointError(f"DATA file {spec!r} does not exist; {_DATA_HINT}.")
    if path.suffix == ".txt":
        return "text"
    if path.suffix not in TENSOR_SUFFIXES:
        raise CheckpointError(f"DATA file {spec!r} has an unknown type; use .npy, .npz, .pt or .txt (sentences).")
    return "tensors"


def _text_datasets() -> tuple[str, ...]:
    from netgraph.zoo import datasets

    return tuple(getattr(datasets, "TEXT_DATASETS", ("sentences",)))


def load_data(spec: str, model, info: ModelInfo, *, n_samples: int = 512, batch_size: int = 128,
              seed: int = 0) -> Data:
    """Read DATA, split it into calibration and held-out batches, and check it fits the model.

    Raises
    ------
    InvalidParameterError
        Bad sizes or spec.
    CheckpointError
        Unreadable files, non-finite values, labels that are not class indices.
    CalibrationError
        The data does not run through the model, or is text for a model without a tokenizer.
    """
    import numpy as np
    import torch

    for name, value in (("n_samples", n_samples), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameterError.expected(name, "load_data", "an int >= 1", value)
    kind = check_data_spec(spec)
    labels = None
    train = None
    if kind == "zoo":
        from netgraph import zoo

        name = spec.split(":", 1)[1]
        if name in _text_datasets():
            splits = zoo.load_dataset(name)
            train_inputs = _sentences(list(splits.train), info, spec)
            held = _sentences(list(splits.test), info, spec)
        else:
            splits = zoo.load_dataset(name, as_images=_wants_images(model, info))
            train = splits.train
            train_inputs = splits.train.tensors[0]
            held, labels = splits.test.tensors
    else:
        path = Path(spec).expanduser()
        file_labels = None
        if kind == "text":
            inputs = _sentences(_read_sentences(path, spec), info, spec)
        else:
            inputs, file_labels = read_tensor_file(path)
            _check_finite(inputs, spec)
            inputs = _match_input_dtype(inputs, model)
        n = count_samples(inputs)
        if n < 2:
            raise CheckpointError(f"DATA file {spec!r} holds {n} sample(s); give at least 2 (some are held out to measure fidelity).")
        n_held = max(1, n // 5)
        order = np.random.default_rng(seed).permutation(n)
        held_index, train_index = torch.as_tensor(order[:n_held]), torch.as_tensor(order[n_held:])
        train_inputs, held = _take(inputs, train_index), _take(inputs, held_index)
        if file_labels is not None:
            labels = file_labels[held_index]
            if not isinstance(inputs, dict):
                from torch.utils.data import TensorDataset

                train = TensorDataset(train_inputs, file_labels[train_index])
    if count_samples(train_inputs) > n_samples:
        generator = torch.Generator().manual_seed(seed)
        index = torch.randperm(count_samples(train_inputs), generator=generator)[:n_samples]
        train_inputs = _take(train_inputs, index)
    data = Data(spec, _chunks(train_inputs, batch_size), _chunks(held, batch_size), labels, train)
    _check_fits(model, data.calibration[0], spec, info)
    return data


def _take(inputs: Any, index) -> Any:
    return {k: v[index] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[index]


def _chunks(inputs: Any, batch_size: int) -> list:
    n = count_samples(inputs)
    return [_take(inputs, slice(start, start + batch_size)) for start in range(0, n, batch_size)]


def _read_sentences(path: Path, spec: str) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise CheckpointError(f"DATA file {spec!r} cannot be read: {error}.") from error
    sentences = [line.strip() for line in text.splitlines() if line.strip()]
    if not sentences:
        raise CheckpointError(f"DATA file {spec!r} has no sentences; write one sentence a line.")
    return sentences


def _sentences(sentences: list[str], info: ModelInfo, spec: str) -> dict:
    if not info.text or info.tokenizer is None:
        raise CalibrationError(
            f"DATA {spec!r} is text but MODEL {info.spec!r} is not a text model with a tokenizer; "
            "give tensor data (.npy/.npz/.pt) instead."
        )
    from netgraph.zoo.text import encode_sentences

    return encode_sentences(info.tokenizer, sentences)


def _check_finite(inputs: Any, spec: str) -> None:
    import torch

    tensors = inputs.values() if isinstance(inputs, dict) else [inputs]
    for tensor in tensors:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"DATA file {spec!r} contains NaN or infinite values; clean the data first.")


def _wants_images(model, info: ModelInfo) -> bool:
    if info.zoo_name is not None and info.zoo_name != "minilm":
        from netgraph.zoo.models import RECIPES

        return RECIPES[info.zoo_name].as_images
    from torch import nn

    first = next((m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))), None)
    return isinstance(first, nn.Conv2d)


def _match_input_dtype(inputs: Any, model) -> Any:
    import torch

    if isinstance(inputs, dict) or not inputs.is_floating_point():
        return inputs
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    return inputs.to(dtype)


def _check_fits(model, batch: Any, spec: str, info: ModelInfo) -> None:
    import torch

    from netgraph.batches import call_model, first_rows

    try:
        with torch.inference_mode():
            call_model(model, first_rows(batch, 2))
    except Exception as error:  # noqa: BLE001 - any failure here means the data does not fit
        if torch.is_tensor(batch):
            shape = tuple(batch.shape)
        elif isinstance(batch, dict):
            shape = "a dict of " + ", ".join(batch)
        else:
            shape = type(batch).__name__
        message = " ".join(str(error).split())[:200]
        raise CalibrationError(
            f"DATA {spec!r} does not fit MODEL {info.spec!r}: the model fails on a batch of shape {shape} ({message}); "
            "give inputs shaped like the model's input."
        ) from error
