"""Reducible unit groups, found with Torch-Pruning's dependency graph.

A unit group is a set of coupled units that must be removed together: the output
channels of its producers (Linear rows, Conv out-channels and the BatchNorm/LayerNorm
entries that follow) and the input columns of its consumers. Torch-Pruning traces the
coupling (residual adds, flatten, attention); this module turns its groups into plain
data that the rest of netgraph can use without the tracer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from netgraph.batches import call_model, first_rows
from netgraph.errors import UnsupportedModelError
from netgraph.graph.layers import CONV_TYPES, is_grouped, is_transposed_linear, layer_kind, norm_kind
from netgraph.graph.tracing import DEFAULT_TRACE_SECONDS, TraceClock, trace_dependencies

__all__ = ["Member", "UnitGroup", "find_unit_groups"]

# Autograd ops that mean units are mixed non-linearly with one another (attention).
_MIXING_OPS = re.compile(r"ScaledDotProduct|Bmm|Matmul|Softmax|Baddbmm", re.IGNORECASE)
# A view that splits an axis, with a transpose/permute, can move channels (ShuffleNet's
# channel shuffle) in ways Torch-Pruning's index map does not follow.
_REORDERING_OPS = re.compile(r"TransposeBackward|PermuteBackward")
_ACTIVATION_OPS = {
    "ReluBackward": "relu",
    "LeakyReluBackward": "leaky_relu",
    "GeluBackward": "gelu",
    "TanhBackward": "tanh",
    "SigmoidBackward": "sigmoid",
    "SiluBackward": "silu",
    "EluBackward": "elu",
    "HardtanhBackward": "hardtanh",
}


@dataclass(eq=False)
class Member:
    """One layer touched by a group.

    ``columns[u]`` lists the channel / column indices of this layer that belong to unit
    ``u``: one per unit for producers and most consumers, several when a Flatten maps one
    conv channel onto several Linear inputs.
    """

    module: str
    kind: str  # "linear", "transposed_linear", "conv", "depthwise", "batchnorm", "layernorm", "parameter"
    role: str  # "producer", "norm" (channel-wise pass-through: norms, depthwise convs) or "consumer"
    columns: np.ndarray  # (n_units, per_unit) int64
    attribute: str | None = None  # for kind "parameter": the per-channel parameter of ``module``

    def to_dict(self) -> dict[str, Any]:
        data = {"module": self.module, "kind": self.kind, "role": self.role, "columns": self.columns.tolist()}
        if self.attribute is not None:
            data["attribute"] = self.attribute
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Member":
        columns = np.asarray(data["columns"], dtype=np.int64)
        return cls(data["module"], data["kind"], data["role"], columns, data.get("attribute"))


@dataclass(eq=False)
class UnitGroup:
    """A set of coupled units, named by the qualified name of its first producer.

    Attributes
    ----------
    name : str
        e.g. ``fc1``, ``layer1.0.conv1``, ``encoder.layer.0.intermediate.dense``.
    size : int
        Number of units.
    producers, norms, consumers : list of Member
        Layers whose output channels are the units; normalisation layers that follow; layers
        that read the units as input columns.
    activation : str
        Name of the elementwise activation between producer and consumers (``relu``,
        ``gelu``, ... or ``identity``).
    foldable : bool
        True when every consumer reads the units linearly, so dropped units can be
        compensated in the consumers. ``reason`` says why not otherwise.
    cuttable : bool
        True when every layer of the group can be cut, even if the loss cannot be
        compensated (a LayerNorm over the units): such a group is still reducible with
        ``fold="none"``. False for groups that cannot be mapped (attention internals,
        grouped convolutions, uneven channel maps); ``reason`` says why.
    homogeneous : bool
        The path from pre-activation to consumers is positively homogeneous per unit
        (checked numerically), so exactly proportional units can be merged exactly.
    """

    name: str
    size: int
    producers: list[Member]
    norms: list[Member]
    consumers: list[Member]
    activation: str = "identity"
    foldable: bool = True
    reason: str = ""
    homogeneous: bool = False
    operations: list[str] = field(default_factory=list)
    cuttable: bool = True

    @property
    def members(self) -> list[Member]:
        return [*self.producers, *self.norms, *self.consumers]

    @property
    def residual(self) -> bool:
        """Several producers write the same units (a skip connection)."""
        return len(self.producers) > 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "producers": [m.to_dict() for m in self.producers],
            "norms": [m.to_dict() for m in self.norms],
            "consumers": [m.to_dict() for m in self.consumers],
            "activation": self.activation,
            "foldable": self.foldable,
            "reason": self.reason,
            "homogeneous": self.homogeneous,
            "cuttable": self.cuttable,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "UnitGroup":
        return cls(
            name=data["name"],
            size=int(data["size"]),
            producers=[Member.from_dict(m) for m in data["producers"]],
            norms=[Member.from_dict(m) for m in data["norms"]],
            consumers=[Member.from_dict(m) for m in data["consumers"]],
            activation=data.get("activation", "identity"),
            foldable=bool(data.get("foldable", True)),
            reason=data.get("reason", ""),
            homogeneous=bool(data.get("homogeneous", False)),
            cuttable=bool(data.get("cuttable", data.get("foldable", True))),
        )


def _columns(item, size: int) -> np.ndarray | None:
    """Per-unit column indices of one dependency item, from Torch-Pruning's root indices;
    None when units map onto unequal numbers of columns (fused q/k/v, channel shuffle)."""
    indices = np.fromiter((int(i) for i in item.idxs), dtype=np.int64)
    roots = getattr(item, "root_idxs", None)
    roots = np.fromiter((int(r) for r in roots), dtype=np.int64) if roots else np.arange(indices.size)
    roots = roots[: indices.size]
    indices = indices[: roots.size]
    if roots.size and (roots.min() < 0 or roots.max() >= size):
        return None
    counts = np.bincount(roots, minlength=size)
    width = int(counts.max()) if size else 0
    if width == 0 or np.any(counts != width):
        return None
    # A stable sort by root keeps each unit's columns in the order Torch-Pruning lists them.
    return indices[np.argsort(roots, kind="stable")].reshape(size, width)


def _root_types(model: nn.Module) -> tuple[type, ...]:
    types: list[type] = [nn.Linear, *CONV_TYPES]
    types += sorted({type(m) for m in model.modules() if is_transposed_linear(m)}, key=lambda t: t.__name__)
    return tuple(types)


def find_unit_groups(
    model: nn.Module, example_inputs: Any, *, trace_seconds: float | None = DEFAULT_TRACE_SECONDS
) -> list[UnitGroup]:
    """Every group of coupled units in ``model``, in module order, with its foldability.

    Groups whose units reach the model's output (the output layer) are not returned:
    their size is fixed by the task. A group that cannot be mapped is returned with
    ``cuttable=False`` and its ``reason``; it never stops the others. Tracing stops with
    an :class:`~netgraph.errors.UnsupportedModelError` after ``trace_seconds``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> [(g.name, g.size, g.foldable) for g in find_unit_groups(mlp, torch.randn(2, 4))]
    [('0', 8, True)]
    """
    was_training = model.training
    model.eval()
    clock = TraceClock(trace_seconds, type(model).__name__)
    try:
        graph, opaque = trace_dependencies(model, example_inputs, clock)
        names = {module: name for name, module in model.named_modules()}
        names.update({parameter: name for name, parameter in model.named_parameters()})
        order = {name: i for i, name in enumerate(names.values())}
        groups = []
        with clock.alarm():
            for tp_group in graph.get_all_groups(root_module_types=_root_types(model)):
                clock.check()
                group = _convert_group(graph, tp_group, names, opaque)
                if group is not None:
                    groups.append(group)
        groups.sort(key=lambda g: order.get(g.name, 0))
        _check_homogeneity(model, first_rows(example_inputs, 2), groups)
        return groups
    finally:
        model.train(was_training)


def _convert_group(graph, tp_group, names: dict, opaque: set) -> UnitGroup | None:
    producers: list[Member] = []
    norms: list[Member] = []
    consumers: list[Member] = []
    operations: list[str] = []
    size = len(tp_group.items[0].idxs)
    unsupported: list[str] = []
    splits = False
    for item in tp_group.items:
        module = item.dep.target.module
        is_out = graph.is_out_channel_pruning_fn(item.dep.handler)
        if isinstance(module, nn.Parameter):  # a bare parameter (layer scale, position table)
            member = _parameter_member(module, names.get(module), _columns(item, size))
            if member is None:
                unsupported.append(f"the parameter {names.get(module, item.dep.target.name)}")
            else:
                norms.append(member)
            continue
        name = names.get(module)
        if name is None:  # a Torch-Pruning pseudo-node for an autograd operation
            operations.append(item.dep.target.name)
            splits = splits or _splits_an_axis(getattr(item.dep.target, "grad_fn", None))
            continue
        if module in opaque:
            unsupported.append(f"attention layer {name} (its heads are units of netgraph.transformer)")
            continue
        columns = _columns(item, size)
        if columns is None:
            unsupported.append(f"uneven channel mapping at {name} (fused q/k/v or a channel shuffle)")
            continue
        kind = layer_kind(module)
        if kind is not None and (is_grouped(module) or getattr(module, "transposed", False)):
            what = "grouped convolution" if is_grouped(module) else "transposed convolution"
            unsupported.append(f"{what} {name}")
        elif not _fits(module, kind, is_out, columns):
            unsupported.append(f"{name}, whose {'out' if is_out else 'in'}put size does not match the traced units")
        elif kind == "depthwise":
            # One filter per channel: the unit passes through, cut in and out together.
            norms.append(Member(name, kind, "norm", columns))
        elif kind is not None:
            (producers if is_out else consumers).append(
                Member(name, kind, "producer" if is_out else "consumer", columns)
            )
        elif norm_kind(module) is not None:
            norms.append(Member(name, norm_kind(module), "norm", columns))
        else:
            unsupported.append(f"{type(module).__name__} {name}")
    if any("_OutputOp" in op for op in operations):
        return None  # the units are the model's output; their number is fixed by the task
    if not producers or not consumers:
        if not unsupported or not (producers or consumers):
            return None
    # Duplicates appear when a module is reached through several paths; keep the first.
    producers = _unique(producers)
    norms = _unique(norms)
    consumers = _unique(consumers)
    first = (producers or consumers)[0]
    group = UnitGroup(
        name=first.module,
        size=size,
        producers=producers,
        norms=norms,
        consumers=consumers,
        activation=_activation_name(operations),
        operations=operations,
    )
    reasons = []
    if unsupported:
        reasons.append("contains " + ", ".join(sorted(set(unsupported))))
    if any(_MIXING_OPS.search(op) for op in operations):
        reasons.append("the units are mixed by attention")
    if splits and any(_REORDERING_OPS.search(op) for op in operations):
        reasons.append("a view and a transpose reorder the channels (a channel shuffle?), which the tracer does not map reliably")
    if not producers or not consumers:
        reasons.append("no layer " + ("writes" if not producers else "reads") + " these units that netgraph can cut")
    if reasons:
        group.cuttable = False
    if any(n.kind == "layernorm" for n in norms):
        reasons.append("a LayerNorm normalises across the units (residual stream)")
    if reasons:
        group.foldable = False
        group.reason = "; ".join(reasons)
    return group


def _splits_an_axis(grad_fn) -> bool:
    """A view whose output has more axes than its input (``view(b, groups, c // groups, h, w)``):
    with a transpose, the signature of a channel shuffle."""
    before = getattr(grad_fn, "_saved_self_sym_sizes", None)
    metadata = getattr(grad_fn, "_input_metadata", None)
    if before is None or not metadata:
        return False
    return len(metadata[0].shape) > len(before)


def _parameter_member(parameter: nn.Parameter, name: str | None, columns: np.ndarray | None) -> Member | None:
    """A per-channel vector (ConvNeXt's layer scale ``gamma``) is cut like a norm's weight;
    anything else (position tables, class tokens) is not mapped."""
    if name is None or columns is None or parameter.dim() != 1 or int(columns.max()) >= parameter.shape[0]:
        return None
    owner, _, attribute = name.rpartition(".")
    return Member(owner, "parameter", "norm", columns, attribute)


def _fits(module: nn.Module, kind: str | None, is_out: bool, columns: np.ndarray) -> bool:
    """The traced indices exist in the layer (the tracer can confuse axes after a transpose,
    as in MLP-Mixer's token mixing)."""
    if kind == "transposed_linear":
        size = module.weight.shape[1 if is_out else 0]
    elif kind == "depthwise":
        size = module.weight.shape[0]
    elif kind is not None:
        size = module.weight.shape[0 if is_out else 1]
    else:
        size = getattr(module, "num_features", None)
        if size is None and isinstance(getattr(module, "normalized_shape", None), tuple):
            size = module.normalized_shape[-1]
    return size is None or int(columns.max()) < int(size)


def _unique(members: list[Member]) -> list[Member]:
    seen: dict[str, Member] = {}
    for member in members:
        seen.setdefault(member.module, member)
    return list(seen.values())


def _activation_name(operations: list[str]) -> str:
    for op in operations:
        for key, name in _ACTIVATION_OPS.items():
            if key in op:
                return name
    return "identity"


_SMOOTH_ACTIVATIONS = re.compile(r"GeluBackward|TanhBackward|SigmoidBackward|SiluBackward|EluBackward")
_PRODUCT_OPS = re.compile(r"MulBackward|DivBackward|Bmm|Matmul|Baddbmm|Addcmul|Addcdiv|Glu", re.IGNORECASE)


def _never_homogeneous(operations: list[str]) -> bool:
    """Whether a smooth, non-homogeneous activation acts on the units with no product that
    could cancel its scaling: ``f(lambda z) != lambda f(z)`` for such f on generic inputs."""
    return any(_SMOOTH_ACTIVATIONS.search(op) for op in operations) and not any(
        _PRODUCT_OPS.search(op) for op in operations
    )


class _Captured(Exception):
    """Stops a homogeneity pass once the scaled group's consumers have been read."""


def _check_homogeneity(model: nn.Module, example_inputs: Any, groups: list[UnitGroup]) -> None:
    """Mark groups whose units scale through to their consumers: h(lambda z) = lambda h(z).

    One forward pass scales every unit's pre-activation by a random positive factor and
    checks that each consumer's input columns scale by the same factor. This covers ReLU,
    max/avg pooling and flatten, and rejects GELU, tanh and residual mixing.
    """
    from netgraph.graph.samples import unit_samples

    modules = dict(model.named_modules())
    # One channel-wise layer at most: the scaled output must be the last one before the
    # consumers, and member order does not say which of several that is (a depthwise conv
    # between two BatchNorms). Those groups stay non-homogeneous: equal units only merge.
    # A smooth saturating activation (GELU, tanh, ...) on the path with nothing multiplying
    # it is never homogeneous: such groups skip the forward pass (one per group, 2.7 s of a
    # ViT-B plan). A product (a gated FFN's silu(gate) * up) can still be, so it is tested.
    candidates = [
        g for g in groups
        if g.foldable and not g.residual and len(g.norms) <= 1 and not any(n.kind == "depthwise" for n in g.norms)
        and not _never_homogeneous(g.operations)
    ]
    if not candidates:
        return
    generator = torch.Generator().manual_seed(0)
    factors = {g.name: torch.rand(g.size, generator=generator, dtype=torch.float64) * 1.5 + 0.5 for g in candidates}

    def record(scaled_group: UnitGroup | None) -> dict[str, list[torch.Tensor]]:
        captured: dict[str, list[torch.Tensor]] = {}
        handles = []
        if scaled_group is not None:
            last = (scaled_group.norms or scaled_group.producers)[-1]
            columns = torch.as_tensor(last.columns[:, 0])
            factor = factors[scaled_group.name]

            def scale_hook(module, args, output):
                conv_like = isinstance(module, (*CONV_TYPES, nn.modules.batchnorm._BatchNorm))
                channel_dim = 1 if conv_like and output.dim() > 2 else output.dim() - 1
                shape = [1] * output.dim()
                shape[channel_dim] = output.shape[channel_dim]
                full = torch.ones(output.shape[channel_dim], dtype=output.dtype)
                full[columns] = factor.to(output.dtype)
                return output * full.view(shape)

            handles.append(modules[last.module].register_forward_hook(scale_hook))
        waiting = {c.module for c in scaled_group.consumers} if scaled_group is not None else set()
        for group in candidates if scaled_group is None else [scaled_group]:
            for consumer in group.consumers:

                def capture_hook(module, args, group=group, consumer=consumer):
                    captured.setdefault(group.name, []).append(unit_samples(args[0], consumer, None).double())
                    waiting.discard(consumer.module)
                    if scaled_group is not None and not waiting:
                        raise _Captured  # the rest of the forward pass cannot change the answer

                handles.append(modules[consumer.module].register_forward_pre_hook(capture_hook))
        try:
            with torch.no_grad():
                call_model(model, example_inputs)
        except _Captured:
            pass
        finally:
            for handle in handles:
                handle.remove()
        return captured

    base = record(None)
    for group in candidates:
        scaled = record(group).get(group.name, [])
        ok = bool(scaled)
        for before, after in zip(base.get(group.name, []), scaled):
            expected = before * factors[group.name].to(before.dtype)
            tolerance = 1e-4 * (expected.abs().max().item() + 1e-12)
            ok &= bool(torch.allclose(after, expected, atol=tolerance, rtol=1e-4))
        group.homogeneous = ok
