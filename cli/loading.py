"""Turn the MODEL and DATA arguments into a model, example inputs and batches.

MODEL: ``zoo:NAME``; a local Hugging Face model folder (``config.json``, loaded offline);
``package.module:factory`` (optionally ``--weights FILE``: ``.safetensors`` or a ``.pt``
state dict read with ``weights_only=True``); or a ``.pt`` file holding a pickled whole
model, refused unless ``--unsafe-pickle``.

DATA: ``zoo:NAME`` (digits, mnist5k, text, synthetic-sentences, …); a ``.npy`` / ``.npz`` / ``.pt`` tensor
file (optional labels as ``y`` / ``labels``); a ``.txt`` file, one sentence a line, for
text models. Every problem with these is a :class:`BadInput` naming the fix.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netgraph.batches import batch_size as count_samples
from netgraph_cli.errors import BadInput

__all__ = ["ModelInfo", "Data", "load_model_spec", "load_data_spec", "default_data_spec"]

_PICKLE_HINT = (
    "loading a pickled object can run arbitrary code; save a state dict "
    "(torch.save(model.state_dict(), f)) or pass --unsafe-pickle if you trust the file"
)


@dataclass
class ModelInfo:
    """Where a model came from, and what its inputs look like."""

    spec: str
    kind: str  # "zoo", "huggingface", "factory", "pickle"
    name: str
    zoo_name: str | None = None
    text: bool = False
    tokenizer: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "kind": self.kind, "name": self.name, "text": self.text}


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


# --------------------------------------------------------------------------- models


def load_model_spec(spec: str, weights: Path | None = None, unsafe_pickle: bool = False):
    """``(model, example_inputs or None, ModelInfo)`` for a MODEL argument."""
    if spec.startswith("zoo:"):
        if weights is not None:
            raise BadInput("--weights cannot be combined with a zoo model; zoo models load their own weights.")
        return _load_zoo(spec)
    path = Path(spec).expanduser()
    if path.is_dir():
        if weights is not None:
            raise BadInput("--weights cannot be combined with a Hugging Face folder; its weights are in the folder.")
        return _load_huggingface(spec, path)
    if path.suffix in (".pt", ".pth", ".bin", ".safetensors") or path.exists():
        return _load_pickled(spec, path, unsafe_pickle)
    if ":" in spec:
        return _load_factory(spec, weights, unsafe_pickle)
    raise BadInput(
        f"MODEL {spec!r} is not a zoo model, a folder or a factory; use zoo:NAME (e.g. zoo:mlp-digits), "
        "a Hugging Face model folder, or package.module:factory with --weights FILE."
    )


def _load_zoo(spec: str):
    from netgraph import zoo

    name = spec.split(":", 1)[1]
    if name not in zoo.MODELS:
        raise BadInput(f"Unknown zoo model {name!r}; choose one of: {', '.join(zoo.MODELS)}.")
    from netgraph_cli.progress import status

    model = zoo.load_model(name, progress=status)
    info = ModelInfo(spec, "zoo", name, zoo_name=name, text=name == "minilm")
    if info.text:
        info.tokenizer = zoo.load_tokenizer()
    return model, zoo.example_inputs(name), info


def _load_huggingface(spec: str, path: Path):
    if not (path / "config.json").is_file():
        raise BadInput(
            f"Folder {spec!r} has no config.json, so it is not a Hugging Face model folder; "
            "point MODEL at the folder that holds config.json and the weights."
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as error:
        raise BadInput("Hugging Face folders need transformers: pip install 'transformers<5'.") from error
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise BadInput(f"Could not load the Hugging Face model in {spec!r}: {error}") from error
    finally:
        hf_logging.set_verbosity(verbosity)
    info = ModelInfo(spec, "huggingface", path.name)
    try:
        info.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        info.text = True
    except (OSError, ValueError, KeyError):
        info.tokenizer = None
    example = None
    if info.tokenizer is not None:
        example = _encode(info.tokenizer, ["netgraph traces the model with this sentence.", "A second one."])
    return model.eval(), example, info


def _load_factory(spec: str, weights: Path | None, unsafe_pickle: bool):
    from torch import nn

    module_name, _, attribute = spec.rpartition(":")
    if not module_name or not attribute:
        raise BadInput(f"MODEL {spec!r} must look like package.module:factory.")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # let users point at a module in the current folder
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BadInput(
            f"Cannot import {module_name!r} for MODEL {spec!r} ({error}); check the module path and that it is installed."
        ) from error
    factory = getattr(module, attribute, None)
    if factory is None:
        raise BadInput(f"Module {module_name!r} has no attribute {attribute!r}; MODEL is package.module:factory.")
    model = factory() if callable(factory) and not isinstance(factory, nn.Module) else factory
    if not isinstance(model, nn.Module):
        raise BadInput(f"{spec!r} returned {type(model).__name__}, not a torch.nn.Module.")
    if weights is not None:
        _load_weights(model, weights, unsafe_pickle)
    example = None
    for candidate in (f"{attribute}_example_inputs", "example_inputs"):
        value = getattr(module, candidate, None)
        if value is not None:
            example = value() if callable(value) else value
            break
    return model.eval(), example, ModelInfo(spec, "factory", attribute)


def _load_weights(model, weights: Path, unsafe_pickle: bool) -> None:
    state = _read_state(weights, unsafe_pickle)
    if not isinstance(state, dict):
        from torch import nn

        if isinstance(state, nn.Module):
            state = state.state_dict()
        else:
            raise BadInput(f"Weights file {str(weights)!r} holds {type(state).__name__}, not a state dict.")
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        detail = " ".join(first[:2]) if first else str(error)
        raise BadInput(
            f"Weights in {str(weights)!r} do not fit the model ({detail}); check that the factory builds the same architecture."
        ) from error


def _read_state(path: Path, unsafe_pickle: bool) -> Any:
    import pickle

    import torch

    if not path.is_file():
        raise BadInput(f"Weights file {str(path)!r} does not exist; check the path.")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as error:
            raise BadInput(f"Weights file {str(path)!r} is not a valid safetensors file ({error}); re-export it.") from error
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "weights_only" not in str(error) and "Unsupported global" not in str(error):
            raise BadInput(f"Weights file {str(path)!r} is corrupt or truncated; re-save it.") from error
        if not unsafe_pickle:
            raise BadInput(f"{str(path)!r} holds a pickled object, not only tensors: {_PICKLE_HINT}.") from error
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise BadInput(f"Weights file {str(path)!r} is corrupt or truncated ({error}); re-save it.") from error
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - any failure of an untrusted pickle is the file's fault
        raise BadInput(f"Could not unpickle {str(path)!r}: {error}.") from error


def _load_pickled(spec: str, path: Path, unsafe_pickle: bool):
    from torch import nn

    if not path.exists():
        raise BadInput(f"MODEL file {spec!r} does not exist; check the path or use zoo:NAME.")
    content = _read_state(path, unsafe_pickle)
    if isinstance(content, nn.Module):
        return content.eval(), None, ModelInfo(spec, "pickle", path.stem)
    raise BadInput(
        f"{spec!r} holds weights without an architecture; pass MODEL as package.module:factory --weights {spec}."
    )


# ----------------------------------------------------------------------------- data


def default_data_spec(info: ModelInfo) -> str | None:
    """The data a model comes with: its training set for zoo models, nothing otherwise."""
    if info.zoo_name is not None:
        from netgraph import zoo

        return f"zoo:{zoo.model_dataset(info.zoo_name)}"
    return None


def _encode(tokenizer, sentences: list[str], max_length: int = 64) -> dict:
    encoded = tokenizer(sentences, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    batch = {key: encoded[key] for key in ("input_ids", "attention_mask", "token_type_ids") if key in encoded}
    return batch


def _chunks(inputs: Any, batch_size: int) -> list:
    n = count_samples(inputs)
    out = []
    for start in range(0, n, batch_size):
        if isinstance(inputs, dict):
            out.append({k: v[start : start + batch_size] for k, v in inputs.items()})
        else:
            out.append(inputs[start : start + batch_size])
    return out


def load_data_spec(
    spec: str, model, info: ModelInfo, *, n_samples: int = 512, batch_size: int = 128, seed: int = 0
) -> Data:
    """Read DATA, split it into calibration and held-out batches, and check it fits the model."""
    import numpy as np
    import torch

    if n_samples < 1 or batch_size < 1:
        raise BadInput("--samples and --batch-size must be at least 1.")
    labels = None
    train = None
    if spec.startswith("zoo:"):
        from netgraph import zoo

        name = spec.split(":", 1)[1]
        if name not in zoo.DATASETS:
            raise BadInput(f"Unknown zoo data set {name!r}; choose one of: {', '.join(zoo.DATASETS)}.")
        if name in zoo.TEXT_DATASETS:
            splits = zoo.load_dataset(name)
            train_inputs = _sentences(list(splits.train), info, spec)
            held = _sentences(list(splits.test), info, spec)
        else:
            as_images = _wants_images(model, info, name)
            splits = zoo.load_dataset(name, as_images=as_images)
            train = splits.train
            train_inputs = splits.train.tensors[0]
            held, labels = splits.test.tensors
    else:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise BadInput(f"DATA file {spec!r} does not exist; give a .npy/.npz/.pt file, a .txt file or zoo:NAME.")
        if path.suffix == ".txt":
            sentences = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
            sentences = [s for s in sentences if s]
            if not sentences:
                raise BadInput(f"DATA file {spec!r} has no sentences; write one sentence a line.")
            inputs = _sentences(sentences, info, spec)
        else:
            inputs, file_labels = _read_tensor_file(path)
            if file_labels is not None and len(file_labels) != count_samples(inputs):
                raise BadInput(f"DATA file {spec!r} has {len(file_labels)} labels for {count_samples(inputs)} inputs.")
            inputs = _match_input_dtype(inputs, model)
        n = count_samples(inputs)
        if n < 2:
            raise BadInput(f"DATA file {spec!r} holds {n} sample(s); give at least 2 (some are held out to measure fidelity).")
        n_held = max(1, n // 5)
        order = np.random.default_rng(seed).permutation(n)
        held_index, train_index = torch.as_tensor(order[:n_held]), torch.as_tensor(order[n_held:])
        take = (lambda x, i: {k: v[i] for k, v in x.items()}) if isinstance(inputs, dict) else (lambda x, i: x[i])
        train_inputs, held = take(inputs, train_index), take(inputs, held_index)
        if file_labels is not None:
            labels = file_labels[held_index]
            from torch.utils.data import TensorDataset

            if not isinstance(inputs, dict):
                train = TensorDataset(train_inputs, file_labels[train_index])
    if count_samples(train_inputs) > n_samples:
        generator = torch.Generator().manual_seed(seed)
        index = torch.randperm(count_samples(train_inputs), generator=generator)[:n_samples]
        train_inputs = {k: v[index] for k, v in train_inputs.items()} if isinstance(train_inputs, dict) else train_inputs[index]
    data = Data(spec, _chunks(train_inputs, batch_size), _chunks(held, batch_size), labels, train)
    _check_fits(model, data.calibration[0], spec, info)
    return data


def _sentences(sentences: list[str], info: ModelInfo, spec: str) -> dict:
    if not info.text or info.tokenizer is None:
        raise BadInput(
            f"DATA {spec!r} is text but MODEL {info.spec!r} is not a text model with a tokenizer; "
            "give tensor data (.npy/.npz/.pt) instead."
        )
    return _encode(info.tokenizer, sentences)


def _wants_images(model, info: ModelInfo, dataset: str) -> bool:
    if info.zoo_name is not None and info.zoo_name != "minilm":
        from netgraph.zoo.models import RECIPES

        return RECIPES[info.zoo_name].as_images
    from torch import nn

    first = next((m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))), None)
    return isinstance(first, nn.Conv2d)


def _read_tensor_file(path: Path):
    import numpy as np
    import torch

    labels = None
    try:
        if path.suffix == ".npy":
            array = np.load(path, allow_pickle=False)
            inputs = torch.from_numpy(np.ascontiguousarray(array))
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                key = next((k for k in ("x", "X", "inputs", "data") if k in keys), keys[0] if keys else None)
                if key is None:
                    raise BadInput(f"DATA file {str(path)!r} is an empty .npz archive.")
                inputs = torch.from_numpy(np.ascontiguousarray(archive[key]))
                label_key = next((k for k in ("y", "labels", "targets") if k in keys), None)
                if label_key is not None:
                    labels = torch.from_numpy(np.ascontiguousarray(archive[label_key])).long()
        elif path.suffix in (".pt", ".pth"):
            content = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(content, (tuple, list)) and len(content) == 2 and all(torch.is_tensor(c) for c in content):
                inputs, labels = content[0], content[1].long()
            elif isinstance(content, dict) and any(k in content for k in ("x", "X", "inputs")):
                inputs = next(content[k] for k in ("x", "X", "inputs") if k in content)
                label = next((content[k] for k in ("y", "labels", "targets") if k in content), None)
                labels = None if label is None else label.long()
            elif isinstance(content, dict) and "input_ids" in content:
                inputs = content
            elif torch.is_tensor(content):
                inputs = content
            else:
                raise BadInput(
                    f"DATA file {str(path)!r} holds {type(content).__name__}; save a tensor, (inputs, labels) "
                    "or a dict with 'x' (and 'y')."
                )
        else:
            raise BadInput(f"DATA file {str(path)!r} has an unknown type; use .npy, .npz, .pt or .txt (sentences).")
    except BadInput:
        raise
    except Exception as error:  # noqa: BLE001 - numpy/torch raise many kinds for broken files
        raise BadInput(f"DATA file {str(path)!r} is corrupt or unreadable ({type(error).__name__}: {error}).") from error
    if not isinstance(inputs, dict) and inputs.ndim == 0:
        raise BadInput(f"DATA file {str(path)!r} holds a scalar; give a batch of inputs (first axis = samples).")
    return inputs, labels


def _match_input_dtype(inputs: Any, model) -> Any:
    import torch

    if isinstance(inputs, dict) or not inputs.is_floating_point():
        return inputs
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    return inputs.to(dtype)


def _check_fits(model, batch: Any, spec: str, info: ModelInfo) -> None:
    import torch

    from netgraph.batches import call_model

    try:
        with torch.inference_mode():
            call_model(model, batch[:2] if torch.is_tensor(batch) else batch)
    except Exception as error:  # noqa: BLE001 - any failure here means the data does not fit
        shape = tuple(batch.shape) if torch.is_tensor(batch) else "a dict of " + ", ".join(batch) if isinstance(batch, dict) else type(batch).__name__
        message = " ".join(str(error).split())[:200]
        raise BadInput(
            f"DATA {spec!r} does not fit MODEL {info.spec!r}: the model fails on a batch of shape {shape} ({message}); "
            "give inputs shaped like the model's input."
        ) from error
