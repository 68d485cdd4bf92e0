"""Transformers in full: attention heads, hidden size, depth and vocabulary as units."""

from netgraph.transformer.attention import AttentionLayout, find_attention
from netgraph.transformer.heads import HeadPlan, apply_heads, plan_heads, reduce_heads
from netgraph.transformer.statistics import InputStats, input_statistics

__all__ = [
    "AttentionLayout",
    "HeadPlan",
    "InputStats",
    "apply_heads",
    "find_attention",
    "input_statistics",
    "plan_heads",
    "reduce_heads",
]
