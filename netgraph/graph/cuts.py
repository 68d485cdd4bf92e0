"""Which original channels a layer has already lost, so later groups find their own.

Groups are cut one after the other on the same model. When one layer belongs to several
groups — a DenseNet layer reading ``cat([a, b, c])``, a SqueezeNet Fire output — cutting
group ``a`` shifts the input columns of ``b`` and ``c``. Plans keep every index in the
*original* model's numbering; each layer remembers the original indices it has lost (an
attribute on the module, so it survives ``copy.deepcopy``) and the current position of
any original index follows from that.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from netgraph.graph.groups import Member

__all__ = ["record_cut", "removed", "current_positions", "current_columns", "alive_original", "member_side"]

_ATTRIBUTE = "_netgraph_removed"


def _side(member: Member) -> str:
    if member.kind == "parameter":
        return f"out:{member.attribute}"  # one record per parameter of the owning module
    return "in" if member.role == "consumer" else "out"


def member_side(member: Member) -> str:
    """The record a member's cuts are kept under: "in", "out", or "out:<parameter>"."""
    return _side(member)


def removed(module: nn.Module, side: str) -> np.ndarray:
    """Original indices ``module`` has lost on ``side`` ("in" or "out"), sorted."""
    return getattr(module, _ATTRIBUTE, {}).get(side, np.zeros(0, dtype=np.int64))


def record_cut(module: nn.Module, side: str, original: np.ndarray) -> None:
    """Remember that ``module`` lost the original indices ``original`` on ``side``."""
    record = dict(getattr(module, _ATTRIBUTE, {}))
    record[side] = np.union1d(removed(module, side), np.asarray(original, dtype=np.int64).reshape(-1))
    object.__setattr__(module, _ATTRIBUTE, record)  # a plain attribute, not a buffer


def current_positions(module: nn.Module, side: str, original: np.ndarray) -> np.ndarray:
    """Where the original indices ``original`` (still present) sit in ``module`` now."""
    original = np.asarray(original, dtype=np.int64)
    lost = removed(module, side)
    if lost.size == 0:
        return original
    return original - np.searchsorted(lost, original)


def current_columns(module: nn.Module, member: Member) -> np.ndarray:
    """``member.columns`` renumbered for the layer as it is now."""
    return current_positions(module, _side(member), member.columns)


def alive_original(module: nn.Module, side: str, original_size: int) -> np.ndarray:
    """The original indices ``module`` still has on ``side``, in their current order."""
    return np.setdiff1d(np.arange(original_size), removed(module, side))
