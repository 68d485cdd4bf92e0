"""Compensation: fold the work of dropped units into the consumers of the kept ones.

Three folds (DESIGN.md, "Merging: the compensation math"):

- ``none``: drop; with statistics, the dropped units' mean input is folded into the bias.
- ``exact``: data-free weight-space merge, ``W[:, k] += lambda W[:, p]`` for each dropped
  unit ``p`` merged into ``k``; exact when the units are positively scaled duplicates on a
  positively homogeneous path (ReLU), with lambda the least-squares scale of the incoming
  weights.
- ``lstsq``: refit each consumer on the kept input columns (im2col patches for
  convolutions, which handles zero padding) so it reproduces the target output, by ridge
  normal equations on streamed Gram matrices. The target is the original network's output
  of that consumer (``ConsumerStats.cross``) or, without one, the consumer's own output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from netgraph.algorithms.normal_equations import solve_normal_equations
from netgraph.calibrate.capture import unfolded_columns
from netgraph.calibrate.stats import ConsumerStats
from netgraph.graph.cuts import alive_original, current_columns
from netgraph.graph.groups import Member, UnitGroup
from netgraph.graph.layers import CONV_TYPES, from_weight_view, weight_view

__all__ = ["FOLDS", "ConsumerUpdate", "fold_consumer", "merge_scales", "output_error"]

FOLDS = ("none", "exact", "lstsq")


@dataclass
class ConsumerUpdate:
    """New weights of one consumer over its kept input columns (shapes match the cut layer)."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    output_error: float | None = None
    fallback: str | None = None  # why a least-squares fold became a plain drop


def merge_scales(incoming: np.ndarray, assignment: np.ndarray, homogeneous: bool) -> np.ndarray:
    """Least-squares scale lambda_p with incoming_p ≈ lambda_p incoming_k, for each merged unit.

    Non-homogeneous activations (GELU, tanh) only commute with lambda = 1, so near-equal
    units are merged with lambda = 1 there. Dropped-without-target units get 0.
    """
    scales = np.zeros(assignment.size)
    for unit, target in enumerate(assignment):
        if target < 0 or target == unit:
            continue
        if not homogeneous:
            scales[unit] = 1.0
            continue
        reference = incoming[target]
        denominator = float(reference @ reference)
        scale = float(incoming[unit] @ reference) / denominator if denominator > 0 else 0.0
        scales[unit] = max(scale, 0.0)
    return scales


def _flat_weight(module: nn.Module) -> torch.Tensor:
    weight = weight_view(module).double()
    return weight.reshape(weight.shape[0], -1)


def _shape_back(module: nn.Module, flat: torch.Tensor, n_kept_channels: int) -> torch.Tensor:
    if isinstance(module, CONV_TYPES):
        return flat.reshape(flat.shape[0], n_kept_channels, *module.weight.shape[2:]).to(module.weight.dtype)
    return from_weight_view(module, flat.to(module.weight.dtype))


def _statistics_index(module: nn.Module, consumer: Member, stats: ConsumerStats | None, fan_in: int) -> np.ndarray:
    """For each current input column of ``module``, its row in ``stats``.

    Statistics gathered on the original network (one shared pass) are numbered like the
    original layer; a layer that other groups cut before this one (a concatenation
    reader) has fewer columns now. Statistics gathered on the current network match it.
    """
    if stats is None or stats.gram is None or stats.gram.shape[0] - 1 == fan_in:
        return np.arange(fan_in)
    taps = int(np.prod(module.kernel_size)) if isinstance(module, CONV_TYPES) else 1
    original_channels = (stats.gram.shape[0] - 1) // taps
    alive = alive_original(module, "in", original_channels)
    return (alive[:, None] * taps + np.arange(taps)).reshape(-1)


