"""Vocabulary trimming (off by default): drop embedding rows of tokens the user's data never
uses; the tokenizer is remapped to the kept tokens and saved with the model.

all-MiniLM-L6-v2 spends 11.7 M of its 22.7 M parameters on 30,522 embedding rows, while
a domain's text uses a few thousand of them. Special tokens are always kept, and by
default so are the single characters (``a``, ``##a``): WordPiece then still splits a word
whose pieces were dropped into smaller kept pieces instead of ``[UNK]``. The price is
that text unlike the calibration data is tokenised differently, so the plan says how much
of the vocabulary remains and how many tokens of held-out text fall outside it.

Tokenizer remapping is done for WordPiece tokenizers (the BERT family); byte-level BPE
(GPT-2, Llama) would need its merges rewritten and is refused with that reason.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from netgraph.errors import InvalidParameterError, UnsupportedModelError

__all__ = ["VocabularyPlan", "plan_vocabulary", "apply_vocabulary", "unseen_fraction", "remap_batch"]


@dataclass
class VocabularyPlan:
    """Old token ids kept, in their original order (new id = position in ``kept``)."""

    kept: np.ndarray
    vocabulary_size: int
    seen: int
    warnings: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> float:
        """Fraction of the vocabulary that stays."""
        return self.kept.size / self.vocabulary_size

    def old_to_new(self) -> dict[int, int]:
        return {int(old): new for new, old in enumerate(self.kept)}


def _wordpiece_vocabulary(tokenizer) -> dict[str, int]:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise UnsupportedModelError(f"{type(tokenizer).__name__} is not a fast tokenizer; vocabulary trimming needs one.")
    model = json.loads(backend.to_str())["model"]
    if model.get("type") != "WordPiece":
        raise UnsupportedModelError(
            f"Vocabulary trimming remaps WordPiece tokenizers (BERT family); this one is {model.get('type')} "
            "(its merges would need rewriting). Leave vocabulary trimming off for this model."
        )
    return model["vocab"]


def plan_vocabulary(
    tokenizer, texts: Iterable[str] | None = None, *, batches: Iterable[dict] | None = None,
    keep_characters: bool = True, min_count: int = 1,
) -> VocabularyPlan:
    """Keep the special tokens, the tokens seen at least ``min_count`` times in ``texts`` (or
    in the real tokens of already tokenised ``batches``) and (by default) every
    single-character token.

    Examples
    --------
    >>> from netgraph.zoo.text import load_tokenizer
    >>> plan = plan_vocabulary(load_tokenizer(), ["The cat sat on the mat."], keep_characters=False)
    >>> plan.kept.size < 20
    True
    """
    vocabulary = _wordpiece_vocabulary(tokenizer)
    size = max(vocabulary.values()) + 1
    texts = list(texts or [])
    batches = list(batches or [])
    if not texts and not batches:
        raise InvalidParameterError("plan_vocabulary needs at least one text to see which tokens are used.")
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, len(texts), 256):
        for ids in tokenizer(texts[start : start + 256], add_special_tokens=False)["input_ids"]:
            np.add.at(counts, np.asarray(ids, dtype=np.int64), 1)
    for batch in batches:
        ids = batch["input_ids"]
        mask = batch.get("attention_mask")
        ids = ids[mask.bool()] if mask is not None else ids.reshape(-1)
        np.add.at(counts, ids.numpy().astype(np.int64), 1)
    keep = counts >= min_count
    seen = int(np.count_nonzero(counts))
    keep[np.asarray(tokenizer.all_special_ids, dtype=np.int64)] = True
    if keep_characters:
        for token, index in vocabulary.items():
            if len(token) == 1 or (token.startswith("##") and len(token) == 3):
                keep[index] = True
    plan = VocabularyPlan(np.flatnonzero(keep), size, seen)
    plan.warnings.append(
        f"{plan.kept.size} of {size} tokens kept ({plan.remaining:.1%}); words outside the calibration text "
        "are split into smaller kept pieces or become [UNK] — check unseen_fraction on held-out text."
    )
    return plan


def unseen_fraction(tokenizer, plan: VocabularyPlan, texts: Sequence[str]) -> float:
    """Fraction of the tokens of ``texts`` (original tokenizer) that the trimmed vocabulary lacks."""
    kept = np.zeros(plan.vocabulary_size, dtype=bool)
    kept[plan.kept] = True
    ids = np.concatenate([np.asarray(row, dtype=np.int64) for row in tokenizer(list(texts), add_special_tokens=False)["input_ids"]])
    return float(np.mean(~kept[ids])) if ids.size else 0.0


def _remap_tokenizer(tokenizer, plan: VocabularyPlan):
    mapping = plan.old_to_new()
    with tempfile.TemporaryDirectory() as folder:
        tokenizer.save_pretrained(folder)
        path = Path(folder)
        data = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
        data["model"]["vocab"] = {
            token: mapping[index] for token, index in data["model"]["vocab"].items() if index in mapping
        }
        for added in data.get("added_tokens", []):
            added["id"] = mapping[added["id"]]
        processor = data.get("post_processor") or {}
        for special in (processor.get("special_tokens") or {}).values():
            special["ids"] = [mapping[i] for i in special["ids"]]
        for key in ("sep", "cls"):
            if isinstance(processor.get(key), list):
                processor[key][1] = mapping[processor[key][1]]
        (path / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        vocab_file = path / "vocab.txt"
        if vocab_file.exists():
            inverse = sorted(data["model"]["vocab"].items(), key=lambda item: item[1])
            vocab_file.write_text("".join(f"{token}\n" for token, _ in inverse), encoding="utf-8")
        config_file = path / "tokenizer_config.json"
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if "added_tokens_decoder" in config:
            config["added_tokens_decoder"] = {
                str(mapping[int(index)]): value for index, value in config["added_tokens_decoder"].items()
            }
        config_file.write_text(json.dumps(config), encoding="utf-8")
        return type(tokenizer).from_pretrained(folder, local_files_only=True)


def apply_vocabulary(model: nn.Module, tokenizer, plan: VocabularyPlan):
    """Slice the input (and a tied or separate output) embedding in place; return
    ``(model, new_tokenizer)``. ``config.vocab_size`` and special token ids follow."""
    index = torch.as_tensor(plan.kept, dtype=torch.long)
    embedding = model.get_input_embeddings()
    if embedding.num_embeddings != plan.vocabulary_size:
        raise InvalidParameterError(
            f"The vocabulary plan is for {plan.vocabulary_size} tokens but the model embeds {embedding.num_embeddings}; "
            "plan with this model's tokenizer."
        )
    mapping = plan.old_to_new()
    padding = embedding.padding_idx
    new_embedding = nn.Embedding(
        plan.kept.size, embedding.embedding_dim, padding_idx=None if padding is None else mapping.get(padding),
        dtype=embedding.weight.dtype, device=embedding.weight.device,
    )
    new_embedding.weight.data.copy_(embedding.weight.data.index_select(0, index.to(embedding.weight.device)))
    model.set_input_embeddings(new_embedding)
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if output is not None:
        if output.weight is embedding.weight:
            output.weight = new_embedding.weight
        else:
            output.weight = nn.Parameter(output.weight.data.index_select(0, index.to(output.weight.device)))
        if getattr(output, "bias", None) is not None:
            output.bias = nn.Parameter(output.bias.data.index_select(0, index.to(output.bias.device)))
        output.out_features = plan.kept.size
    config = getattr(model, "config", None)
    if config is not None:
        config.vocab_size = int(plan.kept.size)
        for key in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id"):
            value = getattr(config, key, None)
            if isinstance(value, int) and value in mapping:
                setattr(config, key, mapping[value])
    return model, _remap_tokenizer(tokenizer, plan)


def remap_batch(batch: dict, plan: VocabularyPlan, unknown_id: int) -> dict:
    """A batch tokenised for the original vocabulary, in the trimmed one (dropped → ``unknown_id``)."""
    lookup = torch.full((plan.vocabulary_size,), -1, dtype=torch.long)
    lookup[torch.as_tensor(plan.kept)] = torch.arange(plan.kept.size)
    ids = lookup[batch["input_ids"]]
    return {**batch, "input_ids": torch.where(ids < 0, torch.full_like(ids, unknown_id), ids)}
