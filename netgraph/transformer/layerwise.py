"""Block-by-block reduction of large decoders: memory does not grow with depth.

As SparseGPT and SliceGPT do, the inputs of the first block are cached once (one forward
that stops there), then each block in turn is calibrated on those cached inputs (its own
call arguments — attention mask, rotary embeddings — replayed), reduced (heads, then FFN
on the statistics of the block whose heads are already cut), and run once more to produce
the next block's inputs. Only one block's statistics exist at a time (for a TinyLlama-shape
block, 2,049² + 5,633² float64 ≈ 290 MB), the model is changed in place, and bfloat16
models stay bfloat16 (statistics and solves are float64).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

import torch
from torch import nn

from netgraph.batches import call_model
from netgraph.errors import CalibrationError
from netgraph.transformer.attention import find_attention
from netgraph.transformer.depth import find_blocks
from netgraph.transformer.ffn import apply_ffn, find_ffn, plan_ffn
from netgraph.transformer.heads import apply_heads, plan_heads
from netgraph.transformer.statistics import InputStats, real_tokens

__all__ = ["reduce_decoder_layerwise"]


class _Stop(Exception):
    pass


def _first_block_calls(model: nn.Module, block: nn.Module, batches: list[Any]) -> list[tuple[tuple, dict, Any]]:
    """(args, kwargs, batch) of the first block for every batch, stopping the forward there."""
    calls: list[tuple[tuple, dict, Any]] = []
    current: dict[str, Any] = {}

    def hook(_module, args, kwargs):
        calls.append((args, without_cache(kwargs), current["batch"]))
        raise _Stop

    handle = block.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            for batch in batches:
                current["batch"] = batch
                try:
                    call_model(model, batch)
                except _Stop:
                    pass
    finally:
        handle.remove()
    if len(calls) != len(batches):
        raise CalibrationError("The calibration batches never reached the first transformer block.")
    return calls


def without_cache(kwargs: dict) -> dict:
    """Replayed calls must not grow a key/value cache (it would mix batches)."""
    cleaned = dict(kwargs)
    for key in ("past_key_values", "past_key_value", "layer_past"):
        if key in cleaned:
            cleaned[key] = None
    if "use_cache" in cleaned:
        cleaned["use_cache"] = False
    return cleaned


def _hidden_argument(args: tuple, kwargs: dict) -> torch.Tensor:
    return args[0] if args else kwargs["hidden_states"]


def _with_hidden(args: tuple, kwargs: dict, hidden: torch.Tensor) -> tuple[tuple, dict]:
    if args:
        return (hidden, *args[1:]), kwargs
    return args, {**kwargs, "hidden_states": hidden}


def _block_statistics(block: nn.Module, calls, names: dict[str, nn.Module]) -> dict[str, InputStats]:
    stats: dict[str, InputStats] = {}
    current: dict[str, Any] = {}

    def hook_for(name):
        def hook(_module, inputs):
            rows = real_tokens(current["batch"], inputs[0])
            stats.setdefault(name, InputStats.empty(rows.shape[-1])).update(rows)

        return hook

    handles = [module.register_forward_pre_hook(hook_for(name)) for name, module in names.items()]
    try:
        with torch.no_grad():
            for args, kwargs, batch in calls:
                current["batch"] = batch
                block(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return stats


def reduce_decoder_layerwise(
    model: nn.Module,
    calibration: Iterable[Any],
    *,
    keep_heads: float = 0.75,
    keep_ffn: float = 0.75,
    head_method: str = "activation",
    ffn_method: str = "activation",
    progress: Callable[[int, int, float], None] | None = None,
) -> nn.Module:
    """Reduce heads and FFN units of ``model`` **in place**, one block at a time.

    ``progress(block, n_blocks, seconds)`` is called after each block. Every layer keeps the
    same sizes, so the result saves with ``netgraph.transformer.export.save_pretrained``.
    """
    batches = list(calibration)
    block_list_name, blocks = find_blocks(model)
    was_training = model.training
    model.eval()
    calls = _first_block_calls(model, blocks[0], batches)
    started = time.perf_counter()
    try:
        for index, block in enumerate(blocks):
            prefix = f"{block_list_name}.{index}"
            attention = [layout for layout in find_attention(block)]
            head_layouts = [
                type(layout)(**{**layout.__dict__, **{key: f"{prefix}.{getattr(layout, key)}" for key in ("name", "query", "key", "value", "output")}})
                for layout in attention
            ]
            modules = dict(model.named_modules())
            if keep_heads < 1:
                stats = _block_statistics(block, calls, {layout.output: modules[layout.output] for layout in head_layouts})
                apply_heads(model, plan_heads(model, stats, keep=keep_heads, method=head_method, layouts=head_layouts))
            if keep_ffn < 1:
                ffn_layouts = [
                    type(layout)(layout.name and f"{prefix}.{layout.name}", tuple(f"{prefix}.{p}" for p in layout.producers),
                                 f"{prefix}.{layout.consumer}", layout.width, layout.conv1d)
                    for layout in find_ffn(block)
                ]
                modules = dict(model.named_modules())
                stats = _block_statistics(block, calls, {layout.consumer: modules[layout.consumer] for layout in ffn_layouts})
                apply_ffn(model, plan_ffn(model, stats, keep=keep_ffn, method=ffn_method, layouts=ffn_layouts))
            with torch.no_grad():
                outputs = []
                for args, kwargs, batch in calls:
                    result = block(*args, **kwargs)
                    hidden = result[0] if isinstance(result, (tuple, list)) else result
                    outputs.append((*_with_hidden(args, kwargs, hidden), batch))
            calls = outputs
            if progress is not None:
                progress(index + 1, len(blocks), time.perf_counter() - started)
    finally:
        model.train(was_training)
    return model
