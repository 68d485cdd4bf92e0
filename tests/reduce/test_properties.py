"""Property tests over random small architectures and keep fractions."""

import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

from netgraph import apply_plan, plan_reduction


@settings(deadline=None, max_examples=12)
@given(
    widths=st.lists(st.integers(2, 12), min_size=1, max_size=3),
    keep=st.floats(0.05, 1.0),
    fold=st.sampled_from(["none", "exact", "lstsq"]),
    seed=st.integers(0, 1000),
)
# Issue 9: the second group's kept units were dead on the data, so the refitted third layer's
# rows were all proportional and merging "exact duplicates" kept 2 of 6 units instead of 3.
@example(widths=[2, 3, 6], keep=0.5, fold="lstsq", seed=0)
def test_random_mlps_shrink_as_planned(widths, keep, fold, seed):
    torch.manual_seed(seed)
    layers, previous = [], 5
    for width in widths:
        layers += [nn.Linear(previous, width), nn.ReLU()]
        previous = width
    model = nn.Sequential(*layers, nn.Linear(previous, 3)).eval()
    data = [torch.randn(16, 5) for _ in range(3)]
    plan = plan_reduction(model, data[0], keep=keep, fold=fold, calibration=data if fold != "exact" else None)
    reduced = apply_plan(model, plan)
    for group_plan, width in zip(plan.groups, widths):
        expected = min(width, max(1, round(keep * width)))
        assert group_plan.kept.size == expected
        assert dict(reduced.named_modules())[group_plan.group.name].out_features == expected
    assert reduced(data[0]).shape == (16, 3)
    if keep == 1.0 or all(p.kept.size == p.group.size for p in plan.groups):
        torch.testing.assert_close(reduced(data[0]), model(data[0]), rtol=1e-4, atol=1e-4)


@settings(deadline=None, max_examples=8)
@given(
    channels=st.tuples(st.integers(2, 6), st.integers(2, 6)),
    kernel=st.sampled_from([1, 3]),
    keep=st.floats(0.1, 1.0),
    seed=st.integers(0, 1000),
)
def test_random_cnns_shrink_as_planned(channels, kernel, keep, seed):
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, channels[0], kernel, padding=kernel // 2), nn.BatchNorm2d(channels[0]), nn.ReLU(),
        nn.Conv2d(channels[0], channels[1], kernel, padding=kernel // 2), nn.ReLU(),
        nn.Flatten(), nn.Linear(channels[1] * 16, 2),
    ).eval()
    data = [torch.randn(8, 1, 4, 4) for _ in range(3)]
    plan = plan_reduction(model, data[0], keep=keep, calibration=data)
    reduced = apply_plan(model, plan)
    kept = [p.kept.size for p in plan.groups]
    assert reduced[0].out_channels == reduced[1].num_features == kept[0]
    assert reduced[6].in_features == kept[1] * 16
    assert reduced(data[0]).shape == (8, 2)
