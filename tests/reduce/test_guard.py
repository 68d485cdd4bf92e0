"""The calibration guard: too few samples are flagged, lstsq falls back, groups never collapse."""

import numpy as np
import pytest
import torch
from torch import nn

from netgraph import apply_plan, plan_reduction
from netgraph.reduce.duplicates import limit_duplicate_merges
from netgraph.reduce.guard import refit_shortfall, thin_unit_statistics


def test_limit_duplicate_merges_keeps_enough_units():
    assert limit_duplicate_merges(np.array([0, 0, 0, 0]), 2).tolist() == [0, 1, 0, 0]
    assert limit_duplicate_merges(np.array([0, 0, 2, 2]), 2).tolist() == [0, 0, 2, 2]  # enough already
    assert limit_duplicate_merges(np.array([0, 1, 2]), 3).tolist() == [0, 1, 2]


def test_one_sample_lstsq_falls_back_and_says_so():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 40), nn.ReLU(), nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 4)).eval()
    one = [torch.randn(1, 8)]
    plan = plan_reduction(model, one[0], keep=0.5, fold="lstsq", method="magnitude", calibration=one)
    assert [p.kept.size for p in plan.groups] == [20, 15]  # asked for, not collapsed by degenerate duplicates
    for group_plan in plan.groups:
        assert "calibration_warning" in group_plan.metrics
        assert all("data-free exact fold" in reason for reason in group_plan.metrics["fallback"].values())
    many = [torch.randn(64, 8) for _ in range(4)]
    plan = plan_reduction(model, many[0], keep=0.5, fold="lstsq", method="magnitude", calibration=many)
    assert all("fallback" not in p.metrics and "calibration_warning" not in p.metrics for p in plan.groups)


def test_convolutions_count_spatial_positions():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 4, 3, padding=1)).eval()
    two = [torch.randn(2, 1, 8, 8)]  # 2 images × 64 positions = 128 rows for 3 kept channels × 9 taps + 1
    plan = plan_reduction(model, two[0], keep=0.5, fold="lstsq", calibration=two)
    assert "fallback" not in plan.groups[0].metrics and "calibration_warning" not in plan.groups[0].metrics


def test_guard_messages():
    class Stats:
        gram = np.zeros((11, 11))
        count = 3

    assert "at least 6" in refit_shortfall(Stats(), n_kept=5, n_units=10)
    Stats.count = 6
    assert refit_shortfall(Stats(), n_kept=5, n_units=10) is None
    assert thin_unit_statistics(Stats(), 10).startswith("only 6 calibration samples for 10 units")
    assert thin_unit_statistics(None, 10) is None


@pytest.mark.slow
def test_lenet_from_one_sample_keeps_what_was_asked():
    """Issue 9: --samples 1 kept 2 of 100 units in fc2 and accuracy fell 0.937 → 0.10 without a warning."""
    from netgraph.sources import load_data, load_model

    model, example, info = load_model("zoo:lenet-300-100")
    data = load_data("zoo:mnist5k", model, info, n_samples=1, seed=0)
    plan = plan_reduction(model, example, keep=0.5, calibration=data.calibration, random_state=0)
    assert [p.kept.size for p in plan.groups] == [150, 50]
    assert all("calibration_warning" in p.metrics for p in plan.groups)
    reduced = apply_plan(model, plan)
    with torch.no_grad():
        predictions = torch.cat([reduced(batch).argmax(1) for batch in data.held_out])
    assert float((predictions == data.held_out_labels).float().mean()) > 0.6
