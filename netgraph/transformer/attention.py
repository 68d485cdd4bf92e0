"""Find the attention modules of a Hugging Face transformer and their head layout.

A *head unit* is what can be removed on its own without breaking the forward: one head in
multi-head attention, or one key/value head together with the query heads that share it
under grouped-query attention (GQA). Every unit owns a contiguous block of columns of the
output projection's input (the *head contexts*), which is where its statistics are read
and where the removed units' contribution is folded back.

Three module layouts cover the common families:

- ``"bert"``: ``BertAttention`` / ``ViTAttention`` (and their look-alikes): separate
  ``query``/``key``/``value`` Linear layers in a child, ``output.dense`` after them;
  Hugging Face's own ``prune_heads`` keeps the module attributes and ``config.pruned_heads``
  right, so a pruned model reloads with plain ``from_pretrained``.
- ``"gpt2"``: ``GPT2Attention``: one fused ``c_attn`` (``Conv1D``, weight ``(in, 3·d)``)
  and ``c_proj``.
- ``"llama"``: Llama, Qwen2, Mistral and the other ``q_proj``/``k_proj``/``v_proj``/
  ``o_proj`` decoders, with GQA (``num_key_value_groups`` query heads per KV head).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from torch import nn

from netgraph.errors import UnsupportedModelError

__all__ = ["AttentionLayout", "find_attention", "layer_index"]


@dataclass(frozen=True)
class AttentionLayout:
    """Where one attention module's heads live.

    Attributes
    ----------
    name : str
        Qualified name of the module whose heads are removed (``encoder.layer.0.attention``,
        ``h.0.attn``, ``model.layers.0.self_attn``).
    style : {"bert", "gpt2", "llama"}
        Which surgery applies.
    query, key, value, output : str
        Qualified names of the projections (the fused ``c_attn`` for all three in GPT-2).
    n_heads, n_kv_heads, head_dim : int
        Current query heads, key/value heads and width of one head.
    """

    name: str
    style: str
    query: str
    key: str
    value: str
    output: str
    n_heads: int
    n_kv_heads: int
    head_dim: int

    @property
    def n_units(self) -> int:
        """Removable units: KV heads (each with its query heads); plain heads without GQA."""
        return self.n_kv_heads

    @property
    def group_size(self) -> int:
        """Query heads per unit (1 without GQA)."""
        return self.n_heads // self.n_kv_heads

    @property
    def context_width(self) -> int:
        """Columns of the output projection's input (all heads' contexts side by side)."""
        return self.n_heads * self.head_dim

    def unit_columns(self, unit: int) -> np.ndarray:
        """Columns of the output projection's input that unit ``unit`` writes."""
        width = self.group_size * self.head_dim
        return np.arange(unit * width, (unit + 1) * width)

    def columns(self, units) -> np.ndarray:
        units = np.asarray(units, dtype=np.int64)
        if units.size == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([self.unit_columns(int(unit)) for unit in units])


def layer_index(name: str) -> int:
    """The block number inside a qualified module name (``encoder.layer.3.attention`` → 3)."""
    match = re.search(r"\.(\d+)(?:\.|$)", name)
    if match is None:
        raise UnsupportedModelError(f"Cannot tell which layer {name!r} belongs to; name blocks 'layers.<i>'.")
    return int(match.group(1))


def _bert_like(name: str, module: nn.Module) -> AttentionLayout | None:
    output = getattr(module, "output", None)
    if output is None or not isinstance(getattr(output, "dense", None), nn.Linear):
        return None
    for child_name, child in module.named_children():
        if all(isinstance(getattr(child, part, None), nn.Linear) for part in ("query", "key", "value")) and hasattr(
            child, "num_attention_heads"
        ):
            prefix = f"{name}.{child_name}"
            heads = int(child.num_attention_heads)
            return AttentionLayout(
                name, "bert", f"{prefix}.query", f"{prefix}.key", f"{prefix}.value", f"{name}.output.dense",
                heads, heads, int(child.attention_head_size),
            )
    return None


def _gpt2_like(name: str, module: nn.Module) -> AttentionLayout | None:
    if not (hasattr(module, "c_attn") and hasattr(module, "c_proj") and hasattr(module, "num_heads")):
        return None
    if getattr(module, "is_cross_attention", False):
        return None
    heads = int(module.num_heads)
    fused = f"{name}.c_attn"
    return AttentionLayout(name, "gpt2", fused, fused, fused, f"{name}.c_proj", heads, heads, int(module.head_dim))


def _llama_like(name: str, module: nn.Module) -> AttentionLayout | None:
    parts = ("q_proj", "k_proj", "v_proj", "o_proj")
    if not all(isinstance(getattr(module, part, None), nn.Linear) for part in parts) or not hasattr(module, "head_dim"):
        return None
    head_dim = int(module.head_dim)
    heads = module.q_proj.out_features // head_dim
    kv_heads = module.k_proj.out_features // head_dim
    if heads * head_dim != module.q_proj.out_features or kv_heads == 0 or heads % kv_heads:
        return None
    return AttentionLayout(
        name, "llama", f"{name}.q_proj", f"{name}.k_proj", f"{name}.v_proj", f"{name}.o_proj", heads, kv_heads, head_dim
    )


def find_attention(model: nn.Module) -> list[AttentionLayout]:
    """Every self-attention module of ``model`` whose heads netgraph can remove, in order.

    Raises
    ------
    UnsupportedModelError
        When the model has no attention module of a known layout.

    Examples
    --------
    >>> from transformers import BertConfig, BertModel
    >>> model = BertModel(BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
    ...                              intermediate_size=64, vocab_size=50))
    >>> [(layout.name, layout.n_units) for layout in find_attention(model)]
    [('encoder.layer.0.attention', 4), ('encoder.layer.1.attention', 4)]
    """
    layouts = []
    for name, module in model.named_modules():
        for finder in (_bert_like, _gpt2_like, _llama_like):
            layout = finder(name, module)
            if layout is not None:
                layouts.append(layout)
                break
    if not layouts:
        raise UnsupportedModelError(
            f"{type(model).__name__} has no attention module netgraph knows (BERT/ViT query-key-value, GPT-2 c_attn, "
            "Llama-style q_proj/k_proj/v_proj/o_proj); reduce its FFN with plan_reduction instead."
        )
    return layouts
