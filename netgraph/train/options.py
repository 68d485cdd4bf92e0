"""TrainingOptions: the settings ``finetune`` and ``distill`` share, frozen and validated once.

Both functions keep their keyword arguments (the public API) and build one of these from
them; the training loop (:func:`netgraph.train.loop.run_training`) reads only this object,
so a new shared setting is added in one place.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from netgraph.errors import InvalidParameterError

__all__ = ["TrainingOptions", "SCHEDULES"]

SCHEDULES = ("cosine", "constant")


def _positive(value, name: str, owner: str, *, integer: bool = False, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if not ok or not value > 0 or (not integer and not math.isfinite(value)):
        label = "a positive int" if integer else "a positive finite float"
        raise InvalidParameterError.expected(name, owner, label + (" or None" if allow_none else ""), value)


@dataclass(frozen=True)
class TrainingOptions:
    """How to train: AdamW with a cosine schedule from ``lr`` to 0 over ``epochs``.

    Attributes
    ----------
    epochs, lr, batch_size : positive
    patience : int or None
        Stop after this many epochs without validation improvement.
    clip_grad_norm : float or None
        Maximum gradient norm (None: no clipping).
    weight_decay : float >= 0
    seed : int or None
        Seeds shuffling and dropout (None: the caller seeded torch already).
    device : str or torch.device
    dropout : bool
        Keep dropout active while training.
    schedule : {"cosine", "constant"}
        Learning rate from ``lr`` to 0 along a half cosine, or ``lr`` throughout (Deep
        Compression's retraining).
    owner : str
        The public function these options belong to (named in error messages).

    Examples
    --------
    >>> TrainingOptions(epochs=2).lr
    0.001
    >>> TrainingOptions(epochs=0, owner="finetune")
    Traceback (most recent call last):
    ...
    netgraph.errors.InvalidParameterError: The 'epochs' parameter of finetune must be a positive int. Got 0 instead.
    """

    epochs: int = 5
    lr: float = 1e-3
    batch_size: int = 64
    patience: int | None = None
    clip_grad_norm: float | None = 1.0
    weight_decay: float = 0.0
    seed: int | None = 0
    device: str | torch.device = "cpu"
    dropout: bool = True
    schedule: str = "cosine"
    owner: str = "finetune"

    def __post_init__(self) -> None:
        owner = self.owner
        _positive(self.epochs, "epochs", owner, integer=True)
        _positive(self.lr, "lr", owner)
        _positive(self.batch_size, "batch_size", owner, integer=True)
        _positive(self.patience, "patience", owner, integer=True, allow_none=True)
        _positive(self.clip_grad_norm, "clip_grad_norm", owner, allow_none=True)
        weight_decay = self.weight_decay
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, numbers.Real) or not weight_decay >= 0:
            raise InvalidParameterError.expected("weight_decay", owner, "a float >= 0", weight_decay)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral)):
            raise InvalidParameterError.expected("seed", owner, "an int", self.seed)
        if self.schedule not in SCHEDULES:
            raise InvalidParameterError.expected("schedule", owner, f"one of {SCHEDULES}", self.schedule)
        if not isinstance(self.dropout, bool):
            raise InvalidParameterError.expected("dropout", owner, "a bool", self.dropout)
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as error:
            raise InvalidParameterError.expected("device", owner, "a torch device such as 'cpu' or 'cuda:0'", self.device) from error
        object.__setattr__(self, "device", device)
