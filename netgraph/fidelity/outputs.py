"""Model outputs in a comparable form: logits or vectors per sample, one row each.

Encoders that return token states (a Hugging Face ``last_hidden_state`` with an
``attention_mask`` in the batch) are pooled the sentence-transformers way — mean over real
tokens, then L2 normalisation — so that a row is what a user of the encoder would compare.
"""

from __future__ import annotations

from typing import Any, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from netgraph.batches import call_model
from netgraph.errors import InvalidParameterError

__all__ = ["collect_outputs", "output_kind"]


def _rows(output: Any, batch: Any) -> tuple[torch.Tensor, bool]:
    """One row per sample and whether it came from token states (an encoder)."""
    hidden = output
    if not isinstance(output, torch.Tensor):
        hidden = getattr(output, "last_hidden_state", None)
        if hidden is None and isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
            hidden = output[0]
        if hidden is None and isinstance(output, dict) and isinstance(output.get("logits"), torch.Tensor):
            hidden = output["logits"]
        if hidden is None:
            raise InvalidParameterError(
                f"Cannot compare model outputs of type {type(output).__name__}; "
                "pass output_fn that maps (model, batch) to a tensor."
            )
    if hidden.dim() == 3 and isinstance(batch, dict) and "attention_mask" in batch:
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1), True
    return hidden.reshape(hidden.shape[0], -1), False


@torch.no_grad()
def collect_outputs(model: nn.Module, batches: Iterable[Any], output_fn=None) -> tuple[torch.Tensor, bool]:
    """Outputs of ``model`` on every batch as a float64 (n_samples, features) matrix.

    Returns the matrix and whether the rows are pooled token states (an encoder).
    ``output_fn(model, batch) -> tensor`` overrides how rows are obtained. The model's
    train/eval mode is restored.
    """
    was_training = model.training
    model.eval()
    parts, pooled = [], False
    try:
        for batch in batches:
            if output_fn is not None:
                rows = output_fn(model, batch)
                rows = rows.reshape(rows.shape[0], -1)
            else:
                rows, pooled = _rows(call_model(model, batch), batch)
            parts.append(rows.detach().double())
    finally:
        model.train(was_training)
    if not parts:
        raise InvalidParameterError("Fidelity needs at least one batch of held-out data.")
    return torch.cat(parts), pooled


def output_kind(outputs: torch.Tensor, pooled: bool, labels: torch.Tensor | None) -> str:
    """``"classifier"`` for logits (labels given, or a few columns), else ``"encoder"``.

    Without labels a plain 2-D output with at most 1,000 columns is taken as class scores;
    pooled token states are always embeddings.
    """
    if pooled:
        return "encoder"
    if labels is not None or 1 < outputs.shape[1] <= 1000:
        return "classifier"
    return "encoder"
