"""Weight sharing by k-means and trained quantization (Deep Compression, stage 2).

Every Linear/Conv weight matrix is replaced by ``2**bits`` shared values: a 1-D k-means
over the layer's *nonzero* weights (pruned zeros stay zero and are not clustered),
started from centroids spaced linearly between the smallest and largest weight — the
initialisation Han et al. found best, because it keeps the rare large weights that
matter most. Each weight then stores only its cluster index.

"Trained quantization" fine-tunes the centroids: the gradient of a centroid is the sum
of the gradients of the weights in its cluster. :meth:`WeightSharing.attach` wires that
into any optimizer: before each step it collects the centroid gradients, after it it
writes the centroids back into the weights, so the weights stay shared at all times.

Example
-------
>>> import torch
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))
>>> sharing = quantize_weights(model, bits=2)
>>> len(torch.unique(model[0].weight)) <= 4
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from netgraph.compress._checks import check_int, float_weight, weight_layers
from netgraph.errors import InvalidParameterError

__all__ = ["SharedWeight", "WeightSharing", "kmeans_1d", "quantize_weights"]


def kmeans_1d(values: np.ndarray, clusters: int, *, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means on scalars with linear initialisation between min and max.

    Returns
    -------
    centroids : ndarray of shape (k,), sorted, k <= clusters
        Fewer than ``clusters`` only when there are fewer distinct values.
    labels : ndarray of int64, same length as ``values``
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    distinct = np.unique(values)
    if distinct.size <= clusters:
        return distinct, np.searchsorted(distinct, values).astype(np.int64)
    centroids = np.linspace(values.min(), values.max(), clusters)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    cumulative = np.concatenate([[0.0], np.cumsum(ordered)])
    bounds = None
    for _ in range(max_iter):
        # In 1-D, clusters are contiguous runs of the sorted values split at midpoints.
        midpoints = (centroids[1:] + centroids[:-1]) / 2
        new_bounds = np.concatenate([[0], np.searchsorted(ordered, midpoints, side="right"), [ordered.size]])
        if bounds is not None and np.array_equal(new_bounds, bounds):
            break
        bounds = new_bounds
        counts = np.diff(bounds)
        sums = cumulative[bounds[1:]] - cumulative[bounds[:-1]]
        # an empty cluster keeps its centroid (it may catch values later)
        centroids = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        centroids = np.sort(centroids)
    midpoints = (centroids[1:] + centroids[:-1]) / 2
    labels = np.searchsorted(midpoints, values, side="right").astype(np.int64)
    return centroids, labels


@dataclass
class SharedWeight:
    """One layer's weight as a codebook plus per-weight indices (-1 marks a pruned zero)."""

    codebook: nn.Parameter
    indices: torch.Tensor

    def weight(self) -> torch.Tensor:
        """The dense weight the codebook and indices describe."""
        if self.codebook.numel() == 0:  # every weight was pruned
            return torch.zeros(self.indices.shape, dtype=self.codebook.dtype)
        dense = self.codebook.detach()[self.indices.clamp(min=0)]
        return torch.where(self.indices >= 0, dense, torch.zeros_like(dense))


@dataclass
class WeightSharing:
    """Shared weights of a model, keyed by parameter name (``"fc1.weight"``)."""

    bits: int
    layers: dict[str, SharedWeight] = field(default_factory=dict)

    def apply(self, model: nn.Module) -> None:
        """Write every layer's codebook values into the model's weights."""
        parameters = dict(model.named_parameters())
        with torch.no_grad():
            for name, shared in self.layers.items():
                parameters[name].copy_(shared.weight().to(parameters[name].dtype))

    def centroids(self) -> list[nn.Parameter]:
        """The codebooks as trainable parameters."""
        return [shared.codebook for shared in self.layers.values()]

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """Codebooks plus every model parameter that is not shared (biases, norms)."""
        shared = set(self.layers)
        rest = [p for name, p in model.named_parameters() if name not in shared and p.requires_grad]
        return self.centroids() + rest

    def collect_gradients(self, model: nn.Module) -> None:
        """Set each centroid's gradient to the sum of its cluster's weight gradients."""
        parameters = dict(model.named_parameters())
        for name, shared in self.layers.items():
            grad = parameters[name].grad
            if grad is None:
                continue
            kept = shared.indices >= 0
            summed = torch.zeros_like(shared.codebook)
            summed.index_add_(0, shared.indices[kept], grad[kept].to(summed.dtype))
            shared.codebook.grad = summed if shared.codebook.grad is None else shared.codebook.grad + summed

    def attach(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> list[torch.utils.hooks.RemovableHandle]:
        """Make ``optimizer.step()`` train the centroids and keep the weights shared.

        ``optimizer`` should hold :meth:`trainable_parameters`, not the shared weights.
        """
        optimizer_names = {id(p) for group in optimizer.param_groups for p in group["params"]}
        parameters = dict(model.named_parameters())
        if any(id(parameters[name]) in optimizer_names for name in self.layers):
            raise InvalidParameterError.expected(
                "optimizer", "WeightSharing.attach", "an optimizer over trainable_parameters(model)",
                "one that also updates shared weights",
            )
        pre = optimizer.register_step_pre_hook(lambda *_: self.collect_gradients(model))
        post = optimizer.register_step_post_hook(lambda *_: self.apply(model))
        return [pre, post]


def quantize_weights(
    model: nn.Module,
    bits: int,
    *,
    layers: Iterable[str] | None = None,
    max_iter: int = 100,
) -> WeightSharing:
    """Share weights by per-layer k-means on the nonzero weights, in place.

    Parameters
    ----------
    model : nn.Module
        Its Linear/Conv weights are replaced by their cluster centroids.
    bits : int in [1, 16]
        ``2**bits`` clusters per layer (Deep Compression used 8 for conv, 5 for FC).
    layers : iterable of str, optional
        Modules to quantize (default: every Linear/Conv).
    max_iter : int
        Lloyd iterations at most.

    Returns
    -------
    WeightSharing
        Codebooks and indices; use :meth:`WeightSharing.attach` to fine-tune centroids.
    """
    owner = "quantize_weights"
    bits = check_int(bits, "bits", owner, 1, 16)
    max_iter = check_int(max_iter, "max_iter", owner, 1)
    sharing = WeightSharing(bits=bits)
    for name, module in weight_layers(model, layers, owner):
        weight = float_weight(module, name).detach()
        flat = weight.flatten().to(torch.float32).numpy()
        nonzero = flat != 0
        indices = np.full(flat.size, -1, dtype=np.int64)
        codebook = np.zeros(0)
        if nonzero.any():
            codebook, labels = kmeans_1d(flat[nonzero], 2**bits, max_iter=max_iter)
            indices[nonzero] = labels
        parameter = f"{name}.weight" if name else "weight"
        sharing.layers[parameter] = SharedWeight(
            codebook=nn.Parameter(torch.as_tensor(codebook, dtype=torch.float32)),
            indices=torch.as_tensor(indices).reshape(weight.shape),
        )
    sharing.apply(model)
    return sharing
