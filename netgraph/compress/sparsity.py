"""Magnitude pruning with masks that stay enforced during fine-tuning.

The first stage of Deep Compression (Han et al., 2015, "Learning both Weights and
Connections"): zero the smallest-magnitude weights of every Linear/Conv layer, then
retrain the survivors. Pruned weights must stay exactly zero while the rest train, or
the sparse encoding downstream is lost; :class:`PruningMasks` does that either with a
gradient hook (cheap, but momentum or weight decay in the optimizer can still move a
zero) or by re-masking after every optimizer step (always exact; the default of
:meth:`PruningMasks.attach`).

Example
-------
>>> import torch
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
>>> masks = prune_magnitude(model, 0.75)
>>> int((model[0].weight == 0).sum())
48
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from netgraph.compress._checks import check_fraction, float_weight, weight_layers
from netgraph.errors import InvalidParameterError

__all__ = ["PruningMasks", "prune_magnitude", "weight_sparsity"]


@dataclass
class PruningMasks:
    """Boolean keep-masks of pruned weights, keyed by parameter name (``"fc1.weight"``).

    ``True`` marks a weight that is kept.
    """

    masks: dict[str, torch.Tensor] = field(default_factory=dict)

    def apply(self, model: nn.Module) -> None:
        """Zero every pruned weight of ``model`` in place."""
        parameters = dict(model.named_parameters())
        with torch.no_grad():
            for name, mask in self.masks.items():
                if name not in parameters:
                    raise InvalidParameterError.expected(
                        "model", "PruningMasks.apply", f"a model with parameter {name!r}", type(model).__name__
                    )
                # masked_fill, not mul: 0 * negative is -0.0, which is not a stored zero
                parameters[name].masked_fill_(~mask.to(parameters[name].device), 0.0)

    def register_gradient_hooks(self, model: nn.Module) -> list[torch.utils.hooks.RemovableHandle]:
        """Zero the gradient of pruned weights in every backward pass.

        Exact for plain SGD; with momentum, weight decay or Adam use :meth:`attach`
        (re-masking after each step) as well.
        """
        parameters = dict(model.named_parameters())
        handles = []
        for name, mask in self.masks.items():
            keep = mask.to(parameters[name].dtype)
            handles.append(parameters[name].register_hook(lambda grad, keep=keep: grad * keep))
        return handles

    def attach(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> torch.utils.hooks.RemovableHandle:
        """Re-apply the masks after every ``optimizer.step()``; returns the hook handle."""
        return optimizer.register_step_post_hook(lambda *_: self.apply(model))

    def sparsity(self) -> dict[str, float]:
        """Fraction of pruned weights per parameter."""
        return {name: 1.0 - float(mask.float().mean()) for name, mask in self.masks.items()}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Masks as uint8 tensors, ready for ``safetensors``."""
        return {name: mask.to(torch.uint8) for name, mask in self.masks.items()}

    @classmethod
    def from_state_dict(cls, tensors: Mapping[str, torch.Tensor]) -> "PruningMasks":
        return cls({name: tensor.bool() for name, tensor in tensors.items()})

    @classmethod
    def from_model(cls, model: nn.Module, layers: Iterable[str] | None = None) -> "PruningMasks":
        """Masks of the weights that are currently exactly zero."""
        found = weight_layers(model, layers, "PruningMasks.from_model")
        return cls({_parameter_name(n): m.weight.detach() != 0 for n, m in found})


def prune_magnitude(
    model: nn.Module,
    sparsity: float | Mapping[str, float],
    *,
    layers: Iterable[str] | None = None,
    scope: str = "layer",
) -> PruningMasks:
    """Zero the smallest-magnitude weights of Linear/Conv layers, in place.

    Parameters
    ----------
    model : nn.Module
        Pruned in place (like ``torch.nn.utils.prune``); biases are kept.
    sparsity : float in [0, 1) or mapping of layer name to float
        Fraction of weights to zero. Per layer exactly ``round(sparsity * numel)``
        weights are pruned (ties broken by position). A mapping prunes only the named
        layers, each to its own fraction.
    layers : iterable of str, optional
        Restrict pruning to these modules (default: every Linear/Conv).
    scope : {"layer", "global"}
        ``"global"`` ranks all weights together with one threshold, so layers end up
        with different sparsities but the total is exact.

    Returns
    -------
    PruningMasks
        The keep-masks; pass to :meth:`PruningMasks.attach` while fine-tuning.
    """
    owner = "prune_magnitude"
    if scope not in ("layer", "global"):
        raise InvalidParameterError.expected("scope", owner, "'layer' or 'global'", scope)
    if isinstance(sparsity, Mapping):
        targets = {
            name: check_fraction(value, "sparsity", owner, allow_zero=True, allow_one=False)
            for name, value in sparsity.items()
        }
        found = weight_layers(model, list(targets), owner)
        if scope == "global":
            raise InvalidParameterError.expected("scope", owner, "'layer' when sparsity is a mapping", scope)
    else:
        fraction = check_fraction(sparsity, "sparsity", owner, allow_zero=True, allow_one=False)
        found = weight_layers(model, layers, owner)
        targets = {name: fraction for name, _ in found}
    masks: dict[str, torch.Tensor] = {}
    if scope == "global":
        weights = [float_weight(m, n).detach() for n, m in found]
        magnitudes = torch.cat([w.abs().flatten() for w in weights])
        count = round(fraction * magnitudes.numel())
        keep = torch.ones(magnitudes.numel(), dtype=torch.bool)
        if count:
            keep[torch.argsort(magnitudes, stable=True)[:count]] = False
        start = 0
        for (name, _), weight in zip(found, weights):
            masks[_parameter_name(name)] = keep[start : start + weight.numel()].reshape(weight.shape)
            start += weight.numel()
    else:
        for name, module in found:
            weight = float_weight(module, name).detach()
            count = round(targets[name] * weight.numel())
            keep = torch.ones(weight.numel(), dtype=torch.bool)
            if count:
                keep[torch.argsort(weight.abs().flatten(), stable=True)[:count]] = False
            masks[_parameter_name(name)] = keep.reshape(weight.shape)
    result = PruningMasks(masks)
    result.apply(model)
    return result


def weight_sparsity(model: nn.Module, layers: Iterable[str] | None = None) -> dict[str, float]:
    """Fraction of exactly-zero weights in every Linear/Conv layer."""
    found = weight_layers(model, layers, "weight_sparsity")
    return {name: float((m.weight == 0).float().mean()) for name, m in found}


def _parameter_name(module_name: str) -> str:
    return f"{module_name}.weight" if module_name else "weight"
