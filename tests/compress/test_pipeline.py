import pytest
import torch
from torch import nn

from netgraph.compress import compress_model, decode_ngz, encode_ngz, finetune
from netgraph.errors import InvalidParameterError, TrainingError


def test_compress_model_full_pipeline(tiny_mlp, classification_batches):
    compressed, report = compress_model(
        tiny_mlp,
        lowrank=0.5,
        prune=0.5,
        quantize_bits=3,
        huffman=True,
        calibration=[x for x, _ in classification_batches],
        finetune_data=classification_batches,
        finetune_epochs=1,
    )
    assert [stage["stage"] for stage in report["stages"]] == ["lowrank", "prune", "quantize"]
    assert report["parameters_after"] < report["parameters_before"]
    assert report["ngz_bytes"] == len(encode_ngz(compressed, huffman=True))
    assert report["compression_ratio"] > 1
    for name, tensor in compressed.state_dict().items():
        if name.endswith("weight"):
            assert torch.unique(tensor[tensor != 0]).numel() <= 8
    assert isinstance(tiny_mlp[0], nn.Linear) and (tiny_mlp[0].weight != 0).all()  # input untouched
    decoded, _ = decode_ngz(encode_ngz(compressed))
    assert all(torch.equal(decoded[k], v) for k, v in compressed.state_dict().items())


def test_prune_only_reports_sizes(tiny_mlp):
    _, report = compress_model(tiny_mlp, prune=0.9)
    assert report["ngz_bytes"] < report["dense_bytes_before"]
    assert report["stages"][0]["sparsity"]["0"] == pytest.approx(0.9, abs=1e-3)


@pytest.mark.parametrize(
    "kwargs,parameter",
    [
        ({"lowrank": 1.0}, "lowrank"),
        ({"prune": -0.5}, "prune"),
        ({"quantize_bits": 0}, "quantize_bits"),
        ({"prune": 0.5, "finetune_epochs": 2}, "finetune_data"),
        ({"prune": 0.5, "finetune_epochs": -1}, "finetune_epochs"),
        ({"prune": 0.5, "huffman": "yes"}, "huffman"),
    ],
)
def test_bad_parameters_named(tiny_mlp, kwargs, parameter):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}'"):
        compress_model(tiny_mlp, **kwargs)


def test_finetune_stops_on_nan(tiny_mlp, classification_batches):
    with pytest.raises(TrainingError):
        finetune(tiny_mlp, classification_batches, epochs=1, loss_fn=lambda out, y: out.sum() * float("nan"))
