"""Classic compressors beside graph reduction: low-rank factorization and Deep Compression.

* :func:`lowrank_factorize` — truncated SVD of Linear layers, Tucker-2 (or CP) of Conv2d
  kernels, activation-aware (whitened) when calibration inputs are given;
  :func:`save_factorized` / :func:`load_factorized` (JSON + safetensors).
* :func:`prune_magnitude` — magnitude pruning with :class:`PruningMasks` that keep
  pruned weights at zero while fine-tuning.
* :func:`quantize_weights` — k-means weight sharing with trainable centroids
  (:class:`WeightSharing`).
* :func:`save_ngz` / :func:`load_ngz` — the Huffman-coded ``.ngz`` file
  (format in :mod:`netgraph.compress.ngz`); :func:`compressed_size` reports bytes.
* :func:`compress_model` — the whole pipeline with fine-tuning, returning a report.

Example
-------
>>> import torch
>>> from torch import nn
>>> from netgraph.compress import prune_magnitude, quantize_weights, compressed_size
>>> model = nn.Sequential(nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
>>> masks = prune_magnitude(model, 0.9)
>>> sharing = quantize_weights(model, bits=4)
>>> compressed_size(model)["compression_ratio"] > 20
True
"""

from netgraph.compress.huffman import CanonicalCode, huffman_code_lengths
from netgraph.compress.lowrank import (
    FactorizationResult,
    FactorizedLayer,
    apply_factorization_spec,
    load_factorized,
    lowrank_factorize,
    save_factorized,
)
from netgraph.compress.ngz import decode_ngz, encode_ngz, load_ngz, ngz_size_report, read_ngz, save_ngz
from netgraph.compress.pipeline import compress_model, compressed_size, finetune
from netgraph.compress.quantize import SharedWeight, WeightSharing, kmeans_1d, quantize_weights
from netgraph.compress.sparsity import PruningMasks, prune_magnitude, weight_sparsity

__all__ = [
    "lowrank_factorize",
    "FactorizationResult",
    "FactorizedLayer",
    "apply_factorization_spec",
    "save_factorized",
    "load_factorized",
    "prune_magnitude",
    "PruningMasks",
    "weight_sparsity",
    "quantize_weights",
    "WeightSharing",
    "SharedWeight",
    "kmeans_1d",
    "huffman_code_lengths",
    "CanonicalCode",
    "encode_ngz",
    "decode_ngz",
    "save_ngz",
    "load_ngz",
    "read_ngz",
    "ngz_size_report",
    "compressed_size",
    "compress_model",
    "finetune",
]
