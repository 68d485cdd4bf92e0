"""A model is refused only when nothing in it is reducible, and an empty reduction is never silent."""

import pytest
import torch
from torch import nn

from netgraph import UnsupportedModelError, plan_reduction


def test_nothing_reducible_is_an_error_naming_the_groups_and_what_to_do():
    model = nn.Sequential(nn.Conv2d(3, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=2), nn.ReLU(), nn.Conv2d(8, 2, 1))
    with pytest.raises(UnsupportedModelError, match="Nothing in this model is reducible") as error:
        plan_reduction(model.eval(), torch.randn(2, 3, 8, 8), keep=0.5, fold="none")
    message = str(error.value)
    assert "grouped convolution 2" in message and "\n" not in message


def test_a_single_layer_model_is_refused_with_a_reason():
    with pytest.raises(UnsupportedModelError, match="no layer pair netgraph can cut"):
        plan_reduction(nn.Linear(4, 2), torch.randn(2, 4), keep=0.5, fold="none")


def test_an_empty_reduction_warns():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with pytest.warns(UserWarning, match="removes no unit"):
        plan = plan_reduction(model, torch.randn(2, 4), keep=1.0, fold="none")
    assert not any(p.dropped.size for p in plan.groups)
