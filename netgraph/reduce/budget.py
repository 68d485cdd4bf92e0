"""Sharing one unit budget across groups by their error curves (global reduction).

Layer-local reduction gives every group the same keep fraction, but groups differ in how
much they lose per unit removed. Here each group's *absolute* consumer-output error is
traced as a function of how many units it keeps (units added in order of output energy,
consumers refitted by least squares), and the budget goes greedily to the group whose
error falls most per unit — the idea behind Torch-Pruning's global pruning, measured
with reconstruction error instead of weight norms.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from netgraph.calibrate.calibrate import Calibration
from netgraph.calibrate.capture import unfolded_columns
from netgraph.graph.groups import UnitGroup
from netgraph.graph.weights import outgoing_weights

__all__ = ["error_curve", "allocate_global_budget"]


def error_curve(model: nn.Module, group: UnitGroup, calibration: Calibration, *, ridge: float = 1e-6) -> np.ndarray:
    """Absolute squared output error of the group's consumers when keeping the top-k units,
    for k = 0..n (units ranked by E[h²]·‖outgoing‖²), from one Cholesky factorisation."""
    modules = dict(model.named_modules())
    stats = calibration.units[group.name]
    scores = stats.energy * np.sum(outgoing_weights(model, group) ** 2, axis=1)
    order = np.argsort(-scores, kind="stable")
    curve = np.zeros(group.size + 1)
    for consumer in group.consumers:
        module = modules[consumer.module]
        consumer_stats = calibration.consumers[consumer.module]
        columns = unfolded_columns(module, consumer).numpy()
        weight = module.weight.detach().double().reshape(module.weight.shape[0], -1).numpy()
        bias = module.bias.detach().double().numpy() if module.bias is not None else np.zeros(weight.shape[0])
        full = np.concatenate([weight.T, bias[None, :]], axis=0)
        intercept = consumer_stats.gram.shape[0] - 1
        rows = np.concatenate([[intercept], columns[order].reshape(-1)])
        gram = consumer_stats.gram[np.ix_(rows, rows)]
        cross = consumer_stats.gram[rows] @ full
        target = float(np.sum(full * (consumer_stats.gram @ full)))
        penalty = ridge * max(float(np.diag(gram)[1:].mean()), 1e-12)
        regularised = gram + np.diag(np.r_[0.0, np.full(rows.size - 1, penalty)])
        factor = np.linalg.cholesky(regularised)
        # Nested least squares: explained(k) is the sum of squared rows of L^-1 C up to k.
        explained = np.cumsum(np.sum(np.linalg.solve(factor, cross) ** 2, axis=1))
        taps = columns.shape[1]
        # Index 0 is the intercept alone; unit u's last column ends at index u * taps.
        per_unit = np.r_[explained[0], explained[taps::taps]]
        curve += np.maximum(target - per_unit, 0.0)
    return curve


def allocate_global_budget(
    model: nn.Module,
    groups: list[UnitGroup],
    calibration: Calibration,
    keep: float,
    *,
    minimum: float = 0.05,
    ridge: float = 1e-6,
) -> dict[str, float]:
    """Keep fractions per group whose units sum to ``keep`` of all units, chosen to
    minimise the summed output error; every group keeps at least ``minimum`` of its units."""
    curves = {g.name: error_curve(model, g, calibration, ridge=ridge) for g in groups}
    sizes = {g.name: g.size for g in groups}
    kept = {name: max(1, int(np.ceil(minimum * size))) for name, size in sizes.items()}
    budget = int(round(keep * sum(sizes.values())))
    step = max(1, sum(sizes.values()) // 400)
    while sum(kept.values()) < budget:
        remaining = budget - sum(kept.values())
        best, best_gain = None, -np.inf
        for name, curve in curves.items():
            if kept[name] >= sizes[name]:
                continue
            take = min(step, sizes[name] - kept[name], remaining)
            gain = (curve[kept[name]] - curve[kept[name] + take]) / take
            if gain > best_gain:
                best, best_gain = name, gain
        if best is None:
            break
        kept[best] += min(step, sizes[best] - kept[best], remaining)
    return {name: kept[name] / sizes[name] for name in sizes}
