"""plan_reduction's parameters: every bad value gets a specific, named error."""

import pytest
import torch

from netgraph import InvalidParameterError, PlanError, plan_reduction


@pytest.mark.parametrize("keep", [0, 1.5, -0.1, "half", True])
def test_keep_out_of_range(tiny_mlp, keep):
    with pytest.raises(InvalidParameterError, match="'keep' parameter of plan_reduction must be a float in \\(0, 1\\]"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), keep=keep, fold="exact")


def test_keep_per_group(tiny_mlp):
    plan = plan_reduction(tiny_mlp, torch.randn(2, 10), keep={"0": 0.25}, fold="exact")
    assert [p.kept.size for p in plan.groups] == [6, 16]
    with pytest.raises(InvalidParameterError, match="not being reduced"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), keep={"nope": 0.5}, fold="exact")


def test_unknown_method_and_fold(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), method="best", fold="exact")
    with pytest.raises(InvalidParameterError, match="'fold' parameter"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), fold="glue")


def test_groups_pattern_that_matches_nothing(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="matches no unit group"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), groups="conv", fold="exact")
    with pytest.raises(InvalidParameterError, match="unknown groups"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), groups=["fc9"], fold="exact")


def test_groups_regex_selects(tiny_mlp):
    plan = plan_reduction(tiny_mlp, torch.randn(2, 10), groups="^2$", fold="exact")
    assert [p.group.name for p in plan.groups] == ["2"]


def test_lstsq_needs_calibration(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="needs calibration data"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), fold="lstsq")


def test_empty_calibration(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="empty"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), calibration=[])


def test_nan_weights(tiny_mlp):
    with torch.no_grad():
        tiny_mlp[2].weight[0, 0] = float("nan")
    with pytest.raises(InvalidParameterError, match="NaN or Inf values in '2.weight'"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), fold="exact")


def test_unfoldable_group_named_explicitly():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2)).eval()
    with pytest.raises(PlanError, match="LayerNorm"):
        plan_reduction(model, torch.randn(2, 4), groups=["0"], fold="exact")


def test_same_seed_same_plan(tiny_mlp, mlp_batches):
    first = plan_reduction(tiny_mlp, mlp_batches[0], method="random", calibration=mlp_batches, random_state=3)
    second = plan_reduction(tiny_mlp, mlp_batches[0], method="random", calibration=mlp_batches, random_state=3)
    assert [p.kept.tolist() for p in first.groups] == [p.kept.tolist() for p in second.groups]
    for key, tensor in first.tensors.items():
        assert torch.equal(tensor, second.tensors[key])
