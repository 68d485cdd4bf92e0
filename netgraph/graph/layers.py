"""Layer kinds netgraph can cut, and a uniform (out, in, ...) view of their weights.

Most layers store their weight as (out_features, in_features, ...). Hugging Face's
``Conv1D`` (GPT-2, GPT-J's ancestors, DistilGPT-2) stores it transposed, (in, out), so every
reader and writer of consumer weights goes through :func:`weight_view` and
:func:`from_weight_view` instead of ``module.weight``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "layer_kind",
    "norm_kind",
    "is_transposed_linear",
    "is_depthwise",
    "is_grouped",
    "weight_view",
    "from_weight_view",
    "CONV_TYPES",
]

CONV_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_NORM_KINDS = {
    nn.BatchNorm1d: "batchnorm",
    nn.BatchNorm2d: "batchnorm",
    nn.BatchNorm3d: "batchnorm",
    nn.LayerNorm: "layernorm",
}


def is_transposed_linear(module: nn.Module) -> bool:
    """Hugging Face's ``Conv1D``: a Linear with weight (in, out), found by class name so
    that transformers is never imported for models that do not use it."""
    return type(module).__name__ == "Conv1D" and hasattr(module, "nf") and getattr(module, "weight", None) is not None


def is_depthwise(module: nn.Module) -> bool:
    """A convolution with one filter per channel: its channels pass through one by one."""
    return (
        isinstance(module, CONV_TYPES)
        and module.groups > 1
        and module.groups == module.in_channels == module.out_channels
    )


def is_grouped(module: nn.Module) -> bool:
    """A grouped (not depthwise) convolution: cutting channels must keep groups balanced."""
    return isinstance(module, CONV_TYPES) and module.groups > 1 and not is_depthwise(module)


def layer_kind(module: nn.Module) -> str | None:
    """``linear``, ``conv``, ``depthwise``, ``transposed_linear`` or None when netgraph cannot cut it."""
    if is_transposed_linear(module):
        return "transposed_linear"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, CONV_TYPES):
        return "depthwise" if is_depthwise(module) else "conv"
    return None


def norm_kind(module: nn.Module) -> str | None:
    for cls, name in _NORM_KINDS.items():
        if isinstance(module, cls):
            return name
    return None


def weight_view(module: nn.Module) -> torch.Tensor:
    """The weight as (out, in, *kernel), whatever the layer stores."""
    weight = module.weight.detach()
    return weight.T if is_transposed_linear(module) else weight


def from_weight_view(module: nn.Module, weight: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`weight_view`: a (out, in, ...) tensor in the layer's own layout."""
    return weight.T.contiguous() if is_transposed_linear(module) else weight
