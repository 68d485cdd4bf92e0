"""One streaming pass over calibration batches → per-group and per-consumer statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn

from netgraph.calibrate.capture import consumer_inputs, consumer_outputs, unit_samples
from netgraph.calibrate.stats import ConsumerStats, UnitStats
from netgraph.errors import CalibrationError
from netgraph.batches import call_model
from netgraph.graph.cuts import current_columns
from netgraph.graph.groups import UnitGroup, find_unit_groups
from netgraph.graph.layers import CONV_TYPES, weight_view

__all__ = ["Calibration", "calibrate", "stream_statistics", "DEFAULT_MEMORY_BUDGET", "consumer_fan_in"]

# Bytes the float64 sums of one pass may take: a Gram over every input of a Flatten
# consumer (VGG's 25,089) alone would need 5 GB.
DEFAULT_MEMORY_BUDGET = 2 * 1024**3


class _StopForward(Exception):
    """Raised by a hook once every layer a pass needs has been seen, to skip the rest."""


@dataclass
class Calibration:
    """Statistics from one pass: ``units[group]`` (UnitStats), ``consumers[module]`` (ConsumerStats)."""

    units: dict[str, UnitStats] = field(default_factory=dict)
    consumers: dict[str, ConsumerStats] = field(default_factory=dict)
    n_batches: int = 0

    def __getitem__(self, group: str) -> UnitStats:
        return self.units[group]

    def __contains__(self, group: str) -> bool:
        return group in self.units

    @property
    def nbytes(self) -> int:
        """Memory held by the statistics' sums (what the memory budget bounds)."""
        arrays = []
        shared = {id(stats): stats for stats in [*self.units.values(), *self.consumers.values()]}
        for stats in shared.values():  # consumers reading one input share one set of sums
            arrays += [a for a in vars(stats).values() if isinstance(a, np.ndarray)]
        return int(sum(a.nbytes for a in arrays))

    def __add__(self, other: "Calibration") -> "Calibration":
        units = {k: self.units[k] + other.units[k] for k in self.units}
        consumers = {k: self.consumers[k] + other.consumers[k] for k in self.consumers}
        return Calibration(units, consumers, self.n_batches + other.n_batches)


def _mask_of(batch: Any) -> torch.Tensor | None:
    if isinstance(batch, dict) and "attention_mask" in batch:
        return batch["attention_mask"]
    return None


def _check_finite(name: str, gram: np.ndarray) -> None:
    # NaN and Inf propagate into the Gram matrix, so one check at the end covers every batch.
    if not np.isfinite(gram).all():
        raise CalibrationError(
            f"Non-finite activations (NaN or Inf) reach {name!r} during calibration; "
            "check the model's weights and the calibration data."
        )


def consumer_fan_in(module: nn.Module) -> int:
    """Width of a consumer's (unfolded) input: in_features, or C·kh·kw for a convolution."""
    weight = weight_view(module)
    taps = int(np.prod(weight.shape[2:])) if isinstance(module, CONV_TYPES) else 1
    return int(weight.shape[1]) * taps


def _fingerprint(inputs: torch.Tensor) -> tuple:
    """Shape, sums and a fixed random bilinear form of a consumer's (unfolded) input: equal
    for the same matrix, different otherwise with probability ~1."""
    rows, columns = inputs.shape
    generator = torch.Generator().manual_seed(rows * 1_000_003 + columns)
    left = torch.rand(rows, generator=generator, dtype=torch.float64)
    right = torch.rand(columns, generator=generator, dtype=torch.float64)
    values = inputs.detach().to("cpu", torch.float64)
    return (rows, columns, float(values.sum()), float((values * values).sum()), float(left @ values @ right))


def _share_twins(calibration: "Calibration", fingerprints: dict[str, tuple]) -> set[str]:
    """After the first batch: consumers whose inputs were identical (Inception's 1×1 branches
    reading one tensor) share one set of sums from then on. Returns the sharing ones."""
    first: dict[tuple, str] = {}
    twins = set()
    for name, fingerprint in fingerprints.items():
        stats = calibration.consumers[name]
        if fingerprint is None or stats.gram is None or stats.cross is not None:
            continue
        if fingerprint in first:
            calibration.consumers[name] = calibration.consumers[first[fingerprint]]
            twins.add(name)
        else:
            first[fingerprint] = name
    return twins


