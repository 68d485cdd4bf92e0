"""Predicted output error of a least-squares fold, checked against the reduced model it predicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from netgraph import apply_plan, calibrate, find_unit_groups, plan_reduction
from netgraph.analysis.prediction import reconstruction_map, simulate_reduction
from netgraph.report.measure import fidelity, model_outputs


@pytest.fixture(scope="module")
def mlp_and_data():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4)).eval()
    batches = [torch.randn(128, 8) for _ in range(2)]
    return model, batches


def test_keeping_every_unit_predicts_no_error(mlp_and_data):
    model, batches = mlp_and_data
    group = find_unit_groups(model, batches[0][:4])[0]
    stats = calibrate(model, batches, [group]).units
    result = simulate_reduction(model, {group: np.arange(group.size)}, stats, batches)
    assert result["relative_error"] == pytest.approx(0.0, abs=1e-12)


def test_a_duplicated_unit_is_reconstructed_exactly():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 3)).eval()
    with torch.no_grad():
        model[0].weight[9] = 2.0 * model[0].weight[3]
        model[0].bias[9] = 2.0 * model[0].bias[3]
    batches = [torch.randn(256, 6)]
    group = find_unit_groups(model, batches[0][:4])[0]
    stats = calibrate(model, batches, [group]).units
    result = simulate_reduction(model, {group: np.arange(9)}, stats, batches)
    assert result["relative_error"] < 1e-5


def test_prediction_matches_the_lstsq_fold_on_one_hidden_layer(mlp_and_data):
    model, batches = mlp_and_data
    example = batches[0][:4]
    plan = plan_reduction(model, example, keep=0.5, method="activation", fold="lstsq", calibration=batches)
    measured = fidelity(model_outputs(model, batches), model_outputs(apply_plan(model, plan), batches))
    stats = calibrate(model, batches, [p.group for p in plan.groups]).units
    predicted = simulate_reduction(model, {p.group: p.kept for p in plan.groups}, stats, batches)
    assert predicted["relative_error"] > 0.01
    # A refit to the original output can only do better than the unit-level fold it simulates.
    assert measured["relative_error"] <= predicted["relative_error"] * 1.05
    assert predicted["relative_error"] <= 1.5 * measured["relative_error"]


def test_hooks_are_removed_and_labels_give_accuracy(mlp_and_data):
    model, batches = mlp_and_data
    group = find_unit_groups(model, batches[0][:4])[0]
    stats = calibrate(model, batches, [group]).units
    labels = model_outputs(model, batches).argmax(1)
    result = simulate_reduction(model, {group: np.arange(4)}, stats, batches, labels=labels)
    assert 0 <= result["accuracy"] <= 1 and result["accuracy"] < 1.0 or result["relative_error"] < 1e-3
    assert not any(m._forward_pre_hooks for m in model.modules())


def test_reconstruction_map_shapes(mlp_and_data):
    model, batches = mlp_and_data
    group = find_unit_groups(model, batches[0][:4])[0]
    stats = calibrate(model, batches, [group]).units
    dropped, mapping, offset = reconstruction_map(stats[group.name], np.arange(10))
    assert dropped.size == group.size - 10 and mapping.shape == (10, dropped.size) and offset.shape == (dropped.size,)
