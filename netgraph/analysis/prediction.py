"""What a reduction will do to the model's output, predicted before building it.

A least-squares fold replaces each dropped unit by the best affine map of the kept units,
``ĥ_D = μ_D + (h_K − μ_K) A`` with ``A = Σ_KK⁻¹ Σ_KD`` from the group's activation
statistics (:class:`~netgraph.calibrate.stats.UnitStats`). The prediction runs the
*original* model once with forward pre-hooks that make exactly that substitution at the
inputs of the group's consumers, and compares its outputs with the untouched model's:
relative output error, mean cosine and, with labels, accuracy. Nothing is rebuilt, so a
group costs one forward pass over a few hundred samples, and several groups can be
simulated together (the hooks compose, as a non-sequential plan does).

The fold that ``netgraph reduce`` runs may do better (a refit to the original's output,
output reconstruction for convolutions), so the prediction is an upper estimate of the
error on the same data; ``benchmarks/bench_prediction.py`` measures how close it is.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from netgraph.errors import InvalidParameterError

__all__ = ["reconstruction_map", "simulate_reduction", "predicted_keep_counts"]

_OWNER = "simulate_reduction"


def reconstruction_map(stats, kept: np.ndarray, ridge: float = 1e-6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dropped, A, offset)`` with ``ĥ_D = h_K A + offset`` (the lstsq fold on the units).

    ``offset = μ_D − μ_K A``; a ridge of ``ridge`` × the mean kept variance keeps the
    solve stable when kept units are collinear.
    """
    covariance = stats.covariance
    mean = stats.mean
    n = covariance.shape[0]
    kept = np.asarray(kept, dtype=np.int64)
    dropped = np.setdiff1d(np.arange(n), kept)
    if dropped.size == 0 or kept.size == 0:
        return dropped, np.zeros((kept.size, dropped.size)), mean[dropped].copy()
    s_kk = covariance[np.ix_(kept, kept)]
    penalty = ridge * max(float(np.trace(s_kk)) / kept.size, 1e-30)
    mapping = np.linalg.solve(s_kk + penalty * np.eye(kept.size), covariance[np.ix_(kept, dropped)])
    return dropped, mapping, mean[dropped] - mean[kept] @ mapping


def _substitution_hook(consumer, kept: np.ndarray, dropped: np.ndarray, mapping: np.ndarray, offset: np.ndarray):
    columns = torch.as_tensor(consumer.columns)

    def hook(module, args):
        x = args[0]
        kept_t = torch.as_tensor(kept, device=x.device)
        dropped_t = torch.as_tensor(dropped, device=x.device)
        weight = torch.as_tensor(mapping, dtype=x.dtype, device=x.device)
        bias = torch.as_tensor(offset, dtype=x.dtype, device=x.device)
        if consumer.kind == "conv":
            channels = columns[:, 0].to(x.device)
            units = x.index_select(1, channels).movedim(1, -1)  # (B, H, W, n_units)
            units = units.clone()
            units[..., dropped_t] = units[..., kept_t] @ weight + bias
            x = x.clone()
            x[:, channels] = units.movedim(-1, 1)
        else:
            flat = columns.to(x.device)  # (n_units, per_unit)
            picked = x[..., flat]  # (..., n_units, per_unit)
            picked = picked.movedim(-1, -2).clone()  # (..., per_unit, n_units)
            picked[..., dropped_t] = picked[..., kept_t] @ weight + bias
            x = x.clone()
            x[..., flat] = picked.movedim(-1, -2)
        return (x, *args[1:])

    return hook


def simulate_reduction(
    model: nn.Module,
    kept: Mapping[Any, np.ndarray],
    stats: Mapping[str, Any],
    batches: Iterable[Any],
    *,
    labels: torch.Tensor | None = None,
    reference: torch.Tensor | None = None,
) -> dict[str, float]:
    """Predicted fidelity of reducing the groups in ``kept`` with a least-squares fold.

    Parameters
    ----------
    model : nn.Module
        The original model (hooks are removed afterwards; weights are never changed).
    kept : {UnitGroup: kept unit indices}
    stats : {group name: UnitStats}
        Activation statistics of the original model.
    batches : the inputs to predict on
    labels : tensor, optional
        Class labels of ``batches`` for a predicted accuracy.
    reference : tensor, optional
        The original model's outputs on ``batches`` (computed when not given).

    Returns
    -------
    dict with ``relative_error``, ``mean_cosine`` and, with labels, ``accuracy``.
    """
    from netgraph.report.measure import fidelity, model_outputs

    batches = list(batches)
    if not batches:
        raise InvalidParameterError.expected("batches", _OWNER, "at least one batch", batches)
    if reference is None:
        reference = model_outputs(model, batches)
    modules = dict(model.named_modules())
    handles = []
    try:
        for group, indices in kept.items():
            if group.name not in stats:
                raise InvalidParameterError.expected("stats", _OWNER, f"statistics of group {group.name!r}", sorted(stats))
            dropped, mapping, offset = reconstruction_map(stats[group.name], indices)
            if dropped.size == 0:
                continue
            for consumer in group.consumers:
                handles.append(modules[consumer.module].register_forward_pre_hook(
                    _substitution_hook(consumer, np.asarray(indices), dropped, mapping, offset)))
        outputs = model_outputs(model, batches)
    finally:
        for handle in handles:
            handle.remove()
    return fidelity(reference, outputs, labels)


def predicted_keep_counts(n_units: int, keep_grid: Sequence[float]) -> list[int]:
    """Units kept at each keep fraction, as ``plan_reduction`` rounds them."""
    return [int(min(n_units, max(1, round(k * n_units)))) for k in keep_grid]
