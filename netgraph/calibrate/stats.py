"""Streaming activation statistics: sums that combine across batches, shards and ranks.

Only sums are stored (sample count, sum, sum of outer products, in float64), so memory is
O(units²) whatever the amount of data, and two statistics simply add.

Each batch's outer products are computed in the activations' own dtype (float32 for most
models; float16/bfloat16 are raised to float32) and only the running sums are float64:
the matrix product is the expensive part, and float32 products with float64 accumulation
across batches keep the relative error of a Gram near float32 round-off per batch.
Measured on real digits (1,797 images through a 64→128 ReLU layer), relative Frobenius
error against float64 products of the same activations: 1.9e-8 in batches of 64, 8.0e-8
in one batch of 1,797 (tests/calibrate/test_statistics_cost.py checks < 1e-6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["UnitStats", "ConsumerStats"]


def _product_dtype(samples: torch.Tensor) -> torch.dtype:
    return torch.float64 if samples.dtype == torch.float64 else torch.float32


def _accumulate(target: np.ndarray, left: torch.Tensor, right: torch.Tensor) -> None:
    """target += left @ right, the product in the inputs' precision, the sum in float64."""
    view = torch.from_numpy(target)
    if left.dtype == torch.float64:
        view.addmm_(left, right)  # in place: no n×n temporary
    else:
        view += (left @ right).double()


def _accumulate_gram(target: np.ndarray, samples: torch.Tensor) -> None:
    """target += samples^T samples by a symmetric rank-k update (BLAS syrk): one triangle
    of the product, half the multiplications of a general product, in the samples'
    precision; the sum stays float64 and full (both triangles)."""
    from scipy.linalg.blas import dsyrk, ssyrk

    rows = np.ascontiguousarray(samples.numpy())
    if rows.shape[0] == 0:
        return
    # A C-ordered (samples, n) array is a Fortran-ordered (n, samples) one: syrk's A A^T
    # with trans=0 is then samples^T samples, with no copy.
    upper = (dsyrk if rows.dtype == np.float64 else ssyrk)(1.0, rows.T, trans=0, lower=0)  # zeros below
    target += upper
    target += upper.T
    target.flat[:: target.shape[0] + 1] -= np.diagonal(upper)  # the diagonal was added twice


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
        samples = samples.detach().to(device="cpu")
        samples = samples.to(_product_dtype(samples))
        self.count += int(samples.shape[0])
        self.total += samples.sum(0, dtype=torch.float64).numpy()
        _accumulate_gram(self.gram, samples)

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

    When the Gram matrix would not fit the memory budget (a Flatten consumer with tens of
    thousands of inputs), only the input sums are kept (``gram`` is None, ``fallback``
    says why): enough to fold dropped units' means into the bias, not to refit.
    """

    gram: np.ndarray | None
    cross: np.ndarray | None = None
    target_sq: float = 0.0
    target_sum: np.ndarray | None = None
    total: np.ndarray | None = None
    samples: int = 0
    fallback: str | None = None

    @classmethod
    def empty(cls, n_inputs: int, n_outputs: int | None = None, *, fallback: str | None = None) -> "ConsumerStats":
        if fallback is not None:
            return cls(None, total=np.zeros(n_inputs), fallback=fallback)
        dim = n_inputs + 1
        if n_outputs is None:
            return cls(np.zeros((dim, dim)))
        return cls(np.zeros((dim, dim)), np.zeros((dim, n_outputs)), 0.0, np.zeros(n_outputs))

    @staticmethod
    def nbytes(n_inputs: int, n_outputs: int | None = None) -> int:
        """Memory of the float64 sums for a layer with ``n_inputs`` (unfolded) inputs."""
        dim = n_inputs + 1
        return 8 * dim * (dim + (n_outputs or 0))

    def update(self, inputs: torch.Tensor, targets: torch.Tensor | None = None) -> None:
        inputs = inputs.detach().to(device="cpu")
        if self.gram is None:
            self.total += inputs.sum(0, dtype=torch.float64).numpy()
            self.samples += int(inputs.shape[0])
            return
        inputs = inputs.to(_product_dtype(inputs))
        ones = torch.ones(inputs.shape[0], 1, dtype=inputs.dtype)
        augmented = torch.cat([inputs, ones], dim=1)
        _accumulate_gram(self.gram, augmented)
        if targets is not None:
            targets = targets.detach().to(device="cpu", dtype=augmented.dtype)
            _accumulate(self.cross, augmented.T, targets)
            self.target_sq += float((targets.double() ** 2).sum())
            self.target_sum += targets.sum(0, dtype=torch.float64).numpy()

    @property
    def count(self) -> int:
        if self.gram is None:
            return self.samples
        return int(round(self.gram[-1, -1]))

    @property
    def input_mean(self) -> np.ndarray:
        """Mean of each (unfolded) input column."""
        sums = self.total if self.gram is None else self.gram[-1, :-1]
        return sums / max(self.count, 1)

    def __add__(self, other: "ConsumerStats") -> "ConsumerStats":
        if self.gram is None:
            return ConsumerStats(
                None, total=self.total + other.total, samples=self.samples + other.samples, fallback=self.fallback
            )
        if self.cross is None:
            return ConsumerStats(self.gram + other.gram)
        return ConsumerStats(
            self.gram + other.gram,
            self.cross + other.cross,
            self.target_sq + other.target_sq,
            self.target_sum + other.target_sum,
        )
