"""Streaming activation statistics: sums that combine across batches, shards and ranks.

Only sums are stored (sample count, sum, sum of outer products, in float64), so memory is
O(units²) whatever the amount of data, and two statistics simply add.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["UnitStats", "ConsumerStats"]


@dataclass
class UnitStats:
    """Activation statistics of the units of one group.

    Attributes
    ----------
    count : int
        Number of samples seen (tokens, or spatial positions for convolutions).
    total : ndarray, shape (n_units,)
        Sum of the activations.
    gram : ndarray, shape (n_units, n_units)
        Sum of outer products ``sum_i h_i h_i^T`` (uncentred).
    """

    count: int
    total: np.ndarray
    gram: np.ndarray

    @classmethod
    def empty(cls, n_units: int) -> "UnitStats":
        return cls(0, np.zeros(n_units), np.zeros((n_units, n_units)))

    def update(self, samples: torch.Tensor) -> None:
        """Add a (n_samples, n_units) block of activations."""
        samples = samples.detach().to(device="cpu", dtype=torch.float64)
        self.count += int(samples.shape[0])
        self.total += samples.sum(0).numpy()
        # Accumulate in place through a tensor view of the numpy array: no n×n temporary.
        torch.from_numpy(self.gram).addmm_(samples.T, samples)

    def __add__(self, other: "UnitStats") -> "UnitStats":
        if self.gram.shape != other.gram.shape:
            raise ValueError(f"Cannot add statistics of {self.gram.shape[0]} and {other.gram.shape[0]} units.")
        return UnitStats(self.count + other.count, self.total + other.total, self.gram + other.gram)

    @property
    def n_units(self) -> int:
        return self.total.size

    @property
    def mean(self) -> np.ndarray:
        return self.total / max(self.count, 1)

    @property
    def second_moment(self) -> np.ndarray:
        """E[h h^T]."""
        return self.gram / max(self.count, 1)

    @property
    def covariance(self) -> np.ndarray:
        """Centred covariance E[(h - mu)(h - mu)^T]."""
        mean = self.mean
        return self.second_moment - np.outer(mean, mean)

    @property
    def energy(self) -> np.ndarray:
        """E[h_i^2] per unit: how much signal each unit carries."""
        return np.diag(self.second_moment).copy()


@dataclass
class ConsumerStats:
    """Least-squares statistics of one consumer layer's (unfolded) input.

    The input ``P`` is augmented with a column of ones, so the last row/column of ``gram``
    carries sums and the count. ``cross`` is ``P~^T Y`` against a target output ``Y`` (the
    original network's output of this consumer) and ``target_sq`` is ``sum ||Y||²`` with
    ``target_sum`` its column sums; both are only present when a target was recorded.
    """

    gram: np.ndarray
    cross: np.ndarray | None = None
    target_sq: float = 0.0
    target_sum: np.ndarray | None = None

    @classmethod
    def empty(cls, n_inputs: int, n_outputs: int | None = None) -> "ConsumerStats":
        dim = n_inputs + 1
        if n_outputs is None:
            return cls(np.zeros((dim, dim)))
        return cls(np.zeros((dim, dim)), np.zeros((dim, n_outputs)), 0.0, np.zeros(n_outputs))

    def update(self, inputs: torch.Tensor, targets: torch.Tensor | None = None) -> None:
        inputs = inputs.detach().to(device="cpu", dtype=torch.float64)
        ones = torch.ones(inputs.shape[0], 1, dtype=torch.float64)
        augmented = torch.cat([inputs, ones], dim=1)
        # In-place accumulation through tensor views of the numpy arrays (no n×n temporaries).
        torch.from_numpy(self.gram).addmm_(augmented.T, augmented)
        if targets is not None:
            targets = targets.detach().to(device="cpu", dtype=torch.float64)
            torch.from_numpy(self.cross).addmm_(augmented.T, targets)
            self.target_sq += float((targets * targets).sum())
            self.target_sum += targets.sum(0).numpy()

    @property
    def count(self) -> int:
        return int(round(self.gram[-1, -1]))

    def __add__(self, other: "ConsumerStats") -> "ConsumerStats":
        if self.cross is None:
            return ConsumerStats(self.gram + other.gram)
        return ConsumerStats(
            self.gram + other.gram,
            self.cross + other.cross,
            self.target_sq + other.target_sq,
            self.target_sum + other.target_sum,
        )
