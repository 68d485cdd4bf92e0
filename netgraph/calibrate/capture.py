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
from netgraph.graph.layers import CONV_TYPES
from netgraph.graph.samples import token_rows as _rows
from netgraph.graph.samples import unit_samples

__all__ = ["unit_samples", "consumer_inputs", "consumer_outputs", "unfolded_columns"]


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


def _unfold3d(module: nn.Conv3d, x: torch.Tensor) -> torch.Tensor:
    """im2col of a 3-D convolution, (n_samples, C*kd*kh*kw), with Tensor.unfold per axis."""
    if tuple(module.dilation) != (1, 1, 1):
        raise UnsupportedModelError(f"Dilated Conv3d ({module.dilation}) cannot be folded; use fold='none'.")
    pd, ph, pw = module.padding
    x = F.pad(x, (pw, pw, ph, ph, pd, pd))
    for axis, (size, step) in enumerate(zip(module.kernel_size, module.stride)):
        x = x.unfold(2 + axis, size, step)  # (B, C, oD, oH, oW, kd, kh, kw) once all three are done
    b, c, od, oh, ow = x.shape[:5]
    return x.permute(0, 2, 3, 4, 1, 5, 6, 7).reshape(b * od * oh * ow, -1)


def consumer_inputs(module: nn.Module, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A consumer's input as (n_samples, fan_in): Linear rows, or im2col patches of a conv."""
    if isinstance(module, nn.Conv3d):
        if isinstance(module.padding, str) or module.padding_mode != "zeros":
            raise UnsupportedModelError("Conv3d with non-zero or string padding cannot be folded; use fold='none'.")
        return _unfold3d(module, x)
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        if isinstance(module.padding, str):
            raise UnsupportedModelError(f"Convolution with padding={module.padding!r} is not supported for folding.")
        x, kwargs = _conv2d_view(module, x)
        patches = F.unfold(x, **kwargs)  # (B, C*kh*kw, L)
        return patches.transpose(1, 2).reshape(-1, patches.shape[1])
    return _rows(x, mask)


def consumer_outputs(module: nn.Module, y: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A consumer's output as (n_samples, fan_out), rows aligned with :func:`consumer_inputs`."""
    if isinstance(module, CONV_TYPES):
        return y.movedim(1, -1).reshape(-1, y.shape[1])
    return _rows(y, mask)


def unfolded_columns(module: nn.Module, consumer: Member, columns=None) -> torch.Tensor:
    """Per-unit columns of :func:`consumer_inputs`, (n_units, per_unit).

    ``columns`` (channel indices, default ``consumer.columns``) renumbers them for a layer
    that other groups have already cut.
    """
    columns = torch.as_tensor(consumer.columns if columns is None else columns)
    if isinstance(module, CONV_TYPES):
        taps = int(torch.tensor(module.kernel_size).prod())
        return (columns[:, :1] * taps + torch.arange(taps)).to(torch.int64)
    return columns.to(torch.int64)
