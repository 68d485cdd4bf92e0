"""One parameter budget across kinds: FFN neurons, attention heads, depth and vocabulary.

Every kind is measured on the same scale, the error it adds to the residual stream: a
sublayer's relative fold error (from its least-squares error curve) times the share of the
stream's variance that the sublayer writes. Dropping a block costs the angular distance
between the states around it (``depth.stream_distances``), squared to be a variance
fraction. In uniform mode (the default, so the result saves with ``save_pretrained``) every
layer keeps the same number of heads and FFN units, so the search is over a small grid of
(heads, FFN width, blocks dropped): each point's parameter count is exact arithmetic and
its predicted error the sum of the curves; the cheapest point under the budget wins.

The vocabulary is trimmed first when texts are given (off by default), since on
all-MiniLM-L6-v2 the embeddings alone are 52 % of the parameters: a 50 % target is
reachable only with it (or a smaller hidden size).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from netgraph.errors import InvalidParameterError
from netgraph.transformer.attention import find_attention
from netgraph.transformer.depth import drop_blocks, find_blocks, plan_depth, stream_distances
from netgraph.transformer.ffn import apply_ffn, find_ffn, plan_ffn, unit_order
from netgraph.transformer.heads import apply_heads, head_error_curve, output_weights, plan_heads, stream_reader
from netgraph.transformer.refit import refit_columns
from netgraph.transformer.statistics import input_statistics

__all__ = ["TransformerReduction", "reduce_transformer", "reduce_and_save", "KINDS"]

KINDS = ("ffn", "heads", "depth", "vocab")
OWNER = "reduce_transformer"
_FFN_GRID = np.round(np.arange(0.05, 1.0001, 0.05), 2)


@dataclass
class TransformerReduction:
    """What ``reduce_transformer`` did: sizes chosen, parameter counts and predicted errors."""

    heads_kept: int | None
    ffn_kept: int | None
    dropped_blocks: list[int]
    vocabulary_kept: int | None
    parameters_before: int
    parameters_after: int
    predicted_error: float
    vocabulary_plan: Any = None
    warnings: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return self.parameters_after / self.parameters_before


def _count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def _ffn_stream_share(model, layout, stats) -> float:
    modules = dict(model.named_modules())
    consumer = modules[layout.consumer]
    weight = consumer.weight.detach().double().numpy()
    weight = weight.T if layout.conv1d else weight
    output_variance = float(np.sum((weight @ stats[layout.consumer].covariance) * weight))
    block = layout.consumer.rsplit(".", 1)[0]
    reader = None
    for candidate in (f"{block}.LayerNorm", block.rsplit(".", 1)[0] + ".post_attention_layernorm", block.rsplit(".", 1)[0] + ".ln_2"):
        if candidate in stats:
            reader = candidate
    if reader is None:
        return output_variance
    return output_variance / max(float(np.trace(stats[reader].covariance)), 1e-30)


def _stream_readers(model: nn.Module, ffn_layouts) -> list[str]:
    modules = dict(model.named_modules())
    names = []
    for layout in ffn_layouts:
        block = layout.consumer.rsplit(".", 1)[0]
        for candidate in (f"{block}.LayerNorm", block.rsplit(".", 1)[0] + ".post_attention_layernorm", block.rsplit(".", 1)[0] + ".ln_2"):
            if candidate in modules:
                names.append(candidate)
                break
    return names


def reduce_transformer(
    model: nn.Module,
    calibration: Iterable[Any],
    target_params: float = 0.5,
    *,
    kinds: Sequence[str] = ("ffn", "heads"),
    tokenizer=None,
    texts: Sequence[str] | None = None,
    method: str = "activation",
    max_drop: int | None = None,
    ridge: float = 1e-6,
):
    """Reduce a Hugging Face transformer to ``target_params`` of its parameters in one call.

    Parameters
    ----------
    model : PreTrainedModel
        Not modified; a reduced copy is returned.
    calibration : iterable of batches
        Model inputs (tokenised with the *original* tokenizer).
    target_params : float in (0, 1)
        Fraction of the parameters to keep.
    kinds : subset of {"ffn", "heads", "depth", "vocab"}
        Which kinds share the budget. ``"vocab"`` needs ``tokenizer`` and ``texts`` (the
        user's text: tokens it never uses are dropped).
    method : str
        Selection method for FFN units (any registered method); heads use the greedy
        error curve.

    Returns
    -------
    (reduced model, tokenizer, TransformerReduction)
        The tokenizer is the remapped one when the vocabulary was trimmed, else the given one.
    """
    kinds = tuple(kinds)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise InvalidParameterError.expected("kinds", OWNER, f"a non-empty subset of {KINDS}", list(kinds))
    if not (isinstance(target_params, float) and 0 < target_params < 1):
        raise InvalidParameterError.expected("target_params", OWNER, "a float in (0, 1)", target_params)
    if "vocab" in kinds and tokenizer is None:
        raise InvalidParameterError(f"kinds with 'vocab' in {OWNER} need the model's tokenizer= (and texts=, or the calibration batches are used).")
    batches = list(calibration)
    before = _count(model)
    target = target_params * before
    reduced = copy.deepcopy(model).eval()
    warnings: list[str] = []
    vocabulary_kept = None
    if "vocab" in kinds:
        from netgraph.transformer.vocabulary import apply_vocabulary, plan_vocabulary, remap_batch

        vocabulary_plan = plan_vocabulary(tokenizer, texts, batches=None if texts else batches)
        reduced, tokenizer = apply_vocabulary(reduced, tokenizer, vocabulary_plan)
        vocabulary_kept = int(vocabulary_plan.kept.size)
        warnings += vocabulary_plan.warnings
        # Calibration batches were tokenised with the old ids: map them to the new ones.
        batches = [remap_batch(batch, vocabulary_plan, tokenizer.unk_token_id) for batch in batches]
    base = _count(reduced)

    heads = find_attention(reduced)
    ffns = find_ffn(reduced)
    n_blocks = len(find_blocks(reduced)[1])
    layers = [layout.output for layout in heads] + [layout.consumer for layout in ffns]
    readers = [stream_reader(layout) for layout in heads] + _stream_readers(reduced, ffns)
    modules = dict(reduced.named_modules())
    stats = input_statistics(reduced, batches, layers + [name for name in readers if name in modules])

    # Per-unit parameter costs, measured on the model itself.
    head_layout = heads[0]
    head_unit_params = 0
    for name in (head_layout.query, head_layout.key, head_layout.value):
        module = modules[name]
        head_unit_params += (module.weight.numel() + (module.bias.numel() if module.bias is not None else 0))
    head_unit_params = head_unit_params // head_layout.n_units
    head_unit_params += modules[head_layout.output].weight.numel() // head_layout.n_units
    ffn_layout = ffns[0]
    ffn_unit_params = sum(
        (modules[name].weight.numel() + (modules[name].bias.numel() if modules[name].bias is not None else 0)) // ffn_layout.width
        for name in ffn_layout.producers
    ) + modules[ffn_layout.consumer].weight.numel() // ffn_layout.width
    block_params = sum(p.numel() for p in find_blocks(reduced)[1][0].parameters())

    # Error curves on the stream scale.
    head_counts = list(range(1, head_layout.n_units + 1)) if "heads" in kinds else [head_layout.n_units]
    head_cost = np.zeros(head_layout.n_units + 1)
    if "heads" in kinds:
        for layout in heads:
            _, curve = head_error_curve(reduced, layout, stats[layout.output], ridge=ridge)
            weight, _ = output_weights(reduced, layout)
            share = float(np.sum((weight @ stats[layout.output].covariance) * weight))
            reader = stats.get(stream_reader(layout))
            share /= max(float(np.trace(reader.covariance)), 1e-30) if reader is not None else 1.0
            head_cost += share * curve
    ffn_fractions = _FFN_GRID if "ffn" in kinds else np.array([1.0])
    ffn_cost = {}
    for layout in ffns:
        layer_stats = stats[layout.consumer]
        share = _ffn_stream_share(reduced, layout, stats)
        weight = modules[layout.consumer].weight.detach().double().numpy()
        weight = weight.T if layout.conv1d else weight
        bias = None if modules[layout.consumer].bias is None else modules[layout.consumer].bias.detach().double().numpy()
        for fraction in ffn_fractions:
            k = max(1, int(round(fraction * layout.width)))
            if k >= layout.width:
                error = 0.0
            else:
                kept = unit_order(reduced, layout, layer_stats, method, k, np.random.default_rng(0))
                error = refit_columns(weight, bias, layer_stats, kept, ridge=ridge).error
            ffn_cost[fraction] = ffn_cost.get(fraction, 0.0) + share * error
    depth_costs = {0: (0.0, [])}
    if "depth" in kinds:
        distances = stream_distances(reduced, batches)
        for n_drop in range(1, (max_drop if max_drop is not None else n_blocks // 2) + 1):
            plan = plan_depth(distances, n_drop)
            depth_costs[n_drop] = (float(np.sum([distances[i, i + 1] ** 2 for i in plan.dropped])), plan.dropped)

    best = None
    for k_heads in head_counts:
        for fraction in ffn_fractions:
            k_ffn = max(1, int(round(fraction * ffn_layout.width)))
            for n_drop, (depth_cost, dropped) in depth_costs.items():
                kept_blocks = n_blocks - n_drop
                per_block = block_params - (head_layout.n_units - k_heads) * head_unit_params - (ffn_layout.width - k_ffn) * ffn_unit_params
                params = base - n_blocks * block_params + kept_blocks * per_block
                if params > target:
                    continue
                # Errors of kept blocks only: dropped blocks' sublayers no longer count.
                scale = kept_blocks / n_blocks
                error = scale * (head_cost[k_heads] + ffn_cost[fraction]) + depth_cost
                if best is None or error < best[0]:
                    best = (error, k_heads, fraction, n_drop, dropped, params)
    if best is None:
        raise InvalidParameterError(
            f"target_params={target_params} of {OWNER} is out of reach with kinds {list(kinds)} "
            f"(the parts they cannot shrink hold {(base - n_blocks * block_params) / before:.0%} of the parameters); "
            "add 'vocab' (with texts=) or 'depth', or raise the target."
        )
    error, k_heads, fraction, n_drop, dropped, _ = best
    if "heads" in kinds and k_heads < head_layout.n_units:
        plans = plan_heads(reduced, stats, keep=k_heads / head_layout.n_units, method="greedy", ridge=ridge)
        apply_heads(reduced, plans)
    if "ffn" in kinds and fraction < 1.0:
        # Refit the FFNs on the statistics of the network whose heads are already cut.
        plans = plan_ffn(reduced, batches, keep=float(fraction), method=method, ridge=ridge)
        apply_ffn(reduced, plans)
    if dropped:
        drop_blocks(reduced, dropped)
    result = TransformerReduction(
        heads_kept=int(k_heads) if "heads" in kinds else None,
        ffn_kept=max(1, int(round(fraction * ffn_layout.width))) if "ffn" in kinds else None,
        dropped_blocks=list(dropped),
        vocabulary_kept=vocabulary_kept,
        vocabulary_plan=vocabulary_plan if "vocab" in kinds else None,
        parameters_before=before,
        parameters_after=_count(reduced),
        predicted_error=float(error),
        warnings=warnings,
    )
    return reduced, tokenizer, result


def _pooled(model: nn.Module, batch: dict) -> torch.Tensor:
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype) if "attention_mask" in batch else torch.ones_like(hidden[..., :1])
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)


def reduce_and_save(
    model: nn.Module,
    calibration: list,
    folder,
    target_params: float,
    *,
    kinds: Sequence[str] = ("ffn", "heads"),
    tokenizer=None,
    held_out: list | None = None,
) -> dict[str, Any]:
    """``reduce_transformer`` then ``save_pretrained`` (with the tokenizer); a summary dict
    with the held-out mean cosine of mean-pooled last hidden states when ``held_out`` is given."""
    from netgraph.transformer.export import save_pretrained
    from netgraph.transformer.vocabulary import remap_batch

    reduced, reduced_tokenizer, result = reduce_transformer(model, calibration, target_params, kinds=kinds, tokenizer=tokenizer)
    summary: dict[str, Any] = {
        "parameters_before": result.parameters_before,
        "parameters_after": result.parameters_after,
        "fraction": result.fraction,
        "heads_kept_per_layer": result.heads_kept,
        "ffn_kept_per_layer": result.ffn_kept,
        "dropped_blocks": result.dropped_blocks,
        "vocabulary_kept": result.vocabulary_kept,
        "warnings": list(result.warnings),
    }
    if held_out:
        cosines = []
        with torch.no_grad():
            for batch in held_out:
                small_batch = batch if result.vocabulary_plan is None else remap_batch(batch, result.vocabulary_plan, reduced_tokenizer.unk_token_id)
                cosines.append(torch.nn.functional.cosine_similarity(_pooled(reduced, small_batch), _pooled(model.eval(), batch), dim=-1))
        summary["held_out_cosine"] = float(torch.cat(cosines).mean())
    save_pretrained(reduced, folder, tokenizer=reduced_tokenizer if tokenizer is not None else None)
    return summary
