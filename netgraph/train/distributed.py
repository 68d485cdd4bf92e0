"""Summing calibration statistics across ``torch.distributed`` ranks.

Statistics in netgraph are sums (:class:`~netgraph.calibrate.stats.UnitStats`,
:class:`~netgraph.calibrate.stats.ConsumerStats`), so combining the shards that several
processes saw is one all-reduce (sum) per array. Under ``torchrun`` every rank calls
:func:`all_reduce_stats` with its own statistics and gets back the totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
import torch

from netgraph.errors import InvalidParameterError

__all__ = ["all_reduce_stats", "is_distributed", "rank_and_world_size", "STAT_FIELDS"]

STAT_FIELDS = ("count", "total", "gram", "cross", "target_sq", "target_sum")

T = TypeVar("T")


def is_distributed() -> bool:
    """Whether a ``torch.distributed`` process group is initialised."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def rank_and_world_size() -> tuple[int, int]:
    import torch.distributed as dist

    return (dist.get_rank(), dist.get_world_size()) if is_distributed() else (0, 1)


def _reduce_value(value: Any) -> Any:
    import torch.distributed as dist

    if isinstance(value, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float64)).clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.numpy().astype(value.dtype, copy=False)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        tensor = torch.tensor([int(value)], dtype=torch.int64)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return int(tensor.item())
    if isinstance(value, (float, np.floating)):
        tensor = torch.tensor([float(value)], dtype=torch.float64)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return float(tensor.item())
    raise InvalidParameterError(f"Cannot all-reduce a statistic field of type {type(value).__name__}.")


def _reduce_one(stats: Any) -> Any:
    present = [name for name in STAT_FIELDS if getattr(stats, name, None) is not None and name in vars(stats)]
    if "gram" not in present:
        raise InvalidParameterError(
            f"all_reduce_stats expects objects with a 'gram' field (UnitStats, ConsumerStats); "
            f"got {type(stats).__name__}."
        )
    for name in present:
        setattr(stats, name, _reduce_value(getattr(stats, name)))
    return stats


def all_reduce_stats(stats: T) -> T:
    """Sum statistics over all ranks, in place, and return them.

    ``stats`` is one statistics object (fields among ``count``, ``total``, ``gram``,
    ``cross``, ``target_sq``, ``target_sum``), or a dict / list of them; every rank must pass
    the same structure (same keys, in the same order of shapes). Arrays are reduced in
    float64. Without an initialised process group this is a no-op.

    Examples
    --------
    Inside a ``torchrun`` process:

    >>> stats = all_reduce_stats(stats)  # doctest: +SKIP
    """
    if not is_distributed():
        return stats
    if isinstance(stats, Mapping):
        for key in sorted(stats):  # identical order on every rank
            _reduce_one(stats[key])
        return stats
    if isinstance(stats, (list, tuple)):
        for item in stats:
            _reduce_one(item)
        return stats
    return _reduce_one(stats)
