"""Depth: remove whole transformer blocks chosen from a similarity graph of the stream.

The residual-stream states ``h_0 … h_L`` (input of block 0, then the output of every
block) are the nodes of a complete graph whose edge ``(i, j)`` weighs the mean angular
distance ``arccos(cos(h_i, h_j)) / π`` over calibration tokens (Gromov et al. 2024, "The
Unreasonable Ineffectiveness of the Deeper Layers"). Skipping blocks ``i … j-1`` feeds
``h_i`` where ``h_j`` was expected, so its cost is that edge; keeping a block is free. The
cheapest set of ``n`` blocks to drop is a shortest path through this graph with exactly
``n`` skipped blocks (a small dynamic programme). After the cut the block that follows a
gap (or, at the end, the one before it) is refit to the original network's output by a
few hundred local Adam steps on cached inputs, replaying the block's own call arguments
(masks, rotary embeddings) so every architecture is handled alike.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from netgraph.batches import call_model
from netgraph.errors import InvalidParameterError, UnsupportedModelError
from netgraph.transformer.statistics import real_tokens

__all__ = ["DepthPlan", "find_blocks", "stream_distances", "plan_depth", "drop_blocks", "refit_block", "reduce_depth"]


@dataclass
class DepthPlan:
    """Blocks to drop, their cost in the similarity graph, and the whole distance matrix."""

    dropped: list[int]
    cost: float
    distances: np.ndarray  # (L + 1, L + 1) mean angular distance between stream states


def find_blocks(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The ``ModuleList`` of transformer blocks (``encoder.layer``, ``h``, ``model.layers``)."""
    best: tuple[str, nn.ModuleList] | None = None
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) > 0:
            first = module[0]
            has_attention = any(
                hasattr(child, "q_proj") or hasattr(child, "c_attn") or hasattr(child, "query")
                for child in first.modules()
            )
            if has_attention and (best is None or len(module) > len(best[1])):
                best = (name, module)
    if best is None:
        raise UnsupportedModelError(
            f"{type(model).__name__} has no list of transformer blocks (encoder.layer, h, model.layers); "
            "depth reduction needs one."
        )
    return best


def _hidden(output: Any) -> torch.Tensor:
    return output[0] if isinstance(output, (tuple, list)) else output


def stream_distances(model: nn.Module, batches: Iterable[Any]) -> np.ndarray:
    """Mean angular distance between every pair of residual-stream states over real tokens."""
    _, blocks = find_blocks(model)
    n_states = len(blocks) + 1
    states: list[torch.Tensor | None] = [None] * n_states
    current: dict[str, Any] = {}

    def pre_hook(index):
        def hook(_module, args, kwargs):
            if index == 0:
                hidden = args[0] if args else kwargs["hidden_states"]
                states[0] = real_tokens(current["batch"], hidden).double()

        return hook

    def post_hook(index):
        def hook(_module, _args, output):
            states[index + 1] = real_tokens(current["batch"], _hidden(output)).double()

        return hook

    handles = [blocks[0].register_forward_pre_hook(pre_hook(0), with_kwargs=True)]
    handles += [block.register_forward_hook(post_hook(i)) for i, block in enumerate(blocks)]
    total = np.zeros((n_states, n_states))
    count = 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                current["batch"] = batch
                call_model(model, batch)
                unit = torch.stack([torch.nn.functional.normalize(state, dim=-1) for state in states])  # (S, T, d)
                cosine = torch.einsum("itd,jtd->ijt", unit, unit).clamp(-1.0, 1.0)
                total += (torch.arccos(cosine) / np.pi).sum(-1).numpy()
                count += unit.shape[1]
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    if count == 0:
        raise InvalidParameterError("stream_distances needs at least one batch of calibration data.")
    return total / count


def plan_depth(distances: np.ndarray, n_drop: int) -> DepthPlan:
    """The ``n_drop`` blocks whose skipping costs least: a shortest path with ``n_drop`` skips.

    ``best[j][s]`` is the cheapest way to reach state ``j`` having skipped ``s`` blocks;
    reaching ``j`` from ``j - 1`` keeps block ``j - 1`` (cost 0), from ``i < j - 1`` skips
    blocks ``i … j-1`` (cost ``distances[i, j]``). Consecutive gaps are not allowed to touch
    (they would be one gap).
    """
    n_blocks = distances.shape[0] - 1
    if not (isinstance(n_drop, (int, np.integer)) and 0 <= n_drop < n_blocks):
        raise InvalidParameterError.expected("n_drop", "plan_depth", f"an int in [0, {n_blocks - 1}]", n_drop)
    infinity = float("inf")
    # best[j][s][last_was_skip]
    best = np.full((n_blocks + 1, n_drop + 1, 2), infinity)
    parent: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    best[0, 0, 0] = 0.0
    for j in range(1, n_blocks + 1):
        for s in range(n_drop + 1):
            for flag in (0, 1):
                value = best[j - 1, s, flag]
                if value < best[j, s, 0]:
                    best[j, s, 0] = value
                    parent[(j, s, 0)] = (j - 1, s, flag)
            for i in range(j - 1, -1, -1):
                skipped = j - i
                if skipped > s:
                    break
                value = best[i, s - skipped, 0] + distances[i, j]
                if value < best[j, s, 1]:
                    best[j, s, 1] = value
                    parent[(j, s, 1)] = (i, s - skipped, 0)
    flag = int(np.argmin(best[n_blocks, n_drop]))
    cost = float(best[n_blocks, n_drop, flag])
    dropped: list[int] = []
    state = (n_blocks, n_drop, flag)
    while state[0] > 0:
        previous = parent[state]
        if state[2] == 1:
            dropped.extend(range(previous[0], state[0]))
        state = previous
    return DepthPlan(sorted(dropped), cost, distances)


