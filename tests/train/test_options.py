"""TrainingOptions: one validated object behind finetune and distill."""

import pytest
import torch

from netgraph.errors import InvalidParameterError
from netgraph.train import TrainingOptions, distill, finetune


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [({"epochs": 0}, "epochs"), ({"lr": float("nan")}, "lr"), ({"batch_size": 2.5}, "batch_size"),
     ({"patience": 0}, "patience"), ({"weight_decay": -1.0}, "weight_decay"), ({"seed": "x"}, "seed"),
     ({"dropout": 1}, "dropout"), ({"device": "warp-drive"}, "device")],
)
def test_bad_values_name_the_parameter_and_the_function(changes, parameter):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter of distill"):
        TrainingOptions(owner="distill", **changes)


def test_finetune_and_distill_check_through_the_same_object():
    model = torch.nn.Linear(3, 2)
    data = [(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))]
    with pytest.raises(InvalidParameterError, match="'clip_grad_norm' parameter of finetune"):
        finetune(model, data, clip_grad_norm=0.0)
    with pytest.raises(InvalidParameterError, match="'clip_grad_norm' parameter of distill"):
        distill(model, torch.nn.Linear(3, 2), data, clip_grad_norm=0.0)


def test_options_are_frozen_and_normalise_the_device():
    options = TrainingOptions(device="cpu")
    assert options.device == torch.device("cpu")
    with pytest.raises(AttributeError):
        options.lr = 1.0
