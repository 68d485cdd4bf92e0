"""Write a reduced Hugging Face model so that plain ``AutoModel.from_pretrained`` loads it.

A Hugging Face config holds one size per kind (``intermediate_size``, heads, layers,
vocabulary), so the reduced model must be *uniform*: every block the same size. Heads of
BERT/ViT/GPT-2 are the exception: their configs record per-layer ``pruned_heads``, which
``from_pretrained`` replays. The folder is written next to its destination and renamed, so
a failed write never leaves half a model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from torch import nn

from netgraph.errors import InvalidParameterError, UnsupportedModelError
from netgraph.transformer.attention import find_attention
from netgraph.transformer.ffn import find_ffn

__all__ = ["uniform_config", "save_pretrained"]


def _one(values: list[int], what: str) -> int:
    if len(set(values)) != 1:
        raise UnsupportedModelError(
            f"The reduced model has different {what} per layer ({sorted(set(values))}); a Hugging Face config holds "
            "one, so reduce with the same keep in every layer (uniform mode) to save_pretrained."
        )
    return values[0]


def uniform_config(model: nn.Module):
    """Update ``model.config`` in place to the model's actual uniform sizes and return it."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "save_pretrained"):
        raise UnsupportedModelError(f"{type(model).__name__} is not a Hugging Face PreTrainedModel; use netgraph.save_reduced.")
    layouts = find_attention(model)
    styles = {layout.style for layout in layouts}
    if styles == {"llama"}:
        config.num_attention_heads = _one([layout.n_heads for layout in layouts], "numbers of attention heads")
        config.num_key_value_heads = _one([layout.n_kv_heads for layout in layouts], "numbers of key/value heads")
        config.head_dim = layouts[0].head_dim
    ffn = find_ffn(model)
    width = _one([layout.width for layout in ffn], "FFN widths")
    for key in ("intermediate_size", "n_inner"):
        if hasattr(config, key):
            setattr(config, key, width)
    embedding = model.get_input_embeddings()
    if isinstance(embedding, nn.Embedding) and hasattr(config, "vocab_size"):
        config.vocab_size = int(embedding.num_embeddings)
    return config


def save_pretrained(model: nn.Module, folder: str | os.PathLike, tokenizer=None) -> Path:
    """``model.save_pretrained(folder)`` (and the tokenizer's) with the config made to match.

    Examples
    --------
    >>> import tempfile, torch
    >>> from transformers import AutoModel, BertConfig, BertModel
    >>> model = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
    ...                              intermediate_size=64, vocab_size=50)).eval()
    >>> folder = save_pretrained(model, tempfile.mkdtemp() + "/small")
    >>> AutoModel.from_pretrained(folder).config.intermediate_size
    64
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise InvalidParameterError(f"{folder} exists and is not empty; choose a new folder for the reduced model.")
    uniform_config(model)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        model.save_pretrained(staging)
        if tokenizer is not None:
            tokenizer.save_pretrained(staging)
        if folder.exists():
            folder.rmdir()
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder
