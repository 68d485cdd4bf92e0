import numpy as np
import pytest
import torch

from netgraph import InvalidParameterError, apply_plan, calibrate, plan_reduction
from netgraph.graph.groups import find_unit_groups
from netgraph.reduce.budget import allocate_global_budget, error_curve


def test_error_curve_is_non_increasing_and_ends_near_zero(tiny_mlp, mlp_batches):
    stats = calibrate(tiny_mlp, mlp_batches)
    group = find_unit_groups(tiny_mlp, mlp_batches[0])[0]
    curve = error_curve(tiny_mlp, group, stats)
    assert curve.shape == (group.size + 1,)
    assert np.all(np.diff(curve) <= 1e-6 * curve[0])
    assert curve[-1] <= 1e-5 * curve[0]  # only the ridge is left


def test_global_budget_keeps_the_total_and_favours_the_costly_group(tiny_mlp, mlp_batches):
    with torch.no_grad():  # make group "2" matter much more to the output
        tiny_mlp[4].weight.mul_(50.0)
    groups = find_unit_groups(tiny_mlp, mlp_batches[0])
    fractions = allocate_global_budget(tiny_mlp, groups, calibrate(tiny_mlp, mlp_batches), 0.5)
    total = sum(round(fractions[g.name] * g.size) for g in groups)
    assert total == round(0.5 * (24 + 16))
    assert fractions["2"] > fractions["0"]


def test_global_plan_applies(tiny_mlp, mlp_batches):
    plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, calibration=mlp_batches, budget="global")
    reduced = apply_plan(tiny_mlp, plan)
    assert sum(p.kept.size for p in plan.groups) == 20
    assert reduced(mlp_batches[0]).shape == (32, 3)


def test_global_budget_needs_data(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="budget='global'"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), fold="exact", budget="global")
    with pytest.raises(InvalidParameterError, match="'budget' parameter"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), fold="exact", budget="layer")


def test_precomputed_calibration_is_accepted(tiny_mlp, mlp_batches):
    stats = calibrate(tiny_mlp, mlp_batches)
    from_stats = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, method="activation", calibration=stats)
    from_batches = plan_reduction(
        tiny_mlp, mlp_batches[0], keep=0.5, method="activation", calibration=mlp_batches, sequential=False
    )
    assert [p.kept.tolist() for p in from_stats.groups] == [p.kept.tolist() for p in from_batches.groups]
    x = mlp_batches[0]
    torch.testing.assert_close(apply_plan(tiny_mlp, from_stats)(x), apply_plan(tiny_mlp, from_batches)(x))
