"""Rebuild a physically smaller model from a plan, on a copy; the original is untouched.

Layer surgery uses Torch-Pruning's per-layer functions (``prune_linear_in_channels`` and
friends), which shrink a module's parameters and its size attributes together.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from netgraph.errors import InvalidParameterError, PlanError
from netgraph.graph.cuts import current_columns, member_side, record_cut
from netgraph.graph.groups import Member, UnitGroup
from netgraph.graph.tracing import transposed_linear_pruner
from netgraph.reduce.plan import GroupPlan, ReductionPlan, architecture_fingerprint, weights_fingerprint

__all__ = ["apply_plan", "apply_group"]


def _surgery():
    import torch_pruning as tp

    return {
        ("linear", "out"): tp.prune_linear_out_channels,
        ("linear", "in"): tp.prune_linear_in_channels,
        ("conv", "out"): tp.prune_conv_out_channels,
        ("conv", "in"): tp.prune_conv_in_channels,
        ("depthwise", "out"): tp.prune_depthwise_conv_out_channels,
        ("batchnorm", "out"): tp.prune_batchnorm_out_channels,
        ("layernorm", "out"): tp.prune_layernorm_out_channels,
        ("transposed_linear", "out"): transposed_linear_pruner().prune_out_channels,
        ("transposed_linear", "in"): transposed_linear_pruner().prune_in_channels,
    }


def _cut(surgery, module: nn.Module, member: Member, side: str, dropped: np.ndarray) -> None:
    """Remove the dropped units' channels of one layer, found at their current positions
    (other groups may have cut this layer before), and remember which original ones went."""
    positions = sorted(int(c) for c in current_columns(module, member)[dropped].reshape(-1))
    if member.kind == "parameter":
        _cut_parameter(module, member, positions)
    elif (member.kind, side) in surgery:
        surgery[(member.kind, side)](module, positions)
    else:
        raise PlanError(f"netgraph cannot cut the {side}put channels of {member.module!r} ({member.kind}).")
    record_cut(module, member_side(member), member.columns[dropped].reshape(-1))


def _cut_parameter(module: nn.Module, member: Member, positions: list[int]) -> None:
    """Drop entries of a per-channel parameter (a layer scale) owned by ``module``."""
    parameter = getattr(module, member.attribute, None)
    if not isinstance(parameter, nn.Parameter):
        raise PlanError(f"The plan names a parameter {member.attribute!r} of {member.module!r} that the model lacks.")
    keep = np.setdiff1d(np.arange(parameter.shape[0]), positions)
    setattr(module, member.attribute, nn.Parameter(parameter.detach()[torch.as_tensor(keep)].clone(),
                                                   requires_grad=parameter.requires_grad))


def apply_group(model: nn.Module, plan: GroupPlan, tensors: dict[str, torch.Tensor] | None) -> None:
    """Cut one group in ``model`` in place: consumers first (and their new weights), then producers.

    A consumer's new weight covers all its remaining input columns, other groups'
    included (a concatenation reader), so it is assigned after this group's cut.
    """
    surgery = _surgery()
    modules = dict(model.named_modules())
    group: UnitGroup = plan.group
    dropped = plan.dropped
    for consumer in group.consumers:
        module = _module(modules, consumer.module)
        if dropped.size:
            _cut(surgery, module, consumer, "in", dropped)
        entry = plan.compensation.get(consumer.module)
        if entry and tensors is not None:
            _assign(module, "weight", tensors.get(entry["weight"]), consumer.module)
            if entry.get("bias") is not None:
                _assign(module, "bias", tensors.get(entry["bias"]), consumer.module)
    if dropped.size:
        for member in [*group.producers, *group.norms]:
            _cut(surgery, _module(modules, member.module), member, "out", dropped)


def _module(modules: dict[str, nn.Module], name: str) -> nn.Module:
    if name not in modules:
        raise PlanError(f"The plan names a layer {name!r} that the model does not have.")
    return modules[name]


def _assign(module: nn.Module, attribute: str, value: torch.Tensor | None, name: str) -> None:
    if value is None:
        raise PlanError(f"The plan's tensors lack the new {attribute} of {name!r}.")
    parameter = getattr(module, attribute)
    if parameter is None or tuple(parameter.shape) != tuple(value.shape):
        shape = None if parameter is None else tuple(parameter.shape)
        raise PlanError(f"The plan's {attribute} for {name!r} has shape {tuple(value.shape)}, the layer {shape}.")
    with torch.no_grad():
        parameter.copy_(value.to(parameter.dtype))


def apply_plan(model: nn.Module, plan: ReductionPlan, *, check_weights: bool = True) -> nn.Module:
    """Return a new, physically smaller model; ``model`` itself is not modified.

    Refuses a plan made for another architecture, or (with ``check_weights``) for other
    weights, since the compensation was fitted to them.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from netgraph import plan_reduction
    >>> mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> plan = plan_reduction(mlp, torch.randn(2, 4), keep=0.5, fold="none")
    >>> apply_plan(mlp, plan)[0].out_features
    4
    """
    if not isinstance(model, nn.Module):
        raise InvalidParameterError.expected("model", "apply_plan", "a torch.nn.Module", model)
    if not isinstance(plan, ReductionPlan):
        raise InvalidParameterError.expected(
            "plan", "apply_plan", "a ReductionPlan (from plan_reduction or ReductionPlan.load)", plan
        )
    if plan.fingerprint.get("architecture") != architecture_fingerprint(model):
        raise PlanError(
            "This plan was made for a different architecture (fingerprint mismatch); "
            "apply it to the model it was planned on."
        )
    if check_weights and plan.fingerprint.get("weights") not in (None, weights_fingerprint(model)):
        raise PlanError(
            "This plan was fitted to different weights of this architecture; re-plan on these weights "
            "or pass check_weights=False."
        )
    reduced = copy.deepcopy(model)
    try:
        for group_plan in plan.groups:
            apply_group(reduced, group_plan, plan.tensors)
    except PlanError:
        raise
    except (RuntimeError, IndexError, KeyError, ValueError) as error:
        raise PlanError(f"The plan could not be applied: {type(error).__name__}: {error}.") from error
    return reduced.train(model.training)
