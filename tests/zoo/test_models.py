import pytest
import torch

from netgraph.errors import InvalidParameterError
from netgraph.zoo import (
    MODELS,
    accuracy,
    calibration_batches,
    evaluate,
    example_inputs,
    load_dataset,
    load_model,
    model_dataset,
)

FLOORS = {"mlp-digits": 0.95, "cnn-digits": 0.97, "lenet-300-100": 0.91, "resnet-digits": 0.97}


@pytest.mark.parametrize(
    "name",
    ["mlp-digits", "cnn-digits", pytest.param("lenet-300-100", marks=pytest.mark.slow), "resnet-digits"],
)
def test_trained_model_beats_accuracy_floor(name, zoo_cache):
    model = load_model(name, cache_dir=zoo_cache)
    assert not model.training
    assert evaluate(name, model, "test") >= FLOORS[name]
    out = model(example_inputs(name))
    assert out.shape == (4, 10)


def test_readable_module_names(zoo_cache):
    names = {n for n, _ in load_model("resnet-digits", cache_dir=zoo_cache).named_modules()}
    assert {"conv1", "bn1", "layer1.0.conv1", "layer2.0.downsample.0", "layer2.1.conv2", "fc"} <= names
    mlp = load_model("mlp-digits", cache_dir=zoo_cache)
    assert (mlp.fc1.in_features, mlp.fc1.out_features, mlp.fc2.out_features, mlp.fc3.out_features) == (64, 300, 100, 10)
    cnn = load_model("cnn-digits", cache_dir=zoo_cache)
    assert (cnn.conv1.out_channels, cnn.conv2.out_channels, cnn.fc.in_features) == (32, 64, 64)


def test_accuracy_restores_mode_and_matches_manual(zoo_cache):
    model = load_model("mlp-digits", cache_dir=zoo_cache).train()
    test = load_dataset("digits").test
    value = accuracy(model, test)
    assert model.training
    with torch.no_grad():
        model.eval()
        manual = float((model(test.tensors[0]).argmax(1) == test.tensors[1]).float().mean())
    assert value == pytest.approx(manual)


def test_calibration_batches_are_deterministic_and_sized():
    first = calibration_batches("cnn-digits", n_samples=300, batch_size=128)
    assert [b.shape[0] for b in first] == [128, 128, 44]
    assert first[0].shape[1:] == (1, 8, 8)
    second = calibration_batches("cnn-digits", n_samples=300, batch_size=128)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    other_seed = calibration_batches("cnn-digits", n_samples=300, batch_size=128, seed=1)
    assert not torch.equal(first[0], other_seed[0])


def test_model_dataset_names():
    assert model_dataset("lenet-300-100") == "mnist5k"
    assert model_dataset("resnet-digits") == "digits"
    assert model_dataset("minilm") == "text"


@pytest.mark.parametrize("call", [lambda: load_model("vgg"), lambda: example_inputs("vgg"),
                                  lambda: calibration_batches("mlp-digits", n_samples=0)])
def test_bad_names_and_sizes_are_rejected(call):
    with pytest.raises(InvalidParameterError):
        call()


@pytest.mark.slow
def test_training_is_deterministic(tmp_path):
    first = load_model("cnn-digits", cache_dir=tmp_path / "a")
    second = load_model("cnn-digits", cache_dir=tmp_path / "b")
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name


def test_models_tuple_is_public():
    assert MODELS == ("mlp-digits", "cnn-digits", "lenet-300-100", "resnet-digits", "minilm")
