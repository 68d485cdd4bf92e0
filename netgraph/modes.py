"""Train/eval modes: read a model without leaving it in another mode.

netgraph reads models it was handed (tracing, calibration, planning, measuring) and must
give them back as it found them, submodule by submodule: a model in training with a
frozen, eval-mode BatchNorm stays so. One copy of that logic, used everywhere.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch import nn

__all__ = ["eval_mode", "training_modes", "restore_modes"]


def training_modes(model: nn.Module) -> dict[str, bool]:
    """Every submodule's ``training`` flag, by name (the model itself under ``""``)."""
    return {name: module.training for name, module in model.named_modules(remove_duplicate=False)}


def restore_modes(model: nn.Module, modes: dict[str, bool]) -> None:
    """Put back the flags :func:`training_modes` read (submodules added since are left alone)."""
    for name, module in model.named_modules(remove_duplicate=False):
        if name in modes:
            module.training = modes[name]


@contextmanager
def eval_mode(*models: nn.Module) -> Iterator[None]:
    """Evaluate ``models`` inside the block; each submodule's mode is restored afterwards.

    Examples
    --------
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).train()
    >>> _ = model[1].eval()  # a frozen normalisation inside a training model
    >>> with eval_mode(model):
    ...     model.training
    False
    >>> model.training, model[1].training
    (True, False)
    """
    saved = [training_modes(model) for model in models]
    try:
        for model in models:
            model.eval()
        yield
    finally:
        for model, modes in zip(models, saved):
            restore_modes(model, modes)
