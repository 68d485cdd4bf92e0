import copy

import numpy as np
import pytest
import torch

from netgraph import PlanError, apply_plan, load_reduced, plan_reduction, save_reduced


def test_original_is_untouched(tiny_mlp, mlp_batches):
    before = copy.deepcopy(tiny_mlp.state_dict())
    plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, calibration=mlp_batches)
    apply_plan(tiny_mlp, plan)
    for name, tensor in tiny_mlp.state_dict().items():
        assert torch.equal(tensor, before[name])


def test_plan_for_another_architecture_is_refused(tiny_mlp, tiny_cnn, mlp_batches):
    plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, fold="exact")
    with pytest.raises(PlanError, match="different architecture"):
        apply_plan(tiny_cnn, plan)


def test_plan_for_other_weights_is_refused(tiny_mlp, mlp_batches):
    plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, fold="exact")
    other = copy.deepcopy(tiny_mlp)
    with torch.no_grad():
        other[0].weight.add_(1.0)
    with pytest.raises(PlanError, match="different weights"):
        apply_plan(other, plan)
    assert apply_plan(other, plan, check_weights=False)[0].out_features == 12


@pytest.mark.parametrize("sequential", [True, False])
def test_residual_network_reduces_runs_and_round_trips(tiny_resnet, image_batches, tmp_path, sequential):
    plan = plan_reduction(
        tiny_resnet, image_batches[0], keep=0.5, fold="lstsq", calibration=image_batches, sequential=sequential
    )
    names = [p.group.name for p in plan.groups]
    assert "conv1" in names and "layer1.0.conv1" in names  # the stream and a block's inner group
    reduced = apply_plan(tiny_resnet, plan)
    x = image_batches[1]
    assert reduced(x).shape == tiny_resnet(x).shape
    assert reduced.conv1.out_channels == 4
    save_reduced(reduced, plan, tmp_path / "resnet")
    fresh = copy.deepcopy(tiny_resnet)
    for parameter in fresh.parameters():
        torch.nn.init.normal_(parameter)
    loaded = load_reduced(fresh, tmp_path / "resnet")
    with torch.no_grad():
        assert torch.equal(loaded(x), reduced(x))


def test_planning_leaves_the_training_mode_alone(tiny_mlp, mlp_batches):
    tiny_mlp.train()
    plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, calibration=mlp_batches)
    assert tiny_mlp.training


def test_apply_records_original_indices_so_later_groups_find_theirs():
    """Cut bookkeeping: a layer cut by one group reports the others' columns renumbered."""
    from netgraph.graph.cuts import current_positions, removed

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    plan = plan_reduction(model, torch.randn(2, 4), keep=0.5, fold="none")
    reduced = apply_plan(model, plan)
    dropped = plan.groups[0].dropped
    np.testing.assert_array_equal(removed(reduced[2], "in"), dropped)
    np.testing.assert_array_equal(removed(reduced[0], "out"), dropped)
    kept = plan.groups[0].kept
    np.testing.assert_array_equal(current_positions(reduced[2], "in", kept), np.arange(kept.size))
    assert removed(model[2], "in").size == 0  # the original is untouched


def test_apply_plan_names_a_missing_plan():
    import pytest
    from torch import nn

    from netgraph import apply_plan
    from netgraph.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'plan' parameter of apply_plan"):
        apply_plan(nn.Linear(2, 2), None)
    with pytest.raises(InvalidParameterError, match="'model' parameter of apply_plan"):
        apply_plan("not a model", None)
