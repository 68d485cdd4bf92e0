"""Every registered method through plan_reduction → apply_plan, on every architecture family."""

import pytest
import torch

from netgraph import apply_plan, available_methods, plan_reduction

METHODS = available_methods()
FOLDS = [("exact", False), ("lstsq", True), ("none", True)]


def _check(model, batches, method, fold, with_data, keep=0.5):
    plan = plan_reduction(
        model, batches[0], keep=keep, method=method, fold=fold,
        calibration=batches if with_data else None, random_state=0,
    )
    reduced = apply_plan(model, plan)
    for group_plan in plan.groups:
        expected = max(1, round(keep * group_plan.group.size))
        assert group_plan.kept.size == expected, (method, group_plan.group.name)
    with torch.no_grad():
        out = reduced(batches[-1])
    assert torch.isfinite(out).all()
    return plan, reduced


def test_all_expected_methods_are_registered():
    expected = {"magnitude", "random", "activation", "dpp", "dpp-sample", "submodular", "sbm", "summarize", "embedding"}
    assert expected <= set(METHODS)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fold,with_data", FOLDS)
def test_every_method_on_mlp(tiny_mlp, mlp_batches, method, fold, with_data):
    _, reduced = _check(tiny_mlp, mlp_batches, method, fold, with_data)
    assert reduced[0].out_features == 12 and reduced[2].in_features == 12


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fold,with_data", FOLDS)
def test_every_method_on_cnn_with_batchnorm(tiny_cnn, image_batches, method, fold, with_data):
    _, reduced = _check(tiny_cnn, image_batches, method, fold, with_data)
    assert reduced.bn1.num_features == reduced.conv1.out_channels == 3
    assert reduced.fc.in_features == 4 * 4


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fold,with_data", FOLDS[:2])
def test_every_method_on_residual_network(tiny_resnet, image_batches, method, fold, with_data):
    plan, reduced = _check(tiny_resnet, image_batches, method, fold, with_data)
    assert any(p.group.residual for p in plan.groups)
    assert reduced.fc.in_features == 6


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fold,with_data", FOLDS[:2])
def test_every_method_on_minilm_ffn(minilm, method, fold, with_data):
    model, batches = minilm
    plan = plan_reduction(
        model, batches[0], keep=0.5, method=method, fold=fold, groups=r"layer\.0\.intermediate",
        calibration=batches if with_data else None, random_state=0,
    )
    reduced = apply_plan(model, plan)
    assert reduced.encoder.layer[0].intermediate.dense.out_features == 768
    assert reduced.encoder.layer[0].output.dense.in_features == 768
    with torch.no_grad():
        hidden = reduced(**batches[1]).last_hidden_state
    assert torch.isfinite(hidden).all()
