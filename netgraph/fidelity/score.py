"""Held-out fidelity of a reduced model against its original, as one small record."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable

import torch
from torch import nn

from netgraph.errors import InvalidParameterError
from netgraph.fidelity.metrics import accuracy, mean_cosine, prediction_agreement, retrieval_agreement
from netgraph.fidelity.outputs import collect_outputs, output_kind

__all__ = ["Fidelity", "measure_fidelity", "compare_outputs"]

KINDS = ("auto", "encoder", "classifier")


@dataclass(frozen=True)
class Fidelity:
    """How closely a reduced model follows its original on some data.

    Attributes
    ----------
    kind : {"encoder", "classifier"}
    n_samples : int
    mean_cosine : float
        Mean cosine between original and reduced outputs (embeddings or logits).
    retrieval_agreement : float or None
        Encoders: mean overlap of each sample's ``k`` nearest neighbours before/after.
    agreement : float or None
        Classifiers: share of samples with the original's predicted class.
    accuracy, original_accuracy : float or None
        Classifiers with labels.
    data : str
        What the samples were (e.g. ``"held-out 20 % of calibration data"``).
    """

    kind: str
    n_samples: int
    mean_cosine: float
    retrieval_agreement: float | None = None
    agreement: float | None = None
    accuracy: float | None = None
    original_accuracy: float | None = None
    k: int | None = None
    data: str = ""

    @property
    def headline(self) -> float:
        """The one number to compare: mean cosine for encoders, agreement for classifiers."""
        return self.mean_cosine if self.kind == "encoder" else float(self.agreement)

    @property
    def headline_name(self) -> str:
        return "mean cosine" if self.kind == "encoder" else "agreement with the original"

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Fidelity":
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


def compare_outputs(
    original: torch.Tensor,
    reduced: torch.Tensor,
    *,
    kind: str = "encoder",
    labels: torch.Tensor | None = None,
    k: int = 10,
    data: str = "",
) -> Fidelity:
    """A :class:`Fidelity` from two output matrices (rows = the same samples)."""
    if kind not in ("encoder", "classifier"):
        raise InvalidParameterError.expected("kind", "compare_outputs", "'encoder' or 'classifier'", kind)
    n = int(original.shape[0])
    if kind == "encoder":
        return Fidelity(
            "encoder", n, mean_cosine(original, reduced), retrieval_agreement=retrieval_agreement(original, reduced, k),
            k=min(k, n - 1), data=data,
        )
    return Fidelity(
        "classifier", n, mean_cosine(original, reduced), agreement=prediction_agreement(original, reduced),
        accuracy=None if labels is None else accuracy(reduced, labels),
        original_accuracy=None if labels is None else accuracy(original, labels), data=data,
    )


def measure_fidelity(
    original: nn.Module,
    reduced: nn.Module,
    batches: Iterable[Any],
    *,
    labels: torch.Tensor | None = None,
    kind: str = "auto",
    k: int = 10,
    output_fn=None,
    data: str = "",
) -> Fidelity:
    """Run both models on ``batches`` (held-out data) and compare their outputs.

    Parameters
    ----------
    original, reduced : nn.Module
    batches : iterable of model inputs
        Data neither the selection nor the fold saw, so the figure is not a calibration fit.
    labels : tensor, optional
        Class labels of all samples in order (classifiers: adds accuracy).
    kind : {"auto", "encoder", "classifier"}
        ``auto``: pooled token states and wide outputs are encoders, logits classifiers.
    k : int
        Neighbours per sample for retrieval agreement.
    output_fn : callable, optional
        ``output_fn(model, batch) -> tensor`` of one row per sample.
    data : str
        A label for the data, stored with the result.

    Examples
    --------
    >>> model = torch.nn.Linear(4, 3)
    >>> measure_fidelity(model, model, [torch.randn(20, 4)]).agreement
    1.0
    """
    if kind not in KINDS:
        raise InvalidParameterError.expected("kind", "measure_fidelity", f"one of {KINDS}", kind)
    batches = list(batches)
    reference, pooled = collect_outputs(original, batches, output_fn)
    outputs, _ = collect_outputs(reduced, batches, output_fn)
    if kind == "auto":
        kind = output_kind(reference, pooled, labels)
    return compare_outputs(reference, outputs, kind=kind, labels=labels, k=k, data=data)
