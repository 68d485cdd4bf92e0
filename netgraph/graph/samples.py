"""A group's unit activations as a sample matrix, read from one consumer's input.

Lives in ``graph/`` (not ``calibrate/``) because the group finder itself reads unit
activations to check homogeneity; calibration builds on it.
"""

from __future__ import annotations

import torch

from netgraph.graph.groups import Member

__all__ = ["token_rows", "unit_samples"]


def token_rows(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Flatten (..., F) to (N, F), keeping only unmasked tokens when a mask fits."""
    if mask is not None and x.dim() == 3 and tuple(x.shape[:2]) == tuple(mask.shape):
        return x[mask.bool()]
    return x.reshape(-1, x.shape[-1])


def unit_samples(
    x: torch.Tensor, consumer: Member, mask: torch.Tensor | None, columns: torch.Tensor | None = None
) -> torch.Tensor:
    """The group's unit activations, (n_samples, n_units), read from a consumer's input.

    ``columns`` overrides ``consumer.columns`` when the consumer has already lost other
    groups' columns (a concatenation reader cut earlier in the same plan).
    """
    columns = torch.as_tensor(consumer.columns if columns is None else columns, device=x.device)
    if consumer.kind == "conv":
        channels = x.index_select(1, columns[:, 0])
        return channels.movedim(1, -1).reshape(-1, columns.shape[0])
    rows = token_rows(x, mask)
    picked = rows[:, columns.reshape(-1)].reshape(rows.shape[0], columns.shape[0], columns.shape[1])
    return picked.transpose(1, 2).reshape(-1, columns.shape[0])
