import numpy as np
import pytest
import torch
from torch import nn

from netgraph.compress import finetune, kmeans_1d, prune_magnitude, quantize_weights
from netgraph.errors import InvalidParameterError


@pytest.mark.parametrize("bits", [1, 2, 3, 5])
def test_bits_honoured(tiny_mlp, bits):
    sharing = quantize_weights(tiny_mlp, bits)
    for module in tiny_mlp:
        if isinstance(module, nn.Linear):
            assert torch.unique(module.weight).numel() <= 2**bits
    assert all(s.codebook.numel() <= 2**bits for s in sharing.layers.values())


def test_pruned_zeros_are_not_clustered(tiny_mlp):
    masks = prune_magnitude(tiny_mlp, 0.8)
    sharing = quantize_weights(tiny_mlp, 2)
    for name, shared in sharing.layers.items():
        assert torch.equal(shared.indices >= 0, masks.masks[name])
    weight = tiny_mlp[0].weight
    assert torch.unique(weight[weight != 0]).numel() <= 4
    assert torch.equal(weight != 0, masks.masks["0.weight"])


def test_kmeans_linear_init_and_convergence():
    values = np.concatenate([np.full(50, -1.0), np.full(30, 0.5), np.full(20, 2.0)])
    centroids, labels = kmeans_1d(values, 3)
    assert np.allclose(centroids, [-1.0, 0.5, 2.0])
    assert np.array_equal(np.bincount(labels), [50, 30, 20])
    # fewer distinct values than clusters: exact codebook
    centroids, labels = kmeans_1d(np.array([3.0, 1.0, 3.0]), 8)
    assert centroids.tolist() == [1.0, 3.0] and labels.tolist() == [1, 0, 1]


def test_kmeans_centroids_are_cluster_means():
    rng = np.random.default_rng(0)
    values = rng.normal(size=1000)
    centroids, labels = kmeans_1d(values, 8)
    for k in np.unique(labels):
        assert centroids[k] == pytest.approx(values[labels == k].mean())


def test_centroid_finetuning_keeps_weights_shared(tiny_mlp, classification_batches):
    masks = prune_magnitude(tiny_mlp, 0.5)
    sharing = quantize_weights(tiny_mlp, 3)
    indices = {k: v.indices.clone() for k, v in sharing.layers.items()}
    before = {k: v.codebook.detach().clone() for k, v in sharing.layers.items()}
    losses = finetune(tiny_mlp, classification_batches, epochs=3, lr=1e-2, sharing=sharing, masks=masks)
    assert losses[-1] < losses[0]
    parameters = dict(tiny_mlp.named_parameters())
    for name, shared in sharing.layers.items():
        assert torch.equal(shared.indices, indices[name])
        assert not torch.equal(shared.codebook.detach(), before[name])
        expected = torch.where(indices[name] >= 0, shared.codebook.detach()[indices[name].clamp(min=0)], 0.0)
        assert torch.equal(parameters[name].detach(), expected)
        assert torch.unique(parameters[name][parameters[name] != 0]).numel() <= 8


def test_centroid_gradient_is_sum_of_cluster_gradients(tiny_mlp, classification_batches):
    sharing = quantize_weights(tiny_mlp, 2)
    x, y = classification_batches[0]
    nn.functional.cross_entropy(tiny_mlp(x), y).backward()
    sharing.collect_gradients(tiny_mlp)
    shared = sharing.layers["0.weight"]
    grad = tiny_mlp[0].weight.grad
    for k in range(shared.codebook.numel()):
        assert shared.codebook.grad[k] == pytest.approx(float(grad[shared.indices == k].sum()), abs=1e-6)


def test_attach_refuses_optimizer_over_shared_weights(tiny_mlp):
    sharing = quantize_weights(tiny_mlp, 2)
    with pytest.raises(InvalidParameterError, match="'optimizer'"):
        sharing.attach(tiny_mlp, torch.optim.SGD(tiny_mlp.parameters(), lr=0.1))


@pytest.mark.parametrize("bad", [0, 17, 2.5, None])
def test_bad_bits_names_parameter(tiny_mlp, bad):
    with pytest.raises(InvalidParameterError, match="'bits'"):
        quantize_weights(tiny_mlp, bad)
