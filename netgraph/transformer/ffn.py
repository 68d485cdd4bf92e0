"""FFN neurons of Hugging Face blocks, with the same fold as heads, one block at a time.

``netgraph.plan_reduction`` already reduces FFN groups it traces; this module does the
same maths (selection through the registry on the hidden units' statistics, least-squares
refit of the down projection on the kept units) without tracing, so that it runs block by
block on decoders too large to trace whole, and keeps every layer the same width when asked
(``save_pretrained`` needs one ``intermediate_size``). Layouts: BERT/ViT
(``intermediate.dense`` → ``output.dense``), GPT-2 (``mlp.c_fc`` → ``mlp.c_proj``) and
gated Llama-style MLPs (``gate_proj``, ``up_proj`` → ``down_proj``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import torch
from torch import nn

from netgraph.calibrate.stats import UnitStats
from netgraph.errors import InvalidParameterError, UnsupportedModelError
from netgraph.graph.groups import UnitGroup
from netgraph.select import SelectionContext, get_method
from netgraph.transformer.refit import drop_columns, refit_columns
from netgraph.transformer.statistics import InputStats, input_statistics

__all__ = ["FFNLayout", "FFNPlan", "find_ffn", "plan_ffn", "apply_ffn", "ffn_error_curve"]

OWNER = "plan_ffn"


@dataclass(frozen=True)
class FFNLayout:
    """One FFN: the layers writing its hidden units (``readers`` of the stream) and the reader."""

    name: str
    producers: tuple[str, ...]
    consumer: str
    width: int
    conv1d: bool  # GPT-2's transposed Conv1D weights


@dataclass
class FFNPlan:
    layout: FFNLayout
    kept: np.ndarray
    weight: np.ndarray  # (out, kept) as y = W h + b
    bias: np.ndarray | None
    error: float


def find_ffn(model: nn.Module) -> list[FFNLayout]:
    """Every FFN of a known layout in ``model``, in order."""
    layouts = []
    for name, module in model.named_modules():
        if isinstance(getattr(module, "intermediate", None), nn.Module) and isinstance(
            getattr(getattr(module, "intermediate", None), "dense", None), nn.Linear
        ):
            dense = module.intermediate.dense
            layouts.append(
                FFNLayout(f"{name}.intermediate.dense", (f"{name}.intermediate.dense",), f"{name}.output.dense", dense.out_features, False)
            )
        elif all(isinstance(getattr(module, part, None), nn.Linear) for part in ("gate_proj", "up_proj", "down_proj")):
            layouts.append(
                FFNLayout(f"{name}.up_proj", (f"{name}.gate_proj", f"{name}.up_proj"), f"{name}.down_proj", module.up_proj.out_features, False)
            )
        elif hasattr(module, "c_fc") and hasattr(module, "c_proj") and hasattr(module.c_fc, "nf"):
            layouts.append(FFNLayout(f"{name}.c_fc", (f"{name}.c_fc",), f"{name}.c_proj", int(module.c_fc.nf), True))
    if not layouts:
        raise UnsupportedModelError(
            f"{type(model).__name__} has no FFN of a known layout (BERT intermediate/output, GPT-2 c_fc/c_proj, "
            "Llama gate/up/down); use netgraph.plan_reduction for other models."
        )
    return layouts


def _linear(module: nn.Module, conv1d: bool) -> tuple[np.ndarray, np.ndarray | None]:
    weight = module.weight.detach().to(torch.float64).cpu().numpy()
    bias = None if module.bias is None else module.bias.detach().to(torch.float64).cpu().numpy()
    return (weight.T if conv1d else weight), bias


def ffn_error_curve(stats: InputStats, weight: np.ndarray, bias: np.ndarray | None, order: np.ndarray, sizes) -> dict[int, float]:
    """Fold error of the down projection when the first ``k`` units of ``order`` stay, for each k."""
    return {int(k): refit_columns(weight, bias, stats, np.sort(order[:k])).error for k in sizes}


def unit_order(model: nn.Module, layout: FFNLayout, stats: InputStats | None, method: str, n_keep: int, generator) -> np.ndarray:
    """Units ranked by a registered selection method (kept units first, by score)."""
    modules = dict(model.named_modules())
    weight, _ = _linear(modules[layout.consumer], layout.conv1d)
    incoming = np.concatenate([_linear(modules[name], layout.conv1d)[0] for name in layout.producers], axis=1)
    unit_stats = None
    if stats is not None:
        unit_stats = UnitStats(stats.count, stats.gram[-1, :-1].copy(), stats.gram[:-1, :-1])
    context = SelectionContext(
        group=UnitGroup(name=layout.name, size=layout.width, producers=[], norms=[], consumers=[]),
        n_keep=n_keep,
        incoming=incoming,
        outgoing=weight.T,
        stats=unit_stats,
        homogeneous=False,
        random_state=generator,
    )
    selection = get_method(method)(context)
    selection.validate(layout.width)
    return selection.kept


def plan_ffn(
    model: nn.Module,
    calibration: Iterable[Any] | Mapping[str, InputStats],
    keep: float | Mapping[str, float] = 0.5,
    method: str = "activation",
    fold: str = "lstsq",
    *,
    layouts: list[FFNLayout] | None = None,
    random_state: int | None = 0,
    ridge: float = 1e-6,
) -> list[FFNPlan]:
    """Keep ``keep`` of the hidden units of every FFN; refit each down projection on them.

    Examples
    --------
    >>> import torch
    >>> from transformers import BertConfig, BertModel
    >>> model = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
    ...                              intermediate_size=64, vocab_size=50)).eval()
    >>> [plan.kept.size for plan in plan_ffn(model, [{"input_ids": torch.randint(0, 50, (4, 12))}], keep=0.25)]
    [16]
    """
    if fold not in ("lstsq", "none"):
        raise InvalidParameterError.expected("fold", OWNER, "'lstsq' or 'none'", fold)
    layouts = find_ffn(model) if layouts is None else layouts
    stats = calibration if isinstance(calibration, Mapping) else input_statistics(
        model, list(calibration), [layout.consumer for layout in layouts]
    )
    modules = dict(model.named_modules())
    generator = np.random.default_rng(random_state)
    plans = []
    for layout in layouts:
        fraction = keep.get(layout.name, 1.0) if isinstance(keep, Mapping) else keep
        if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
            raise InvalidParameterError.expected("keep", OWNER, "a float in (0, 1]", fraction)
        n_keep = max(1, int(round(fraction * layout.width)))
        layer_stats = stats[layout.consumer]
        kept = np.sort(unit_order(model, layout, layer_stats, method, n_keep, generator))
        weight, bias = _linear(modules[layout.consumer], layout.conv1d)
        result = refit_columns(weight, bias, layer_stats, kept, ridge=ridge) if fold == "lstsq" else drop_columns(
            weight, bias, layer_stats, kept
        )
        plans.append(FFNPlan(layout, kept, result.weight, result.bias, result.error))
    return plans


def _slice(module: nn.Module, rows: torch.Tensor, conv1d: bool) -> None:
    weight = module.weight.detach()
    if conv1d:
        module.weight = nn.Parameter(weight.index_select(1, rows).contiguous())
        module.nf = module.weight.shape[1]
    else:
        module.weight = nn.Parameter(weight.index_select(0, rows).contiguous())
        module.out_features = module.weight.shape[0]
    if module.bias is not None:
        module.bias = nn.Parameter(module.bias.detach().index_select(0, rows).contiguous())


def apply_ffn(model: nn.Module, plans: list[FFNPlan]) -> nn.Module:
    """Cut the planned FFN units in place and install the refit down projections."""
    modules = dict(model.named_modules())
    for plan in plans:
        layout = plan.layout
        rows = torch.as_tensor(plan.kept, dtype=torch.long, device=modules[layout.consumer].weight.device)
        for name in layout.producers:
            _slice(modules[name], rows, layout.conv1d)
        consumer = modules[layout.consumer]
        weight = torch.from_numpy(plan.weight.T.copy() if layout.conv1d else plan.weight.copy())
        consumer.weight = nn.Parameter(weight.to(consumer.weight.dtype).to(consumer.weight.device))
        if plan.bias is not None:
            consumer.bias = nn.Parameter(torch.from_numpy(plan.bias.copy()).to(consumer.bias.dtype).to(consumer.bias.device))
        if not layout.conv1d:
            consumer.in_features = consumer.weight.shape[1]
        for owner in (modules[layout.consumer.rsplit(".", 1)[0]],):
            if hasattr(owner, "intermediate_size"):
                owner.intermediate_size = int(plan.kept.size)
    return model
