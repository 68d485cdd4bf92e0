import pytest
import torch
from torch import nn

from netgraph.compress import PruningMasks, finetune, prune_magnitude, weight_sparsity
from netgraph.errors import InvalidParameterError, UnsupportedModelError


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.75, 0.9])
def test_sparsity_is_exact_per_layer(tiny_mlp, sparsity):
    masks = prune_magnitude(tiny_mlp, sparsity)
    for name, module in tiny_mlp.named_modules():
        if isinstance(module, nn.Linear):
            assert int((module.weight == 0).sum()) == round(sparsity * module.weight.numel())
            assert torch.equal(masks.masks[f"{name}.weight"], module.weight != 0)


def test_smallest_magnitudes_are_pruned(tiny_mlp):
    original = tiny_mlp[0].weight.detach().abs().clone()
    prune_magnitude(tiny_mlp, 0.5)
    kept = tiny_mlp[0].weight != 0
    assert original[~kept].max() <= original[kept].min()


def test_pruned_zeros_are_positive_zeros(tiny_mlp):
    prune_magnitude(tiny_mlp, 0.8)
    weight = tiny_mlp[0].weight.detach()
    assert not torch.signbit(weight[weight == 0]).any()


def test_global_scope_total_is_exact(tiny_mlp):
    total = sum(m.weight.numel() for m in tiny_mlp if isinstance(m, nn.Linear))
    prune_magnitude(tiny_mlp, 0.6, scope="global")
    zeros = sum(int((m.weight == 0).sum()) for m in tiny_mlp if isinstance(m, nn.Linear))
    assert zeros == round(0.6 * total)


def test_mapping_prunes_only_named_layers(tiny_mlp):
    prune_magnitude(tiny_mlp, {"0": 0.5})
    sparsity = weight_sparsity(tiny_mlp)
    assert sparsity["0"] == pytest.approx(0.5)
    assert sparsity["2"] == 0.0


def test_masks_survive_finetuning(tiny_mlp, classification_batches):
    masks = prune_magnitude(tiny_mlp, 0.7)
    before = {k: v.clone() for k, v in masks.masks.items()}
    finetune(tiny_mlp, classification_batches, epochs=3, lr=1e-2, masks=masks)
    for name, module in tiny_mlp.named_modules():
        if isinstance(module, nn.Linear):
            assert torch.equal(module.weight != 0, before[f"{name}.weight"])


def test_gradient_hook_blocks_pruned_gradients(tiny_mlp, classification_batches):
    masks = prune_magnitude(tiny_mlp, 0.5)
    handles = masks.register_gradient_hooks(tiny_mlp)
    x, y = classification_batches[0]
    nn.functional.cross_entropy(tiny_mlp(x), y).backward()
    assert (tiny_mlp[0].weight.grad[~masks.masks["0.weight"]] == 0).all()
    for handle in handles:
        handle.remove()


def test_attach_keeps_zeros_under_adam_with_weight_decay(tiny_mlp, classification_batches):
    masks = prune_magnitude(tiny_mlp, 0.5)
    optimizer = torch.optim.AdamW(tiny_mlp.parameters(), lr=1e-2, weight_decay=0.1)
    masks.attach(tiny_mlp, optimizer)
    for x, y in classification_batches:
        optimizer.zero_grad()
        nn.functional.cross_entropy(tiny_mlp(x), y).backward()
        optimizer.step()
    assert torch.equal(tiny_mlp[0].weight != 0, masks.masks["0.weight"])


def test_mask_state_dict_round_trip(tiny_mlp):
    masks = prune_magnitude(tiny_mlp, 0.5)
    again = PruningMasks.from_state_dict(masks.state_dict())
    assert all(torch.equal(again.masks[k], masks.masks[k]) for k in masks.masks)
    assert all(torch.equal(v, PruningMasks.from_model(tiny_mlp).masks[k]) for k, v in masks.masks.items())


@pytest.mark.parametrize("bad", [1.0, -0.1, "0.5", True])
def test_bad_sparsity_names_parameter(tiny_mlp, bad):
    with pytest.raises(InvalidParameterError, match="'sparsity'"):
        prune_magnitude(tiny_mlp, bad)


def test_bad_scope_and_layer(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="'scope'"):
        prune_magnitude(tiny_mlp, 0.5, scope="everywhere")
    with pytest.raises(InvalidParameterError, match="'layers'"):
        prune_magnitude(tiny_mlp, 0.5, layers=["nope"])
    with pytest.raises(UnsupportedModelError):
        prune_magnitude(tiny_mlp, 0.5, layers=["1"])
