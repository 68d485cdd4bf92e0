import math

import pytest
import torch
import torch.nn.functional as F

from netgraph.errors import InvalidParameterError, TrainingError
from netgraph.train import History, finetune
from netgraph.zoo import accuracy



def test_finetune_repairs_a_damaged_model(trained_mlp, digits):
    original = accuracy(trained_mlp, digits.test)
    assert original > 0.93
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        trained_mlp[0].weight.mul_((torch.rand(trained_mlp[0].weight.shape, generator=generator) < 0.25).float())
    damaged = accuracy(trained_mlp, digits.test)
    assert damaged < original - 0.1
    history = finetune(trained_mlp, digits.train, epochs=4, lr=2e-3, val_data=digits.val)
    repaired = accuracy(trained_mlp, digits.test)
    assert repaired > damaged + 0.1 and repaired > 0.9
    assert isinstance(history, History) and history.epochs == 4
    assert history.val_metric_name == "val_accuracy" and len(history.val_metric) == 4
    assert history.lr[-1] == pytest.approx(0.0, abs=1e-12)  # cosine schedule ends at 0
    assert history.lr[0] < 2e-3
    assert not trained_mlp.training  # mode restored


def test_same_seed_gives_identical_weights(digits, make_mlp):
    states = []
    for _ in range(2):
        model = make_mlp()
        finetune(model, digits.train, epochs=1, seed=3)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    other = make_mlp()
    finetune(other, digits.train, epochs=1, seed=4)
    assert not torch.equal(other[0].weight, states[0]["0.weight"])


def test_early_stopping_restores_the_best_epoch(trained_mlp, digits):
    X, y = digits.train.tensors
    wrong = torch.utils.data.TensorDataset(X, (y + 1) % 10)  # training on wrong labels hurts val accuracy
    snapshots = {}

    def remember(event):
        if event["event"] == "epoch":
            snapshots[event["epoch"]] = {k: v.clone() for k, v in trained_mlp.state_dict().items()}

    history = finetune(trained_mlp, wrong, epochs=10, lr=3e-3, val_data=digits.val, patience=2, callback=remember)
    assert history.stopped_early and history.epochs < 10
    best = history.best_epoch
    assert history.val_metric[best - 1] == max(history.val_metric)
    assert history.epochs == best + 2  # patience ran out two epochs after the best
    assert all(torch.equal(trained_mlp.state_dict()[k], snapshots[best][k]) for k in snapshots[best])
    assert accuracy(trained_mlp, digits.val) == pytest.approx(history.best_val_metric)


def test_nan_loss_raises_and_keeps_last_good_weights(digits, make_mlp):
    model = make_mlp()
    calls = {"n": 0}
    steps_per_epoch = math.ceil(len(digits.train) / 64)
    epoch_end = {}

    def flaky_loss(outputs, targets):
        calls["n"] += 1
        loss = F.cross_entropy(outputs, targets)
        return loss * float("nan") if calls["n"] == steps_per_epoch + 3 else loss

    def remember(event):
        if event["event"] == "epoch":
            epoch_end[event["epoch"]] = {k: v.clone() for k, v in model.state_dict().items()}

    with pytest.raises(TrainingError, match="epoch 2"):
        finetune(model, digits.train, epochs=3, loss=flaky_loss, callback=remember)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert all(torch.equal(model.state_dict()[k], epoch_end[1][k]) for k in epoch_end[1])


def test_callback_reports_steps_and_epochs(tiny_dataset, make_mlp):
    events = []
    finetune(make_mlp(), tiny_dataset, epochs=2, batch_size=16, callback=events.append)
    steps = [e for e in events if e["event"] == "step"]
    epochs = [e for e in events if e["event"] == "epoch"]
    assert len(steps) == 6 and [e["step"] for e in steps] == list(range(1, 7))
    assert [e["epoch"] for e in epochs] == [1, 2] and events[-1]["event"] == "end"
    assert all(math.isfinite(e["loss"]) for e in steps)


def test_list_of_batches_and_custom_loss():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    X = torch.randn(64, 3)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    batches = [(X[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
    history = finetune(model, batches, epochs=60, lr=5e-2, loss=F.mse_loss, val_data=batches)
    assert history.val_metric_name == "val_loss" and not history.greater_is_better
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]
    assert torch.allclose(model.weight, torch.tensor([[1.0, -2.0, 0.5]]), atol=0.1)


def test_shape_mismatch_names_expected_and_actual(digits):
    lenet_like = torch.nn.Sequential(torch.nn.Linear(784, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    with pytest.raises(InvalidParameterError, match=r"expected input \(batch, \.\.\., 784\), got \(64, 64\)"):
        finetune(lenet_like, digits.train, epochs=1)


def test_labels_out_of_range_are_rejected(tiny_dataset, make_mlp):
    X, y = tiny_dataset.tensors
    bad = torch.utils.data.TensorDataset(X, y + 10)
    with pytest.raises(InvalidParameterError, match=r"labels must lie in \[0, 10\)"):
        finetune(make_mlp(), bad, epochs=1)
    floats = torch.utils.data.TensorDataset(X, y.float())
    with pytest.raises(InvalidParameterError, match="integers"):
        finetune(make_mlp(), floats, epochs=1)


@pytest.mark.parametrize(
    "data, kwargs, message",
    [
        (torch.utils.data.TensorDataset(torch.zeros(0, 64), torch.zeros(0, dtype=torch.long)), {}, "non-empty"),
        ([], {}, "non-empty"),
        ("digits", {}, "Dataset, a DataLoader or a list"),
        (None, {"epochs": 0}, "'epochs' parameter of finetune"),
        (None, {"lr": -1.0}, "'lr' parameter of finetune"),
        (None, {"patience": 0}, "'patience' parameter of finetune"),
    ],
)
def test_bad_arguments(data, kwargs, message, tiny_dataset, make_mlp):
    with pytest.raises(InvalidParameterError, match=message):
        finetune(make_mlp(), tiny_dataset if data is None else data, **kwargs)


def test_unlabelled_data_needs_a_loss(make_mlp):
    with pytest.raises(InvalidParameterError, match="labelled"):
        finetune(make_mlp(), [torch.randn(8, 64)], epochs=1)
