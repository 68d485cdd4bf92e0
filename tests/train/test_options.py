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


def test_run_training_hooks_and_constant_schedule():
    from netgraph.train.data import make_batches
    from netgraph.train.loop import run_training

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    data = [(torch.randn(8, 3), torch.randint(0, 2, (8,))) for _ in range(3)]
    events = []

    class Handle:
        def remove(self):
            events.append("removed")

    def attach(net, optimizer):
        events.append(type(optimizer).__name__)
        return [Handle()]

    seen_lr = []
    options = TrainingOptions(epochs=2, lr=0.05, schedule="constant", seed=None, clip_grad_norm=None)
    history = run_training(model, make_batches(data, batch_size=8, shuffle=False, seed=0, owner="t"),
                           lambda net, x, y: torch.nn.functional.cross_entropy(net(x), y), options,
                           parameters=[model.weight], attach=attach,
                           callback=lambda e: seen_lr.append(e["lr"]) if e["event"] == "step" else None)
    assert events == ["AdamW", "removed"]
    assert set(seen_lr) == {0.05} and len(history.train_loss) == 2
    assert model.bias.grad is None  # only the given parameters train; grads are cleared afterwards
