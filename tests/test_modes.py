"""eval_mode and the mode snapshot give back every submodule's train/eval flag."""

import pytest
import torch
from torch import nn

from netgraph import plan_reduction
from netgraph.modes import eval_mode, restore_modes, training_modes


def _mixed():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)).train()
    model[1].eval()
    return model


def test_eval_mode_restores_mixed_modes_even_after_an_error():
    model = _mixed()
    with pytest.raises(RuntimeError):
        with eval_mode(model):
            assert not any(m.training for m in model.modules())
            raise RuntimeError("boom")
    assert [m.training for m in model.modules()] == [True, True, False, True, True]


def test_snapshot_round_trip():
    model = _mixed()
    saved = training_modes(model)
    model.eval()
    restore_modes(model, saved)
    assert training_modes(model) == saved


def test_planning_leaves_a_frozen_batchnorm_frozen():
    model = _mixed()
    plan_reduction(model, torch.randn(4, 4), keep=0.5, fold="exact")
    assert model.training and not model[1].training
