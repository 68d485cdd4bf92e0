"""Turning layer inputs and outputs into sample matrices (one row per sample).

Tokens and spatial positions are samples; padded tokens are dropped through the
attention mask; convolution inputs are unfolded (im2col) so that a convolution is a
matrix product and least squares on its input is ordinary least squares.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from netgraph.errors import UnsupportedModelError
from netgraph.graph.groups import Member

__all__ = ["unit_samples", "consumer_inputs", "consumer_outputs", "unfolded_columns"]


def _rows(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Flatten (..., F) to (N, F), keeping only unmasked tokens when a mask fits."""
    if mask is not None and x.dim() == 3 and tuple(x.shape[:2]) == tuple(mask.shape):
        return x[mask.bool()]
    return x.reshape(-1, x.shape[-1])


def unit_samples(x: torch.Tensor, consumer: Member, mask: torch.Tensor | None) -> torch.Tensor:
    """The group's unit activations, (n_samples, n_units), read from a consumer's input."""
    columns = torch.as_tensor(consumer.columns, device=x.device)
    if consumer.kind == "conv":
        channels = x.index_select(1, columns[:, 0])
        return channels.movedim(1, -1).reshape(-1, columns.shape[0])
    rows = _rows(x, mask)
    picked = rows[:, columns.reshape(-1)].reshape(rows.shape[0], columns.shape[0], columns.shape[1])
    return picked.transpose(1, 2).reshape(-1, columns.shape[0])


def _conv2d_view(module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
    if getattr(module, "padding_mode", "zeros") != "zeros":
        raise UnsupportedModelError(
            f"Convolution with padding_mode={module.padding_mode!r} cannot be folded; only zero padding is supported."
        )
    if isinstance(module, nn.Conv1d):
        x = x.unsqueeze(-1)
        return x, dict(
            kernel_size=(module.kernel_size[0], 1),
            dilation=(module.dilation[0], 1),
            padding=(module.padding[0], 0),
            stride=(module.stride[0], 1),
        )
    return x, dict(kernel_size=module.kernel_size, dilation=module.dilation, padding=module.padding, stride=module.stride)


def consumer_inputs(module: nn.Module, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A consumer's input as (n_samples, fan_in): Linear rows, or im2col patches of a conv."""
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        if isinstance(module.padding, str):
            raise UnsupportedModelError(f"Convolution with padding={module.padding!r} is not supported for folding.")
        x, kwargs = _conv2d_view(module, x)
        patches = F.unfold(x, **kwargs)  # (B, C*kh*kw, L)
        return patches.transpose(1, 2).reshape(-1, patches.shape[1])
    return _rows(x, mask)


def consumer_outputs(module: nn.Module, y: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A consumer's output as (n_samples, fan_out), rows aligned with :func:`consumer_inputs`."""
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return y.movedim(1, -1).reshape(-1, y.shape[1])
    return _rows(y, mask)


def unfolded_columns(module: nn.Module, consumer: Member) -> torch.Tensor:
    """Per-unit columns of :func:`consumer_inputs`, (n_units, per_unit)."""
    columns = torch.as_tensor(consumer.columns)
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        taps = int(torch.tensor(module.kernel_size).prod())
        return (columns[:, :1] * taps + torch.arange(taps)).to(torch.int64)
    return columns.to(torch.int64)
