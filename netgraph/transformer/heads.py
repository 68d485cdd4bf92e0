"""Attention heads as units: statistics from the head contexts, selection by any netgraph
method, the removed heads' contribution folded into the output projection, surgery.

A head's *contribution* to the attention output is ``o_u = W_u c_u`` (its block of output
projection columns times its context). The heads' statistics handed to the selection
methods are the centred Gram matrix of those contributions, ``Σ_t (o_u − ō_u)·(o_v − ō_v)``,
computed from the context Gram and ``W`` alone: ``activation`` then keeps the heads whose
output varies most, ``dpp`` / ``submodular`` keep heads whose outputs are diverse. The fold
is the least-squares refit of the output projection on the kept heads' contexts
(``refit.refit_columns``), so a dropped head that duplicates a kept one costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import torch
from torch import nn

from netgraph.calibrate.stats import UnitStats
from netgraph.errors import InvalidParameterError
from netgraph.graph.groups import UnitGroup
from netgraph.select import Selection, SelectionContext, get_method
from netgraph.transformer.attention import AttentionLayout, find_attention, layer_index
from netgraph.transformer.refit import drop_columns, refit_columns
from netgraph.transformer.statistics import InputStats, input_statistics

__all__ = [
    "HeadPlan",
    "head_unit_stats",
    "head_error_curve",
    "plan_heads",
    "apply_heads",
    "reduce_heads",
    "HEAD_FOLDS",
    "GREEDY",
]

HEAD_FOLDS = ("none", "exact", "lstsq")
OWNER = "plan_heads"
# Heads-only selection: backward elimination on the least-squares fold's own error.
GREEDY = "greedy"


@dataclass
class HeadPlan:
    """What happens to one attention module: kept units and the new output projection."""

    layout: AttentionLayout
    kept: np.ndarray
    weight: np.ndarray  # (out, kept context columns), as y = W c + b
    bias: np.ndarray | None
    error: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def removed(self) -> np.ndarray:
        return np.setdiff1d(np.arange(self.layout.n_units), self.kept)


# ----------------------------------------------------------------------- weights


def _modules(model: nn.Module) -> dict[str, nn.Module]:
    return dict(model.named_modules())


def output_weights(model: nn.Module, layout: AttentionLayout) -> tuple[np.ndarray, np.ndarray | None]:
    """``(W, b)`` of the output projection as ``y = W c + b`` (GPT-2's Conv1D transposed)."""
    module = _modules(model)[layout.output]
    weight = module.weight.detach().to(torch.float64).cpu().numpy()
    if layout.style == "gpt2":
        weight = weight.T
    bias = None if getattr(module, "bias", None) is None else module.bias.detach().to(torch.float64).cpu().numpy()
    return weight, bias


def _projection_rows(model: nn.Module, layout: AttentionLayout) -> list[np.ndarray]:
    """The query, key and value weights as (rows = output features, columns = inputs)."""
    modules = _modules(model)
    if layout.style == "gpt2":
        fused = modules[layout.query].weight.detach().to(torch.float64).cpu().numpy().T
        return list(np.split(fused, 3, axis=0))
    return [modules[name].weight.detach().to(torch.float64).cpu().numpy() for name in (layout.query, layout.key, layout.value)]


def unit_incoming(model: nn.Module, layout: AttentionLayout) -> np.ndarray:
    """Each unit's query, key, value rows and output columns flattened (for weight-based methods)."""
    query, key, value = _projection_rows(model, layout)
    weight, _ = output_weights(model, layout)
    width = layout.group_size * layout.head_dim
    rows = []
    for unit in range(layout.n_units):
        query_rows = query[unit * width : (unit + 1) * width]
        kv_rows = slice(unit * layout.head_dim, (unit + 1) * layout.head_dim)
        rows.append(
            np.concatenate([query_rows.ravel(), key[kv_rows].ravel(), value[kv_rows].ravel(), weight[:, layout.unit_columns(unit)].ravel()])
        )
    return np.stack(rows)


def head_unit_stats(layout: AttentionLayout, stats: InputStats, weight: np.ndarray) -> UnitStats:
    """Head statistics for netgraph's selection methods, as UnitStats over the units.

    ``G[u, v] = sqrt(e_u e_v) · CKA(c_u, c_v)``: the diagonal ``e_u`` is the variance of
    the unit's contribution ``W_u c_u`` to the attention output (what ``activation``
    ranks), and the correlation the graph methods see is the linear CKA of the two units'
    contexts, ``‖Σ_uv‖²_F / (‖Σ_uu‖_F ‖Σ_vv‖_F)`` (Kornblith et al. 2019): 1 for heads
    whose contexts are the same up to a rotation and scale, which the least-squares fold
    then replaces exactly. CKA is a normalised inner product of the heads' token Gram
    matrices, so ``G`` is positive semi-definite. ``total`` is zero: the statistics are
    centred.
    """
    covariance = stats.covariance[: layout.context_width, : layout.context_width]
    width = layout.group_size * layout.head_dim
    units = layout.n_units
    blocks = covariance.reshape(units, width, units, width)
    hsic = np.einsum("uivj,uivj->uv", blocks, blocks)
    scale = np.sqrt(np.clip(np.diag(hsic), 1e-300, None))
    cka = hsic / scale[:, None] / scale[None, :]
    energy = np.zeros(units)
    for unit in range(units):
        columns = layout.unit_columns(unit)
        block = weight[:, columns]
        energy[unit] = float(np.sum((block @ covariance[np.ix_(columns, columns)]) * block))
    root = np.sqrt(np.clip(energy, 0.0, None))
    gram = root[:, None] * cka * root[None, :]
    return UnitStats(stats.count, np.zeros(units), (gram + gram.T) / 2)


def head_error_curve(model: nn.Module, layout: AttentionLayout, stats: InputStats, *, ridge: float = 1e-6):
    """Backward elimination: repeatedly remove the unit whose loss the fold compensates best.

    Returns ``(order, curve)``: units from most to least worth keeping, and ``curve[k]`` the
    relative output error of the output projection when the first ``k`` units of ``order``
    are kept (``curve[n_units] = 0``). A dozen units cost a few dozen small solves.
    """
    weight, bias = output_weights(model, layout)
    kept = list(range(layout.n_units))
    removed: list[int] = []
    curve = np.zeros(layout.n_units + 1)
    curve[0] = 1.0
    while len(kept) > 1:
        errors = [
            refit_columns(weight, bias, stats, layout.columns([k for k in kept if k != unit]), ridge=ridge).error
            for unit in kept
        ]
        best = int(np.argmin(errors))
        removed.append(kept.pop(best))
        curve[len(kept)] = errors[best]
    return np.array(kept + removed[::-1]), curve


def stream_reader(layout: AttentionLayout) -> str:
    """The norm whose input is the residual stream the attention output joins."""
    if layout.style == "bert":
        return f"{layout.name}.output.LayerNorm"
    block = layout.name.rsplit(".", 1)[0]
    return f"{block}.ln_1" if layout.style == "gpt2" else f"{block}.input_layernorm"


def allocate_heads(curves: list[np.ndarray], weights: list[float], total: int) -> list[int]:
    """Units per module minimising ``Σ weight_l · curve_l[k_l]`` with ``Σ k_l = total``.

    Greedy on the marginal cost of removing one more unit; the curves of backward
    elimination are nearly convex, where greedy is optimal.
    """
    counts = [curve.size - 1 for curve in curves]
    while sum(counts) > total:
        costs = [
            weight * (curve[count - 1] - curve[count]) if count > 1 else np.inf
            for curve, weight, count in zip(curves, weights, counts)
        ]
        counts[int(np.argmin(costs))] -= 1
    return counts


# ---------------------------------------------------------------------- planning


def _n_keep(fraction: float, units: int, name: str) -> int:
    if not (isinstance(fraction, (int, float)) and not isinstance(fraction, bool) and 0 < fraction <= 1):
        raise InvalidParameterError.expected("keep", OWNER, f"a float in (0, 1] (for {name})", fraction)
    return int(min(units, max(1, round(fraction * units))))


def select_units(
    model: nn.Module,
    layout: AttentionLayout,
    stats: InputStats | None,
    n_keep: int,
    method: str,
    *,
    random_state: np.random.Generator,
    method_params: dict[str, Any] | None = None,
) -> Selection:
    """Run a registered netgraph selection method on the head units of one module."""
    select = get_method(method)
    weight, _ = output_weights(model, layout)
    group = UnitGroup(name=layout.name, size=layout.n_units, producers=[], norms=[], consumers=[])
    context = SelectionContext(
        group=group,
        n_keep=n_keep,
        incoming=unit_incoming(model, layout),
        outgoing=np.ones((layout.n_units, 1)),
        stats=None if stats is None else head_unit_stats(layout, stats, weight),
        homogeneous=False,
        random_state=random_state,
        params=dict(method_params or {}),
    )
    selection = select(context)
    selection.validate(layout.n_units)
    return selection


def fold_heads(
    model: nn.Module,
    layout: AttentionLayout,
    selection: Selection,
    stats: InputStats | None,
    fold: str,
    *,
    ridge: float = 1e-6,
) -> HeadPlan:
    """The new output projection over the kept units' context columns."""
    weight, bias = output_weights(model, layout)
    kept_columns = layout.columns(selection.kept)
    if fold == "lstsq":
        if stats is None:
            raise InvalidParameterError(f"fold='lstsq' of {OWNER} needs calibration data; pass calibration=batches.")
        result = refit_columns(weight, bias, stats, kept_columns, ridge=ridge)
    else:
        merged = weight.copy()
        if fold == "exact":
            # Weight-space merge with scale 1: exact for a head that duplicates its target.
            for unit, target in enumerate(selection.assignment):
                if target >= 0 and target != unit:
                    merged[:, layout.unit_columns(int(target))] += weight[:, layout.unit_columns(unit)]
        result = drop_columns(merged, bias, stats if fold == "none" else None, kept_columns)
    return HeadPlan(layout, selection.kept, result.weight, result.bias, result.error, dict(selection.info))


def plan_heads(
    model: nn.Module,
    calibration: Iterable[Any] | Mapping[str, InputStats] | None,
    keep: float | Mapping[str, float] = 0.5,
    method: str = "activation",
    fold: str = "lstsq",
    *,
    layouts: list[AttentionLayout] | None = None,
    random_state: int | None = 0,
    method_params: dict[str, Any] | None = None,
    ridge: float = 1e-6,
    budget: str = "layer",
) -> list[HeadPlan]:
    """Plan which attention heads (KV-head units under GQA) to keep in every attention module.

    Parameters
    ----------
    model : nn.Module
        A Hugging Face transformer (BERT/MiniLM, ViT, GPT-2, Llama, Qwen2, Mistral); not modified.
    calibration : iterable of batches, or {output projection name: InputStats}, optional
        Model inputs (dicts with ``attention_mask`` for text); needed by ``fold="lstsq"`` and
        the data-driven methods.
    keep : float in (0, 1] or {attention module name: fraction}
        Fraction of units kept in every attention module (modules missing from a dict keep all).
    method : str
        Any registered netgraph selection method (``activation``, ``dpp``, ``submodular``, ...),
        or ``"greedy"``: backward elimination on the fold's own output error.
    fold : {"lstsq", "none", "exact"}
        ``lstsq`` refits the output projection on the kept heads' contexts; ``none`` drops
        (mean folded into the bias); ``exact`` adds merged heads' output columns to their
        representative's.
    budget : {"layer", "global"}
        ``"layer"`` keeps ``keep`` of every module; ``"global"`` keeps ``keep`` of all units
        together, shared across modules by their greedy error curves weighted by how much
        of the residual stream each attention output is (needs calibration batches and a
        float ``keep``; selection is then ``greedy``).

    Examples
    --------
    >>> import torch
    >>> from transformers import BertConfig, BertModel
    >>> model = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
    ...                              intermediate_size=64, vocab_size=50)).eval()
    >>> batches = [{"input_ids": torch.randint(0, 50, (4, 12))}]
    >>> [plan.kept.size for plan in plan_heads(model, batches, keep=0.5)]
    [2]
    """
    if fold not in HEAD_FOLDS:
        raise InvalidParameterError.expected("fold", OWNER, f"one of {', '.join(HEAD_FOLDS)}", fold)
    if method != GREEDY:
        get_method(method)
    if budget not in ("layer", "global"):
        raise InvalidParameterError.expected("budget", OWNER, "'layer' or 'global'", budget)
    if budget == "global" and (isinstance(keep, Mapping) or calibration is None or isinstance(calibration, Mapping)):
        raise InvalidParameterError(
            f"budget='global' of {OWNER} needs calibration batches and a single float keep; "
            "pass calibration=batches and keep=<fraction>."
        )
    layouts = find_attention(model) if layouts is None else layouts
    if isinstance(keep, Mapping):
        unknown = sorted(set(keep) - {layout.name for layout in layouts})
        if unknown:
            raise InvalidParameterError(f"keep names {unknown[0]!r}, which is not an attention module of the model.")
        fractions = {layout.name: keep.get(layout.name, 1.0) for layout in layouts}
    else:
        fractions = {layout.name: keep for layout in layouts}
    if calibration is None:
        stats: Mapping[str, InputStats] = {}
        if fold == "lstsq":
            raise InvalidParameterError(f"fold='lstsq' of {OWNER} needs calibration data; pass calibration=batches.")
    elif isinstance(calibration, Mapping):
        stats = calibration
    else:
        readers = [stream_reader(layout) for layout in layouts] if budget == "global" else []
        stats = input_statistics(model, list(calibration), [layout.output for layout in layouts] + readers)
    if method == GREEDY and not stats:
        raise InvalidParameterError(f"method='greedy' of {OWNER} needs calibration data; pass calibration=batches.")
    counts = {layout.name: _n_keep(fractions[layout.name], layout.n_units, layout.name) for layout in layouts}
    orders: dict[str, np.ndarray] = {}
    if method == GREEDY or budget == "global":
        curves = []
        for layout in layouts:
            orders[layout.name], curve = head_error_curve(model, layout, stats[layout.output], ridge=ridge)
            curves.append(curve)
        if budget == "global":
            weights = [_stream_share(model, layout, stats) for layout in layouts]
            total = _n_keep(keep, sum(layout.n_units for layout in layouts), "all modules")
            counts = dict(zip((layout.name for layout in layouts), allocate_heads(curves, weights, total)))
    generator = np.random.default_rng(random_state)
    plans = []
    for layout in layouts:
        layer_stats = stats.get(layout.output)
        if layout.name in orders:
            selection = Selection.from_kept(orders[layout.name][: counts[layout.name]], layout.n_units)
        else:
            selection = select_units(
                model, layout, layer_stats, counts[layout.name], method, random_state=generator, method_params=method_params
            )
        plans.append(fold_heads(model, layout, selection, layer_stats, fold, ridge=ridge))
    return plans


def _stream_share(model: nn.Module, layout: AttentionLayout, stats: Mapping[str, InputStats]) -> float:
    """Variance of the attention output over the variance of the stream it joins."""
    weight, _ = output_weights(model, layout)
    covariance = stats[layout.output].covariance
    output_variance = float(np.sum((weight @ covariance) * weight))
    stream = stats.get(stream_reader(layout))
    if stream is None:
        return output_variance
    return output_variance / max(float(np.trace(stream.covariance)), 1e-30)


# ----------------------------------------------------------------------- surgery


def _set_linear(module: nn.Module, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    module.weight = nn.Parameter(weight.to(module.weight.dtype).to(module.weight.device).contiguous())
    if bias is not None:
        module.bias = nn.Parameter(bias.to(module.bias.dtype).to(module.bias.device).contiguous())
    if isinstance(module, nn.Linear):
        module.out_features, module.in_features = module.weight.shape
    elif hasattr(module, "nf"):  # transformers Conv1D
        module.nf = module.weight.shape[1]


def _original_head_ids(module: nn.Module, current: np.ndarray, n_current: int) -> list[int]:
    """Hugging Face's prune_heads takes heads by their original index."""
    pruned = set(getattr(module, "pruned_heads", set()))
    original = [head for head in range(n_current + len(pruned)) if head not in pruned]
    return [original[int(head)] for head in current]


def _record_pruned_heads(model: nn.Module, layout: AttentionLayout, heads: list[int]) -> None:
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "pruned_heads"):
        return
    layer = layer_index(layout.name)
    union = set(config.pruned_heads.get(layer, [])) | set(heads)
    config.pruned_heads[layer] = sorted(union)


def _slice_rows(module: nn.Linear, rows: np.ndarray) -> None:
    index = torch.as_tensor(rows, dtype=torch.long, device=module.weight.device)
    bias = None if module.bias is None else module.bias.detach().index_select(0, index)
    _set_linear(module, module.weight.detach().index_select(0, index), bias)


def apply_heads(model: nn.Module, plans: list[HeadPlan]) -> nn.Module:
    """Remove the planned heads from ``model`` in place and install the folded output projections.

    BERT/ViT/GPT-2 go through Hugging Face's ``prune_heads`` (attributes and
    ``config.pruned_heads`` stay right, so ``save_pretrained`` / ``from_pretrained``
    round-trip); Llama-style modules are sliced here (their forward infers the head count).
    """
    modules = _modules(model)
    for plan in plans:
        layout = plan.layout
        owner = modules[layout.name]
        removed = plan.removed
        if removed.size:
            if layout.style in ("bert", "gpt2"):
                heads = _original_head_ids(owner, removed, layout.n_heads)
                dtype = modules[layout.output].weight.dtype
                owner.prune_heads(set(heads))
                owner.to(dtype)  # Hugging Face's pruning rebuilds layers in the default dtype
                _record_pruned_heads(model, layout, heads)
            else:
                head_dim = layout.head_dim
                query_rows = np.concatenate(
                    [np.arange(head_dim * layout.group_size * u, head_dim * layout.group_size * (u + 1)) for u in plan.kept]
                )
                kv_rows = np.concatenate([np.arange(head_dim * u, head_dim * (u + 1)) for u in plan.kept])
                _slice_rows(modules[layout.query], query_rows)
                _slice_rows(modules[layout.key], kv_rows)
                _slice_rows(modules[layout.value], kv_rows)
                for attribute, value in (
                    ("num_heads", plan.kept.size * layout.group_size),
                    ("num_key_value_heads", plan.kept.size),
                ):
                    if hasattr(owner, attribute):
                        setattr(owner, attribute, value)
        output = _modules(model)[layout.output]
        weight = torch.from_numpy(plan.weight.T.copy() if layout.style == "gpt2" else plan.weight.copy())
        bias = None if plan.bias is None else torch.from_numpy(plan.bias.copy())
        _set_linear(output, weight, bias)
    return model


def reduce_heads(
    model: nn.Module,
    calibration: Iterable[Any] | None,
    keep: float | Mapping[str, float] = 0.5,
    method: str = "activation",
    fold: str = "lstsq",
    **options: Any,
) -> tuple[nn.Module, list[HeadPlan]]:
    """``plan_heads`` then ``apply_heads`` on a copy: the smaller model and the plans."""
    import copy

    plans = plan_heads(model, calibration, keep, method, fold, **options)
    return apply_heads(copy.deepcopy(model), plans), plans