def drop_blocks(model: nn.Module, dropped: list[int]) -> nn.Module:
    """Remove blocks in place; the config's layer count (and per-layer lists) follow."""
    name, blocks = find_blocks(model)
    keep = [i for i in range(len(blocks)) if i not in set(dropped)]
    kept_blocks = nn.ModuleList([blocks[i] for i in keep])
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attribute, kept_blocks)
    for position, block in enumerate(kept_blocks):
        for module in block.modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = position  # key/value caches are indexed by position
    config = getattr(model, "config", None)
    if config is not None:
        for key in ("num_hidden_layers", "n_layer"):
            if hasattr(config, key):
                setattr(config, key, len(keep))
        pruned = getattr(config, "pruned_heads", None)
        if pruned:
            # Per-layer head pruning is keyed by block number: renumber, forget dropped blocks.
            config.pruned_heads = {keep.index(int(layer)): heads for layer, heads in pruned.items() if int(layer) in keep}
        if isinstance(getattr(config, "layer_types", None), list):
            config.layer_types = [config.layer_types[i] for i in keep]
    return model


def _capture_block_calls(model: nn.Module, block: nn.Module, batches: list[Any], *, output: bool):
    """Every call of ``block`` over ``batches``: (args, kwargs) or its hidden output."""
    calls: list[Any] = []

    def pre_hook(_module, args, kwargs):
        if not output:
            from netgraph.transformer.layerwise import without_cache

            calls.append((tuple(a.detach() if torch.is_tensor(a) else a for a in args), without_cache(kwargs)))

    def post_hook(_module, _args, result):
        if output:
            calls.append(_hidden(result).detach())

    handles = [block.register_forward_pre_hook(pre_hook, with_kwargs=True), block.register_forward_hook(post_hook)]
    try:
        with torch.no_grad():
            for batch in batches:
                call_model(model, batch)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def refit_block(
    model: nn.Module,
    original: nn.Module,
    position: int,
    original_position: int,
    batches: list[Any],
    *,
    steps: int = 200,
    learning_rate: float = 1e-4,
) -> float:
    """Train block ``position`` of ``model`` so its output matches block ``original_position``
    of ``original`` on the same data (Adam on cached inputs); returns the relative error after."""
    _, blocks = find_blocks(model)
    _, original_blocks = find_blocks(original)
    block = blocks[position]
    calls = _capture_block_calls(model, block, batches, output=False)
    targets = _capture_block_calls(original, original_blocks[original_position], batches, output=True)
    was_training = model.training
    block.train()
    parameters = [p for p in block.parameters() if p.is_floating_point()]
    flags = [p.requires_grad for p in parameters]
    for parameter in parameters:
        parameter.requires_grad_(True)
    optimiser = torch.optim.Adam(parameters, lr=learning_rate)
    variance = sum(float(((t - t.mean((0, 1))) ** 2).sum()) for t in targets)
    try:
        for step in range(steps):
            args, kwargs = calls[step % len(calls)]
            target = targets[step % len(calls)]
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(_hidden(block(*args, **kwargs)).float(), target.float())
            loss.backward()
            optimiser.step()
        block.eval()
        with torch.no_grad():
            error = sum(
                float(((_hidden(block(*args, **kwargs)) - target) ** 2).sum()) for (args, kwargs), target in zip(calls, targets)
            )
    finally:
        for parameter, flag in zip(parameters, flags):
            parameter.requires_grad_(flag)
        model.train(was_training)
    return error / max(variance, 1e-30)


def reduce_depth(
    model: nn.Module, calibration: Iterable[Any], n_drop: int, *, refit_steps: int = 200, learning_rate: float = 1e-4
) -> tuple[nn.Module, DepthPlan]:
    """Drop ``n_drop`` blocks chosen by :func:`plan_depth` from a copy of ``model`` and refit
    the block after each gap (the one before it when the gap reaches the end).

    Examples
    --------
    >>> import torch
    >>> from transformers import BertConfig, BertModel
    >>> model = BertModel(BertConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
    ...                              intermediate_size=64, vocab_size=50)).eval()
    >>> batches = [{"input_ids": torch.randint(0, 50, (4, 12))}]
    >>> small, plan = reduce_depth(model, batches, 1, refit_steps=2)
    >>> small.config.num_hidden_layers, len(plan.dropped)
    (3, 1)
    """
    batches = list(calibration)
    plan = plan_depth(stream_distances(model, batches), n_drop)
    reduced = drop_blocks(copy.deepcopy(model), plan.dropped)
    if refit_steps > 0 and plan.dropped:
        n_blocks = plan.distances.shape[0] - 1
        kept = [i for i in range(n_blocks) if i not in set(plan.dropped)]
        gaps = [i for i in plan.dropped if i - 1 not in set(plan.dropped)]
        for start in gaps:
            end = start
            while end + 1 in set(plan.dropped):
                end += 1
            # The block after the gap now reads h_start: make it produce what it did from
            # h_{end+1}. A gap at the end: make the block before it produce h_L instead.
            if end + 1 < n_blocks:
                position, target = kept.index(end + 1), end + 1
            elif start > 0:
                position, target = kept.index(start - 1), end
            else:
                continue
            refit_block(reduced, model, position, target, batches, steps=refit_steps, learning_rate=learning_rate)
    return reduced, plan
