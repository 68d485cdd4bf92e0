"""Transformers in full: attention heads, FFN, depth, vocabulary and hidden size as units.

``reduce_transformer`` shares one parameter budget across the kinds and keeps every layer
the same size, so ``export.save_pretrained`` writes a folder that plain
``transformers.AutoModel.from_pretrained`` loads. Each kind is usable alone:
``plan_heads``/``apply_heads``, ``ffn.plan_ffn``, ``depth.reduce_depth``,
``vocabulary.plan_vocabulary``, ``hidden.rotate_and_slice``; large decoders go block by
block with ``layerwise.reduce_decoder_layerwise``.
"""

from netgraph.transformer.attention import AttentionLayout, find_attention
from netgraph.transformer.budget import TransformerReduction, reduce_and_save, reduce_transformer
from netgraph.transformer.export import save_pretrained
from netgraph.transformer.heads import HeadPlan, apply_heads, plan_heads, reduce_heads
from netgraph.transformer.layerwise import reduce_decoder_layerwise
from netgraph.transformer.statistics import InputStats, input_statistics

__all__ = [
    "AttentionLayout",
    "HeadPlan",
    "InputStats",
    "TransformerReduction",
    "apply_heads",
    "find_attention",
    "input_statistics",
    "plan_heads",
    "reduce_and_save",
    "reduce_decoder_layerwise",
    "reduce_heads",
    "reduce_transformer",
    "save_pretrained",
]
