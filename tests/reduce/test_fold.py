"""Compensation invariants: free merges are exact, least squares beats dropping."""

import numpy as np
import pytest
import torch

from netgraph import apply_plan, plan_reduction


def _plant_duplicates_mlp(model):
    with torch.no_grad():
        model[0].weight[5] = 2.5 * model[0].weight[1]
        model[0].bias[5] = 2.5 * model[0].bias[1]
        model[0].weight[7] = model[0].weight[2]
        model[0].bias[7] = model[0].bias[2]
        model[0].weight[9] = 0.3 * model[0].weight[2]
        model[0].bias[9] = 0.3 * model[0].bias[2]
    return model


def _relative_change(reduced, original, x):
    with torch.no_grad():
        return float((reduced(x) - original(x)).abs().max() / original(x).abs().max())


@pytest.mark.parametrize("fold", ["exact", "none"])
def test_scaled_duplicates_merge_exactly_in_mlp(tiny_mlp, fold):
    model = _plant_duplicates_mlp(tiny_mlp)
    plan = plan_reduction(model, torch.randn(2, 10), keep=21 / 24, fold=fold, groups=["0"])
    reduced = apply_plan(model, plan)
    assert reduced[0].out_features == 21
    assert plan.groups[0].metrics["exact_duplicates"] == 3
    assert _relative_change(reduced, model, torch.randn(256, 10)) < 1e-5


def test_scaled_duplicates_merge_exactly_through_batchnorm(tiny_cnn):
    model = tiny_cnn
    with torch.no_grad():  # channel 4 = channel 0 scaled by 3 after BatchNorm
        model.conv1.weight[4] = model.conv1.weight[0]
        model.conv1.bias[4] = model.conv1.bias[0]
        model.bn1.running_mean[4] = model.bn1.running_mean[0]
        model.bn1.running_var[4] = model.bn1.running_var[0]
        model.bn1.weight[4] = 3 * model.bn1.weight[0]
        model.bn1.bias[4] = 3 * model.bn1.bias[0]
    plan = plan_reduction(model, torch.randn(2, 1, 8, 8), keep=5 / 6, fold="exact", groups=["conv1"])
    reduced = apply_plan(model, plan)
    assert reduced.conv1.out_channels == 5 and reduced.bn1.num_features == 5
    assert 4 not in plan.groups[0].kept
    assert _relative_change(reduced, model, torch.randn(64, 1, 8, 8)) < 1e-5


def test_parameter_count_drops_by_exactly_the_plan(tiny_mlp, mlp_batches):
    plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, calibration=mlp_batches)
    reduced = apply_plan(tiny_mlp, plan)
    kept = [p.kept.size for p in plan.groups]
    assert kept == [12, 8]
    expected = (10 + 1) * 12 + (12 + 1) * 8 + (8 + 1) * 3
    assert sum(p.numel() for p in reduced.parameters()) == expected


def test_lstsq_beats_drop_on_real_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[:1200]), y[:1200]).backward()
        optimizer.step()
    model.eval()
    batches = list(x[:1200].split(200))
    errors = {}
    for fold in ("none", "lstsq"):
        plan = plan_reduction(model, x[:2], keep=0.25, method="activation", fold=fold, calibration=batches)
        errors[fold] = plan.groups[0].metrics["output_error"]
        reduced = apply_plan(model, plan)
        with torch.no_grad():
            errors[fold + "_test"] = float(((reduced(x[1200:]) - model(x[1200:])) ** 2).mean())
    assert errors["lstsq"] < errors["none"]
    assert errors["lstsq_test"] < errors["none_test"]


def test_conv_output_reconstruction_handles_padding(tiny_cnn, image_batches):
    """Keeping every channel with lstsq reproduces the consumer's output (border included)."""
    plan = plan_reduction(tiny_cnn, image_batches[0], keep=1.0, fold="lstsq", calibration=image_batches)
    reduced = apply_plan(tiny_cnn, plan)
    assert _relative_change(reduced, tiny_cnn, image_batches[0]) < 1e-4
    assert all(p.metrics["output_error"] < 1e-5 for p in plan.groups)


def test_svd_bound_is_a_floor(tiny_mlp, mlp_batches):
    plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, method="activation", calibration=mlp_batches)
    for group_plan in plan.groups:
        assert group_plan.metrics["unit_error"] >= group_plan.metrics["svd_bound"] - 1e-9
        assert group_plan.metrics["svd_ratio"] >= 1 - 1e-6


class _TwoBranchConcat(torch.nn.Module):
    """Two ReLU branches concatenated into one reader: DenseNet / Fire / Inception wiring."""

    def __init__(self):
        super().__init__()
        self.a, self.b = torch.nn.Linear(5, 6), torch.nn.Linear(5, 6)
        self.reader = torch.nn.Linear(12, 3)
        with torch.no_grad():  # two exact (scaled) duplicates in each branch
            for branch in (self.a, self.b):
                branch.weight[4], branch.bias[4] = 2.0 * branch.weight[0], 2.0 * branch.bias[0]
                branch.weight[5], branch.bias[5] = 0.5 * branch.weight[1], 0.5 * branch.bias[1]

    def forward(self, x):
        return self.reader(torch.cat([torch.relu(self.a(x)), torch.relu(self.b(x))], dim=1))


@pytest.mark.parametrize("sequential", [False, True])
@pytest.mark.parametrize("fold", ["none", "exact", "lstsq"])
def test_concatenation_reader_keeps_the_other_groups_columns(fold, sequential):
    """Folding one branch of a concatenation must leave the other branch's columns in
    place, whichever group is cut first; with only free merges the function is unchanged."""
    torch.manual_seed(0)
    model = _TwoBranchConcat().eval()
    data = [torch.randn(64, 5) for _ in range(3)]
    plan = plan_reduction(
        model, data[0], keep=4 / 6, fold=fold, calibration=data if fold == "lstsq" else None, sequential=sequential
    )
    assert sorted(p.group.name for p in plan.groups) == ["a", "b"]
    reduced = apply_plan(model, plan)
    assert reduced.reader.in_features == 8 and reduced.a.out_features == reduced.b.out_features == 4
    assert _relative_change(reduced, model, torch.randn(256, 5)) < 1e-4


def test_concatenation_drop_keeps_other_columns_untouched():
    """A plain drop in one branch changes only that branch's columns of the reader."""
    torch.manual_seed(1)
    model = _TwoBranchConcat().eval()
    model.a.reset_parameters()  # no duplicates: nothing is merged, only dropped
    plan = plan_reduction(model, torch.randn(4, 5), keep={"a": 0.5}, fold="none", groups=["a"])
    reduced = apply_plan(model, plan)
    kept = plan.groups[0].kept
    torch.testing.assert_close(reduced.reader.weight[:, kept.size:], model.reader.weight[:, 6:])
    torch.testing.assert_close(reduced.reader.weight[:, : kept.size], model.reader.weight[:, torch.as_tensor(kept)])
