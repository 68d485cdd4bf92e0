"""MODEL specs: ``zoo:NAME``, a Hugging Face folder, ``package.module:factory``, a pickled model.

:func:`check_model_spec` answers "can this spec possibly load?" from names and paths alone;
:func:`load_model` loads it. Neither prints: status goes to the optional ``progress``.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from netgraph.errors import CheckpointError, InvalidParameterError, UnsupportedModelError
from netgraph.sources.pickle_policy import WEIGHT_SUFFIXES, check_weights_path, read_weights

__all__ = ["ModelInfo", "load_model", "check_model_spec"]

_SPEC_HINT = (
    "use zoo:NAME (e.g. zoo:mlp-digits), a Hugging Face model folder, or package.module:factory with weights"
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


def _kind(spec: str, weights: Path | None) -> str:
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidParameterError(f"MODEL is empty; {_SPEC_HINT}.")
    if spec.startswith("zoo:"):
        return "zoo"
    path = Path(spec).expanduser()
    if path.is_dir():
        return "huggingface"
    if path.suffix in WEIGHT_SUFFIXES or path.exists():
        return "pickle"
    if ":" in spec:
        return "factory"
    raise InvalidParameterError(f"MODEL {spec!r} is not a zoo model, a folder or a factory; {_SPEC_HINT}.")


def _check_cache_writable(name: str) -> None:
    """Zoo models are trained on first use: refuse an unwritable cache before training."""
    from netgraph.zoo.cache import ENV_VAR, cache_root

    root = cache_root()
    if (root / f"{name}.safetensors").is_file():
        return  # already cached (its checksum is verified when it loads)
    existing = root
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise CheckpointError(
            f"The zoo cache folder {str(root)!r} cannot be written, so the trained {name!r} weights could not be "
            f"kept; set {ENV_VAR} to a writable folder."
        )


def check_model_spec(spec: str, weights: str | os.PathLike | None = None) -> str:
    """Check a MODEL spec without loading it; returns its kind (zoo, huggingface, factory, pickle).

    Raises
    ------
    InvalidParameterError
        Unknown zoo name, malformed spec, or weights given where they cannot apply.
    CheckpointError
        A named file or folder is missing or unusable, or the zoo cache cannot be written.

    Examples
    --------
    >>> check_model_spec("torch.nn:Identity")
    'factory'
    >>> check_model_spec("zoo:nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    netgraph.errors.InvalidParameterError: Unknown zoo model 'nope'; choose one of: ...
    """
    weights = None if weights is None else Path(weights).expanduser()
    kind = _kind(spec, weights)
    if weights is not None and kind in ("zoo", "huggingface"):
        where = "zoo models load their own weights" if kind == "zoo" else "its weights are in the folder"
        label = "a zoo model" if kind == "zoo" else "a Hugging Face folder"
        raise InvalidParameterError(f"--weights cannot be combined with {label}; {where}.")
    if weights is not None:
        check_weights_path(weights)
    if kind == "zoo":
        from netgraph import zoo

        name = spec.split(":", 1)[1]
        if name not in zoo.MODELS:
            raise InvalidParameterError(f"Unknown zoo model {name!r}; choose one of: {', '.join(zoo.MODELS)}.")
        if name != "minilm":
            _check_cache_writable(name)
    elif kind == "huggingface":
        if not (Path(spec).expanduser() / "config.json").is_file():
            raise CheckpointError(
                f"Folder {spec!r} has no config.json, so it is not a Hugging Face model folder; "
                "point MODEL at the folder that holds config.json and the weights."
            )
    elif kind == "pickle":
        check_weights_path(spec, "MODEL file")
    else:
        module_name, _, attribute = spec.rpartition(":")
        if not module_name or not attribute or not all(part.isidentifier() for part in module_name.split(".")) \
                or not attribute.isidentifier():
            raise InvalidParameterError(f"MODEL {spec!r} must look like package.module:factory.")
    return kind


def load_model(spec: str, weights: str | os.PathLike | None = None, *, allow_pickle: bool = False,
               progress: Callable[[str], None] | None = None):
    """``(model in eval mode, example inputs or None, ModelInfo)`` for a MODEL spec.

    Parameters
    ----------
    spec : see the module docstring
    weights : weights for a factory MODEL (``.safetensors`` or a ``.pt`` state dict)
    allow_pickle : read pickled whole models (runs code from the file; only for trusted files)
    progress : optional callable receiving one-line status messages (zoo training)
    """
    kind = check_model_spec(spec, weights)
    weights = None if weights is None else Path(weights).expanduser()
    if kind == "zoo":
        return _load_zoo(spec, progress)
    if kind == "huggingface":
        return _load_huggingface(spec, Path(spec).expanduser())
    if kind == "pickle":
        return _load_pickled(spec, Path(spec).expanduser(), allow_pickle)
    return _load_factory(spec, weights, allow_pickle)


def _load_zoo(spec: str, progress):
    from netgraph import zoo

    name = spec.split(":", 1)[1]
    model = zoo.load_model(name, progress=progress)
    info = ModelInfo(spec, "zoo", name, zoo_name=name, text=name == "minilm")
    if info.text:
        info.tokenizer = zoo.load_tokenizer()
    return model, zoo.example_inputs(name), info


def _load_huggingface(spec: str, path: Path):
    from netgraph.zoo.text import encode_sentences

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as error:
        raise CheckpointError("Hugging Face folders need transformers: pip install 'transformers<5'.") from error
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        detail = " ".join(str(error).split())[:200]
        raise CheckpointError(f"Could not load the Hugging Face model in {spec!r}: {detail}") from error
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
        example = encode_sentences(info.tokenizer, ["netgraph traces the model with this sentence.", "A second one."])
    return model.eval(), example, info


def _load_factory(spec: str, weights: Path | None, allow_pickle: bool):
    from torch import nn

    module_name, _, attribute = spec.rpartition(":")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # let users point at a module in the current folder
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidParameterError(
            f"Cannot import {module_name!r} for MODEL {spec!r} ({error}); check the module path and that it is installed."
        ) from error
    factory = getattr(module, attribute, None)
    if factory is None:
        raise InvalidParameterError(f"Module {module_name!r} has no attribute {attribute!r}; MODEL is package.module:factory.")
    model = factory() if callable(factory) and not isinstance(factory, nn.Module) else factory
    if not isinstance(model, nn.Module):
        raise UnsupportedModelError(f"{spec!r} returned {type(model).__name__}, not a torch.nn.Module.")
    if weights is not None:
        _load_weights(model, weights, allow_pickle)
    example = None
    for candidate in (f"{attribute}_example_inputs", "example_inputs"):
        value = getattr(module, candidate, None)
        if value is not None:
            example = value() if callable(value) else value
            break
    return model.eval(), example, ModelInfo(spec, "factory", attribute)


def _load_weights(model, weights: Path, allow_pickle: bool) -> None:
    from torch import nn

    state = read_weights(weights, allow_pickle)
    if isinstance(state, nn.Module):
        state = state.state_dict()
    if not isinstance(state, dict):
        raise CheckpointError(f"Weights file {str(weights)!r} holds {type(state).__name__}, not a state dict.")
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
        detail = " ".join(lines[:3])[:300]
        raise CheckpointError(
            f"Weights in {str(weights)!r} do not fit the model ({detail}); check that the factory builds the same architecture."
        ) from error


def _load_pickled(spec: str, path: Path, allow_pickle: bool):
    from torch import nn

    content = read_weights(path, allow_pickle)
    if isinstance(content, nn.Module):
        return content.eval(), None, ModelInfo(spec, "pickle", path.stem)
    raise InvalidParameterError(
        f"{spec!r} holds weights without an architecture; pass MODEL as package.module:factory --weights {spec}."
    )
