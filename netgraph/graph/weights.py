"""Per-unit weight views of a group: what flows into each unit and what flows out of it."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from netgraph.graph.cuts import current_columns
from netgraph.graph.groups import Member, UnitGroup
from netgraph.graph.layers import weight_view

__all__ = ["incoming_weights", "outgoing_weights", "norm_affine", "consumer_block"]


def norm_affine(module: nn.Module, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) of an eval-mode BatchNorm for the given channels: y = scale * x + shift.

    Uses sigma = sqrt(running_var + eps), not the variance (DESIGN.md).
    """
    index = torch.as_tensor(columns)
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.running_var is not None:
        sigma = torch.sqrt(module.running_var[index].double() + module.eps)
        gamma = module.weight[index].double() if module.weight is not None else torch.ones_like(sigma)
        beta = module.bias[index].double() if module.bias is not None else torch.zeros_like(sigma)
        scale = gamma / sigma
        shift = beta - scale * module.running_mean[index].double()
        return scale.detach().numpy(), shift.detach().numpy()
    ones = np.ones(len(columns))
    return ones, np.zeros(len(columns))


def incoming_weights(model: nn.Module, group: UnitGroup) -> np.ndarray:
    """Effective incoming weights with bias as last column, (n_units, fan_in + 1).

    A following BatchNorm is folded in, so proportional rows mean proportional
    pre-activations. Residual groups concatenate their producers' rows. With several
    channel-wise layers (a depthwise convolution between BatchNorms) every layer's
    per-unit parameters are concatenated unfolded: equal rows then still mean equal units.
    """
    modules = dict(model.named_modules())
    if len(group.norms) > 1 or any(n.kind == "depthwise" for n in group.norms):
        return _stacked_parameters(modules, group)
    blocks = []
    for producer in group.producers:
        module = modules[producer.module]
        index = torch.as_tensor(current_columns(module, producer)[:, 0])
        weight = weight_view(module)[index].double().reshape(group.size, -1).numpy()
        bias = (
            module.bias.detach()[index].double().numpy()
            if getattr(module, "bias", None) is not None
            else np.zeros(group.size)
        )
        for norm in group.norms:
            if norm.kind == "batchnorm":
                scale, shift = norm_affine(modules[norm.module], current_columns(modules[norm.module], norm)[:, 0])
                weight = weight * scale[:, None]
                bias = bias * scale + shift
        blocks.append(np.concatenate([weight, bias[:, None]], axis=1))
    return np.concatenate(blocks, axis=1)


def _stacked_parameters(modules: dict[str, nn.Module], group: UnitGroup) -> np.ndarray:
    blocks = []
    for member in [*group.producers, *group.norms]:
        module = modules[member.module]
        index = torch.as_tensor(current_columns(module, member)[:, 0])
        if member.kind == "parameter":
            blocks.append(getattr(module, member.attribute).detach()[index].double().reshape(group.size, 1).numpy())
            continue
        parts = []
        if getattr(module, "weight", None) is not None:
            parts.append(weight_view(module)[index].double().reshape(group.size, -1))
        if getattr(module, "bias", None) is not None:
            parts.append(module.bias.detach()[index].double().reshape(group.size, 1))
        for buffer in ("running_mean", "running_var"):
            if getattr(module, buffer, None) is not None:
                parts.append(getattr(module, buffer)[index].double().reshape(group.size, 1))
        blocks.extend(part.numpy() for part in parts)
    return np.concatenate(blocks, axis=1)


def consumer_block(module: nn.Module, consumer: Member, columns: np.ndarray | None = None) -> torch.Tensor:
    """The consumer's weight restricted to the group, shaped (n_units, fan_out, per_unit_taps).

    ``columns`` overrides ``consumer.columns`` for a consumer already cut by another group.
    """
    weight = weight_view(module)  # converted after indexing: a Flatten consumer is 100 M entries
    columns = torch.as_tensor(consumer.columns if columns is None else columns)
    if consumer.kind == "conv":
        block = weight[:, columns[:, 0]].double()  # (out, n, kh, kw)
        return block.transpose(0, 1).reshape(columns.shape[0], weight.shape[0], -1)
    block = weight[:, columns.reshape(-1)].double().reshape(weight.shape[0], columns.shape[0], columns.shape[1])
    return block.transpose(0, 1)  # (n, out, per_unit)


def outgoing_weights(model: nn.Module, group: UnitGroup) -> np.ndarray:
    """Each unit's outgoing weights into all consumers, flattened, (n_units, fan_out)."""
    modules = dict(model.named_modules())
    blocks = [
        consumer_block(modules[c.module], c, current_columns(modules[c.module], c)).reshape(group.size, -1).numpy()
        for c in group.consumers
    ]
    return np.concatenate(blocks, axis=1)
