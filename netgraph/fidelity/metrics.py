"""Fidelity numbers from two output matrices (original rows, reduced rows; same samples).

Encoders: mean cosine between each sample's two vectors, and retrieval agreement — the
mean overlap of each sample's ``k`` nearest neighbours (cosine, among the other samples)
before and after reduction, which is what search and clustering built on the encoder see.
Classifiers: agreement of the predicted classes with the original, and accuracy of both
when labels are given.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from netgraph.errors import InvalidParameterError

__all__ = ["mean_cosine", "retrieval_agreement", "prediction_agreement", "accuracy"]


def _check(original: torch.Tensor, reduced: torch.Tensor, owner: str) -> None:
    if original.shape != reduced.shape or original.dim() != 2:
        raise InvalidParameterError(
            f"{owner} needs two (n_samples, features) matrices of the same shape; got "
            f"{tuple(original.shape)} and {tuple(reduced.shape)}."
        )


def mean_cosine(original: torch.Tensor, reduced: torch.Tensor) -> float:
    """Mean over samples of the cosine between the original and the reduced output (1.0 = same direction)."""
    _check(original, reduced, "mean_cosine")
    return float(F.cosine_similarity(original.double(), reduced.double(), dim=1).mean())


def _neighbours(vectors: torch.Tensor, k: int) -> torch.Tensor:
    unit = F.normalize(vectors.double(), dim=1)
    similarity = unit @ unit.T
    similarity.fill_diagonal_(-float("inf"))  # a sample is not its own neighbour
    return similarity.topk(k, dim=1).indices


def retrieval_agreement(original: torch.Tensor, reduced: torch.Tensor, k: int = 10) -> float:
    """Mean share of each sample's ``k`` nearest neighbours that stay its neighbours after reduction.

    ``k`` is capped at ``n_samples - 1``. 1.0 means every neighbourhood is unchanged.

    Examples
    --------
    >>> x = torch.randn(50, 8)
    >>> retrieval_agreement(x, 2 * x)
    1.0
    """
    _check(original, reduced, "retrieval_agreement")
    n = original.shape[0]
    if n < 2:
        raise InvalidParameterError("retrieval_agreement needs at least 2 samples.")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidParameterError.expected("k", "retrieval_agreement", "an int >= 1", k)
    k = min(k, n - 1)
    before, after = _neighbours(original, k), _neighbours(reduced, k)
    hits = (before.unsqueeze(2) == after.unsqueeze(1)).any(2).sum(1)
    return float(hits.double().mean() / k)


def prediction_agreement(original: torch.Tensor, reduced: torch.Tensor) -> float:
    """Share of samples where the reduced model predicts the original's class (argmax)."""
    _check(original, reduced, "prediction_agreement")
    return float((original.argmax(1) == reduced.argmax(1)).double().mean())


def accuracy(outputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of samples whose argmax equals the label."""
    labels = torch.as_tensor(labels).reshape(-1)
    if labels.shape[0] != outputs.shape[0]:
        raise InvalidParameterError(f"{labels.shape[0]} labels for {outputs.shape[0]} outputs; give one label a sample.")
    return float((outputs.argmax(1).cpu() == labels.cpu()).double().mean())