def _budget_consumers(
    modules: dict[str, nn.Module], names: list[str], groups: list[UnitGroup], budget: float, with_targets: bool
) -> dict[str, str]:
    """Consumers whose Gram matrices do not fit ``budget`` bytes -> the reason, said in the plan.

    Unit Grams (units², small) are counted first; consumer Grams are granted in order of
    size, smallest first, so one huge Flatten consumer cannot starve the rest.
    """
    used = sum(8 * (g.size * g.size + g.size) for g in groups)  # unit Grams and sums
    sizes = {}
    for name in names:
        module = modules[name]
        n_out = weight_view(module).shape[0] if with_targets else None
        sizes[name] = (consumer_fan_in(module), ConsumerStats.nbytes(consumer_fan_in(module), n_out))
    refused = {}
    for name in sorted(names, key=lambda n: sizes[n][1]):
        fan_in, nbytes = sizes[name]
        if used + nbytes > budget:
            used += 8 * fan_in  # its input sums
            refused[name] = (
                f"the Gram of {fan_in:,} inputs of {name} needs {nbytes / 1e9:.2f} GB beyond the "
                f"{budget / 1e9:.2f} GB memory budget; its dropped units' means go into the bias"
            )
        else:
            used += nbytes
    return refused


def stream_statistics(
    model: nn.Module,
    batches: Iterable[Any],
    groups: list[UnitGroup],
    *,
    reference: nn.Module | None = None,
    output_rows: dict[str, np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
    memory_budget: float | None = None,
) -> Calibration:
    """Accumulate unit and consumer statistics of ``groups`` over ``batches``.

    With ``reference`` (the original model), each consumer's statistics also record the
    reference's output of the same layer as the least-squares target, so a refit reproduces
    the *original* network even when ``model`` is already partly reduced. ``output_rows``
    restricts those targets to the output channels the reduced layer still has.

    One Gram per distinct input: a group whose first consumer is a Linear reading one
    column per unit takes its unit statistics as a block of that consumer's Gram. Grams
    that would exceed ``memory_budget`` bytes (float64 sums) are replaced by input means
    (``ConsumerStats.fallback`` says so); None means :data:`DEFAULT_MEMORY_BUDGET`.
    """
    if memory_budget is None:
        memory_budget = DEFAULT_MEMORY_BUDGET
    modules = dict(model.named_modules())
    reference_modules = dict(reference.named_modules()) if reference is not None else {}
    calibration = Calibration()
    state: dict[str, Any] = {"mask": None}
    targets: dict[str, torch.Tensor] = {}
    handles = []
    seen: set[str] = set()
    reference_seen: set[str] = set()

    def unit_hook(group: UnitGroup):
        consumer = group.consumers[0]
        columns = current_columns(modules[consumer.module], consumer)

        def hook(module, args):
            samples = unit_samples(args[0], consumer, state["mask"], columns)
            stats = calibration.units.setdefault(group.name, UnitStats.empty(group.size))
            stats.update(samples)

        return hook

    def consumer_hook(name: str):
        def hook(module, args):
            seen.add(name)
            if name in twins:  # reads the same input as another consumer: one Gram serves both
                if seen.issuperset(consumer_names):
                    raise _StopForward
                return
            inputs = consumer_inputs(module, args[0], state["mask"])
            target = targets.pop(name, None)
            if name not in calibration.consumers:
                n_out = None if target is None else target.shape[1]
                calibration.consumers[name] = ConsumerStats.empty(inputs.shape[1], n_out, fallback=refused.get(name))
            calibration.consumers[name].update(inputs, target)
            if calibration.n_batches == 0 and reference is None:
                # A layer called twice in one pass (shared weights) has no single input.
                fingerprints[name] = _fingerprint(inputs) if name not in fingerprints else None
            # Every statistic is taken at consumer inputs: once all are seen, the rest of the
            # forward pass is waste.
            if seen.issuperset(consumer_names):
                raise _StopForward

        return hook

    def target_hook(name: str):
        rows = None if output_rows is None or name not in output_rows else torch.as_tensor(output_rows[name])

        def hook(module, args, output):
            out = consumer_outputs(module, output, state["mask"])
            targets[name] = out if rows is None else out[:, rows]
            reference_seen.add(name)
            if reference_seen.issuperset(target_names):
                raise _StopForward

        return hook

    fingerprints: dict[str, tuple] = {}
    twins: set[str] = set()
    consumer_names = []
    for group in groups:
        for consumer in group.consumers:
            if consumer.module not in consumer_names:
                consumer_names.append(consumer.module)
    refused = _budget_consumers(modules, consumer_names, groups, memory_budget, reference is not None)
    target_names = [name for name in consumer_names if name not in refused]
    derived: list[UnitGroup] = []
    for group in groups:
        first = group.consumers[0]
        if first.kind in ("linear", "transposed_linear") and first.columns.shape[1] == 1 and first.module not in refused:
            derived.append(group)  # its unit statistics are a block of the consumer's Gram
        else:
            handles.append(modules[first.module].register_forward_pre_hook(unit_hook(group)))
    for name in consumer_names:
        handles.append(modules[name].register_forward_pre_hook(consumer_hook(name)))
        if reference is not None and name not in refused:
            handles.append(reference_modules[name].register_forward_hook(target_hook(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for batch in batches:
                state["mask"] = _mask_of(batch)
                if reference is not None:
                    reference_seen.clear()
                    _call(reference, batch)
                seen.clear()
                _call(model, batch)
                if calibration.n_batches == 0:
                    twins.update(_share_twins(calibration, fingerprints))
                calibration.n_batches += 1
                if progress is not None:
                    progress(calibration.n_batches)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    for group in derived:
        consumer = calibration.consumers.get(group.consumers[0].module)
        if consumer is not None:
            index = current_columns(modules[group.consumers[0].module], group.consumers[0])[:, 0]
            calibration.units[group.name] = UnitStats(
                consumer.count, consumer.gram[-1, index].copy(), consumer.gram[np.ix_(index, index)].copy()
            )
    if calibration.n_batches == 0:
        raise CalibrationError("Calibration data is empty: give at least one batch of model inputs.")
    for name, stats in {**calibration.units, **calibration.consumers}.items():
        _check_finite(name, stats.gram if stats.gram is not None else stats.total)
    missing = [g.name for g in groups if g.name not in calibration.units]
    if missing:
        raise CalibrationError(f"Calibration never reached the unit groups {missing}; are the batches model inputs?")
    return calibration


def _call(model: nn.Module, batch: Any) -> Any:
    try:
        return call_model(model, batch)
    except _StopForward:
        return None
    except CalibrationError:
        raise
    except (RuntimeError, TypeError, ValueError, IndexError) as error:
        shape = tuple(batch.shape) if isinstance(batch, torch.Tensor) else type(batch).__name__
        raise CalibrationError(
            f"The model could not run on a calibration batch ({shape}): {error}. "
            "Batches must be model inputs: a tensor, a tuple of arguments or a dict of keywords."
        ) from error


def calibrate(
    model: nn.Module,
    batches: Iterable[Any],
    groups: list[UnitGroup] | None = None,
    *,
    example_inputs: Any = None,
    progress: Callable[[int], None] | None = None,
) -> Calibration:
    """Stream ``batches`` through ``model`` once and return per-group statistics.

    Batches are model inputs: tensors, tuples of positional arguments, or dicts of keyword
    arguments (Hugging Face; padded tokens are excluded through ``attention_mask``).
    Memory does not grow with the number of batches: only sums are kept.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> stats = calibrate(mlp, [torch.randn(16, 4), torch.randn(16, 4)])
    >>> stats["0"].count, stats["0"].gram.shape
    (32, (8, 8))
    """
    batches = list(batches) if not isinstance(batches, list) else batches
    if not batches:
        raise CalibrationError("Calibration data is empty: give at least one batch of model inputs.")
    if groups is None:
        groups = [g for g in find_unit_groups(model, example_inputs if example_inputs is not None else batches[0]) if g.foldable]
    return stream_statistics(model, batches, groups, progress=progress)
