"""Model-input batches: a tensor, a tuple/list of positional arguments, or a dict of keyword
arguments (Hugging Face). Every stage that runs a model on user data goes through these."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["call_model", "first_rows", "batch_size"]


def call_model(model: nn.Module, inputs: Any) -> Any:
    """Call ``model`` on one batch, spreading tuples and dicts into arguments."""
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def first_rows(inputs: Any, n: int) -> Any:
    """The first ``n`` samples of a batch (every tensor sliced along its first dimension)."""
    if isinstance(inputs, torch.Tensor):
        return inputs[:n] if inputs.dim() > 0 else inputs
    if isinstance(inputs, dict):
        return {key: first_rows(value, n) for key, value in inputs.items()}
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(first_rows(value, n) for value in inputs)
    return inputs


def batch_size(inputs: Any) -> int:
    """Number of samples in a batch (the first dimension of its first tensor)."""
    if isinstance(inputs, dict):
        return int(next(iter(inputs.values())).shape[0])
    if isinstance(inputs, (tuple, list)):
        return int(inputs[0].shape[0])
    return int(inputs.shape[0])
