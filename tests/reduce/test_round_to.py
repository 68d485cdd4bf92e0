"""round_to: kept counts rounded to a multiple (e.g. 8) so reduced layers run at fast widths."""

from __future__ import annotations

import pytest
import torch

from netgraph import apply_plan, plan_reduction
from netgraph.errors import InvalidParameterError
from netgraph.reduce.config import ReductionConfig
from netgraph.reduce.planning import _n_keep


@pytest.mark.parametrize(
    ("fraction", "size", "round_to", "expected"),
    [
        (0.3, 24, 8, 8),      # 7.2 → 7 → nearest multiple 8
        (0.5, 1536, 8, 768),  # already a multiple
        (0.25, 300, 8, 72),   # 75 → 72
        (0.01, 64, 8, 8),     # never 0
        (0.99, 20, 8, 20),    # 20 → 24 (ties round up) is capped at the group's size
        (0.5, 6, 8, 3),       # groups smaller than round_to keep the plain count
        (0.3, 24, 1, 7),      # round_to=1 changes nothing
    ],
)
def test_kept_count_rounding(fraction, size, round_to, expected):
    assert _n_keep(fraction, size, round_to) == expected


def test_reduced_widths_are_multiples(tiny_mlp):
    x = torch.randn(16, 10)
    plain = plan_reduction(tiny_mlp, x, keep=0.3, method="magnitude", fold="none")
    rounded = plan_reduction(tiny_mlp, x, keep=0.3, method="magnitude", fold="none", round_to=8)
    assert sorted(p.kept.size for p in plain.groups) == [5, 7]
    assert sorted(p.kept.size for p in rounded.groups) == [8, 8]
    assert rounded.config.round_to == 8
    reduced = apply_plan(tiny_mlp, rounded)
    assert reduced[0].out_features == 8 and reduced[2].out_features == 8
    assert reduced(x).shape == (16, 3)


def test_round_to_is_validated_and_recorded():
    with pytest.raises(InvalidParameterError, match="round_to"):
        ReductionConfig(round_to=0)
    with pytest.raises(InvalidParameterError, match="round_to"):
        ReductionConfig(round_to=True)
    config = ReductionConfig(round_to=8)
    assert ReductionConfig.from_dict(config.to_dict()) == config
    old = config.to_dict()
    del old["round_to"]  # plans saved before round_to existed read back with round_to=1
    assert ReductionConfig.from_dict(old).round_to == 1
