"""Turning the data a caller passes into batches, and batches into (inputs, targets).

Accepted data: a ``Dataset`` yielding ``(x, y)`` or ``(x,)`` (batched by a DataLoader, and
sharded with a ``DistributedSampler`` under ``torch.distributed``), a ``DataLoader``, or a
list of ready batches — tensors, ``(x, y)`` tuples, or Hugging Face style dicts (a
``"labels"`` key, if present, is the target).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from netgraph.errors import InvalidParameterError

__all__ = ["Batches", "make_batches", "split_batch", "to_device", "expected_input"]


def _rank_and_world() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@dataclass
class Batches:
    """A re-iterable source of batches; ``set_epoch`` reshuffles deterministically."""

    source: Any
    sampler: Any = None
    count: int = 0

    def set_epoch(self, epoch: int) -> None:
        if self.sampler is not None and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self):
        return iter(self.source)

    def __len__(self) -> int:
        return self.count


def make_batches(
    data: Any,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    owner: str,
    parameter: str = "data",
    shard: bool = True,
) -> Batches:
    """Normalise ``data`` into :class:`Batches`, sharded across ranks when distributed.

    With ``shard=False`` (validation data) every rank sees all of the data, so every rank
    computes the same metric and takes the same early-stopping decision.
    """
    rank, world = _rank_and_world() if shard else (0, 1)
    if isinstance(data, DataLoader):
        if len(data) == 0:
            raise InvalidParameterError.expected(parameter, owner, "non-empty", "an empty DataLoader")
        return Batches(data, getattr(data, "sampler", None), len(data))
    if isinstance(data, Dataset) and not isinstance(data, (list, tuple)):
        try:
            size = len(data)
        except TypeError as error:
            raise InvalidParameterError(f"The {parameter!r} parameter of {owner} must have a length.") from error
        if size == 0:
            raise InvalidParameterError.expected(parameter, owner, "a non-empty dataset", "a dataset of 0 samples")
        generator = torch.Generator().manual_seed(seed)
        if world > 1:
            from torch.utils.data.distributed import DistributedSampler

            sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=shuffle, seed=seed)
            loader = DataLoader(data, batch_size=batch_size, sampler=sampler)
            return Batches(loader, sampler, len(loader))
        loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)
        return Batches(loader, None, len(loader))
    if isinstance(data, (list, tuple)):
        if len(data) == 0:
            raise InvalidParameterError.expected(parameter, owner, "a non-empty list of batches", [])
        batches = list(data[rank::world])
        if not batches:
            raise InvalidParameterError(
                f"The {parameter!r} parameter of {owner} holds {len(data)} batches, fewer than the "
                f"{world} processes; give at least one batch per process."
            )
        return Batches(batches, None, len(batches))
    raise InvalidParameterError.expected(
        parameter, owner, "a Dataset, a DataLoader or a list of batches", type(data).__name__
    )


def split_batch(batch: Any) -> tuple[Any, torch.Tensor | None]:
    """``(inputs, targets)`` of one batch; ``targets`` is None for unlabelled data."""
    if isinstance(batch, Mapping):
        inputs = {key: value for key, value in batch.items() if key != "labels"}
        return inputs, batch.get("labels")
    if isinstance(batch, torch.Tensor):
        return batch, None
    if isinstance(batch, Sequence) and not isinstance(batch, str):
        if len(batch) == 1:
            return batch[0], None
        if len(batch) == 2:
            return batch[0], batch[1]
        raise InvalidParameterError(f"A batch must be x, (x,) or (x, y); got a sequence of {len(batch)} items.")
    raise InvalidParameterError(f"A batch must be a tensor, a tuple or a dict; got {type(batch).__name__}.")


def to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, Mapping):
        return {key: to_device(item, device) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(item, device) for item in value)
    return value


def as_tensor_output(output: Any) -> torch.Tensor:
    """The tensor to train on: logits, else the last hidden state, else the output itself."""
    if isinstance(output, torch.Tensor):
        return output
    for name in ("logits", "last_hidden_state"):
        value = getattr(output, name, None)
        if isinstance(value, torch.Tensor):
            return value
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise InvalidParameterError(
        f"Cannot train on a model output of type {type(output).__name__}; pass output_fn to pick a tensor."
    )


def expected_input(model: nn.Module) -> str:
    """A human description of the input the model's first weight layer expects."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            return f"(batch, ..., {module.in_features})"
        if isinstance(module, nn.Conv2d):
            return f"(batch, {module.in_channels}, height, width)"
        if isinstance(module, nn.Conv1d):
            return f"(batch, {module.in_channels}, length)"
        if isinstance(module, nn.Embedding):
            return f"(batch, sequence) integer token ids < {module.num_embeddings}"
    return "an input the model accepts"


def describe(inputs: Any) -> str:
    if isinstance(inputs, torch.Tensor):
        return f"{tuple(inputs.shape)} {str(inputs.dtype).replace('torch.', '')}"
    if isinstance(inputs, Mapping):
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in inputs.items()) + "}"
    return type(inputs).__name__
