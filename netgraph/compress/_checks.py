"""Parameter checks and layer lookup shared by the compressors."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from netgraph.errors import InvalidParameterError, UnsupportedModelError

WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def check_fraction(value: object, parameter: str, owner: str, *, allow_zero: bool, allow_one: bool) -> float:
    """Return ``value`` as a float in (0, 1) with the ends allowed as asked."""
    low = "[0" if allow_zero else "(0"
    high = "1]" if allow_one else "1)"
    constraint = f"a float in {low}, {high}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameterError.expected(parameter, owner, constraint, value)
    value = float(value)
    ok_low = value >= 0 if allow_zero else value > 0
    ok_high = value <= 1 if allow_one else value < 1
    if not (ok_low and ok_high):
        raise InvalidParameterError.expected(parameter, owner, constraint, value)
    return value


def check_int(value: object, parameter: str, owner: str, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high]."""
    constraint = f"an int in [{low}, {high}]" if high is not None else f"an int >= {low}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError.expected(parameter, owner, constraint, value)
    if value < low or (high is not None and value > high):
        raise InvalidParameterError.expected(parameter, owner, constraint, value)
    return int(value)


def weight_layers(
    model: nn.Module,
    layers: Iterable[str] | None,
    owner: str,
    types: tuple[type, ...] = WEIGHT_LAYERS,
) -> list[tuple[str, nn.Module]]:
    """The named Linear/Conv modules to compress: all of them, or the ones named."""
    if not isinstance(model, nn.Module):
        raise InvalidParameterError.expected("model", owner, "a torch.nn.Module", type(model).__name__)
    found = [(name, module) for name, module in model.named_modules() if isinstance(module, types)]
    if layers is None:
        return found
    if isinstance(layers, str):
        layers = [layers]
    wanted = list(layers)
    modules = dict(model.named_modules())
    result = []
    for name in wanted:
        if name not in modules:
            raise InvalidParameterError.expected("layers", owner, "names of modules in the model", name)
        if not isinstance(modules[name], types):
            kinds = ", ".join(t.__name__ for t in types)
            raise UnsupportedModelError(
                f"{owner} handles {kinds}; module {name!r} is a {type(modules[name]).__name__}."
            )
        result.append((name, modules[name]))
    return result


def float_weight(module: nn.Module, name: str) -> torch.Tensor:
    """The module's weight, refusing non-float tensors."""
    weight = module.weight
    if not torch.is_floating_point(weight):
        raise UnsupportedModelError(f"Module {name!r} ({type(module).__name__}) has a non-float weight.")
    return weight