def fold_consumer(
    module: nn.Module,
    consumer: Member,
    group: UnitGroup,
    kept: np.ndarray,
    assignment: np.ndarray,
    fold: str,
    *,
    scales: np.ndarray | None = None,
    stats: ConsumerStats | None = None,
    ridge: float = 1e-6,
) -> ConsumerUpdate:
    """Compute a consumer's new weights for the kept units of ``group``.

    The new weight covers every input column the consumer keeps: this group's kept units
    and, for a layer reading a concatenation, the other groups' columns, untouched by
    ``none`` and ``exact`` and refitted with the rest by ``lstsq``.
    """
    columns = unfolded_columns(module, consumer, current_columns(module, consumer)).numpy()  # (n_units, taps)
    weight = _flat_weight(module).numpy()  # (out, fan_in), current layer
    bias = module.bias.detach().double().numpy() if module.bias is not None else None
    dropped = np.setdiff1d(np.arange(group.size), kept)
    remaining = np.setdiff1d(np.arange(weight.shape[1]), columns[dropped].reshape(-1))
    n_kept_channels = (
        module.weight.shape[1] - dropped.size if isinstance(module, CONV_TYPES) else remaining.size
    )
    fallback = None
    if stats is not None and stats.gram is None:
        fallback = stats.fallback or "no Gram matrix for this layer"
    index = _statistics_index(module, consumer, stats, weight.shape[1])
    has_gram = stats is not None and stats.gram is not None
    targets = _targets(stats, weight, bias, index) if has_gram else None
    if fold == "lstsq" and has_gram:
        new_weight, new_bias = _refit(bias, index[remaining], stats, targets[0], ridge)
    else:
        # Slice first, then merge into the kept columns: no copy of the whole layer (a
        # Flatten consumer is 100 M weights).
        new_weight = weight[:, remaining]
        new_bias = None if bias is None else bias.copy()
        if scales is not None:
            # Exact / weight-space merge: W[:, k] += lambda W[:, p], column by column (taps).
            for unit, target in enumerate(assignment):
                if target >= 0 and target != unit and scales[unit] > 0:
                    kept_at = np.searchsorted(remaining, columns[target])
                    if np.array_equal(remaining[np.minimum(kept_at, remaining.size - 1)], columns[target]):
                        new_weight[:, kept_at] += scales[unit] * weight[:, columns[unit]]
        if stats is not None and new_bias is not None:
            lost = [u for u in dropped if scales is None or scales[u] == 0]
            if lost:
                lost_columns = columns[lost].reshape(-1)
                new_bias = new_bias + weight[:, lost_columns] @ stats.input_mean[index[lost_columns]]

    error = None
    if has_gram:
        error = output_error(stats, targets, index[remaining], new_weight, new_bias)
    return ConsumerUpdate(
        weight=_shape_back(module, torch.from_numpy(new_weight), n_kept_channels),
        bias=None if new_bias is None else torch.from_numpy(new_bias).to(module.bias.dtype),
        output_error=error,
        fallback=fallback if fold == "lstsq" else None,
    )


def _targets(
    stats: ConsumerStats, weight: np.ndarray, bias: np.ndarray | None, index: np.ndarray | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """(P~ᵀY, ΣY², ΣY): recorded targets, or the consumer's own output P W^T + b.

    ``index`` places the current weight's columns in the statistics' numbering (columns
    the layer no longer has read zero weight).
    """
    if stats.cross is not None:
        return stats.cross, stats.target_sq, stats.target_sum
    if index is not None and not np.array_equal(index, np.arange(stats.gram.shape[0] - 1)):
        placed = np.zeros((weight.shape[0], stats.gram.shape[0] - 1))
        placed[:, index] = weight
        weight = placed
    full = np.concatenate([weight.T, (bias if bias is not None else np.zeros(weight.shape[0]))[None, :]], axis=0)
    cross = stats.gram @ full
    return cross, float(np.sum(full * cross)), cross[-1]


def _refit(bias, kept_columns, stats: ConsumerStats, cross: np.ndarray, ridge: float):
    rows = np.concatenate([kept_columns, [stats.gram.shape[0] - 1]]) if bias is not None else kept_columns
    gram = stats.gram[np.ix_(rows, rows)]
    diagonal = np.diag(gram)[: kept_columns.size]
    penalty = ridge * max(float(diagonal.mean()) if diagonal.size else 0.0, 1e-12)
    regulariser = np.full(rows.size, penalty)
    if bias is not None:
        regulariser[-1] = 0.0  # never shrink the intercept
    solution = solve_normal_equations(gram + np.diag(regulariser), cross[rows])
    if bias is None:
        return solution.T, None
    return solution[:-1].T, solution[-1]


def output_error(stats: ConsumerStats, targets, kept_columns, new_weight, new_bias) -> float:
    """Relative squared error of the consumer's output on calibration data:
    ||Ŷ - Y||² / ||Y - mean(Y)||², computed from the Gram statistics alone.
    ``targets`` is ``(P~ᵀY, ΣY², ΣY)`` as returned by ``_targets``."""
    cross, target_sq, target_sum = targets
    rows = np.concatenate([kept_columns, [stats.gram.shape[0] - 1]])
    coefficients = np.concatenate(
        [new_weight.T, (new_bias if new_bias is not None else np.zeros(new_weight.shape[0]))[None, :]], axis=0
    )
    gram = stats.gram[np.ix_(rows, rows)]
    residual = float(np.sum(coefficients * (gram @ coefficients)) - 2 * np.sum(coefficients * cross[rows]) + target_sq)
    count = max(stats.count, 1)
    variance = target_sq - float(target_sum @ target_sum) / count
    return max(residual, 0.0) / max(variance, 1e-30)
