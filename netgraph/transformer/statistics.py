"""Streaming statistics of the inputs of chosen Linear layers (the head contexts, the FFN
hidden units, the residual stream), with padding tokens left out.

Only the Gram matrix of ``[x, 1]`` is kept (float64), so memory is O(width²) per layer
whatever the amount of data, and two statistics add.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from netgraph.batches import call_model
from netgraph.errors import CalibrationError, InvalidParameterError

__all__ = ["InputStats", "input_statistics", "real_tokens"]


@dataclass
class InputStats:
    """Sums over calibration tokens of one layer's input ``x`` (width ``d``).

    Attributes
    ----------
    count : int
        Tokens seen.
    gram : ndarray, shape (d + 1, d + 1)
        ``Σ [x, 1][x, 1]ᵀ``: the last row and column hold ``Σ x`` and the count.
    """

    count: int
    gram: np.ndarray

    @classmethod
    def empty(cls, width: int) -> "InputStats":
        return cls(0, np.zeros((width + 1, width + 1)))

    def update(self, rows: torch.Tensor) -> None:
        rows = rows.detach().to(device="cpu", dtype=torch.float64).reshape(-1, rows.shape[-1])
        augmented = torch.cat([rows, torch.ones(rows.shape[0], 1, dtype=torch.float64)], dim=1)
        torch.from_numpy(self.gram).addmm_(augmented.T, augmented)
        self.count += int(rows.shape[0])

    def __add__(self, other: "InputStats") -> "InputStats":
        return InputStats(self.count + other.count, self.gram + other.gram)

    @property
    def width(self) -> int:
        return self.gram.shape[0] - 1

    @property
    def mean(self) -> np.ndarray:
        return self.gram[-1, :-1] / max(self.count, 1)

    @property
    def covariance(self) -> np.ndarray:
        """Centred ``Σ (x - μ)(x - μ)ᵀ`` (a sum, not an average)."""
        total = self.gram[-1, :-1]
        return self.gram[:-1, :-1] - np.outer(total, total) / max(self.count, 1)


def real_tokens(batch: Any, activations: torch.Tensor) -> torch.Tensor:
    """Rows of ``activations`` (batch, seq, d) at real tokens: padding is never a sample."""
    mask = batch.get("attention_mask") if isinstance(batch, dict) else None
    if mask is not None and activations.dim() == 3 and tuple(mask.shape) == tuple(activations.shape[:2]):
        return activations[mask.bool()]
    return activations.reshape(-1, activations.shape[-1])


def input_statistics(model: nn.Module, batches: Iterable[Any], layers: list[str]) -> dict[str, InputStats]:
    """Gram statistics of the input of every module named in ``layers`` over ``batches``.

    Raises
    ------
    CalibrationError
        When the data is empty, never reaches a layer, or produces non-finite values.
    """
    modules = dict(model.named_modules())
    missing = [name for name in layers if name not in modules]
    if missing:
        raise InvalidParameterError(f"The model has no module named {missing[0]!r}; name one of its Linear layers.")
    stats: dict[str, InputStats] = {}
    current: dict[str, Any] = {}

    def hook_for(name: str):
        def hook(_module, inputs):
            rows = real_tokens(current["batch"], inputs[0])
            if name not in stats:
                stats[name] = InputStats.empty(rows.shape[-1])
            stats[name].update(rows)

        return hook

    handles = [modules[name].register_forward_pre_hook(hook_for(name)) for name in layers]
    was_training = model.training
    model.eval()
    n_batches = 0
    try:
        with torch.no_grad():
            for batch in batches:
                current["batch"] = batch
                call_model(model, batch)
                n_batches += 1
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    if n_batches == 0:
        raise CalibrationError("The calibration data is empty; give at least one batch.")
    for name in layers:
        if name not in stats:
            raise CalibrationError(f"Calibration never reached {name!r}; check that the batches fit the model.")
        if not np.isfinite(stats[name].gram).all():
            raise CalibrationError(f"Non-finite activations reach {name!r}; check the model's weights and the data.")
    return stats
