import json

import pytest
import torch
from torch import nn

from netgraph.compress import load_factorized, lowrank_factorize, save_factorized
from netgraph.compress.lowrank import svd_linear
from netgraph.compress.tucker import cp_conv, tucker2_conv
from netgraph.errors import CheckpointError, InvalidParameterError


def test_full_rank_svd_equals_linear():
    torch.manual_seed(0)
    layer = nn.Linear(12, 7)
    x = torch.randn(30, 12)
    factorized = svd_linear(layer, 7)
    assert torch.allclose(factorized(x), layer(x), atol=1e-5)
    assert all(isinstance(m, nn.Linear) for m in factorized)


def test_full_rank_whitened_svd_equals_linear():
    torch.manual_seed(0)
    layer = nn.Linear(12, 7)
    x = torch.randn(300, 12) * torch.linspace(0.1, 3, 12)
    moment = (x.double().T @ x.double() / len(x)).numpy()
    assert torch.allclose(svd_linear(layer, 7, input_moment=moment)(x), layer(x), atol=1e-4)


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), (1, "same")])
def test_full_rank_tucker2_equals_conv(stride, padding):
    torch.manual_seed(0)
    conv = nn.Conv2d(5, 9, 3, stride=stride, padding=padding)
    x = torch.randn(2, 5, 10, 10)
    for moment in (None, torch.eye(5).numpy() * 2.0):
        factorized = tucker2_conv(conv, (5, 9), input_moment=moment, hooi_iterations=1)
        assert torch.allclose(factorized(x), conv(x), atol=1e-5)
        assert [m.kernel_size for m in factorized] == [(1, 1), (3, 3), (1, 1)]


def test_cp_with_enough_rank_reproduces_conv():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(2, 3, 8, 8)
    factorized = cp_conv(conv, 36)
    assert [m.groups for m in factorized] == [1, 36, 36, 1]
    assert torch.allclose(factorized(x), conv(x), atol=1e-3)


def test_ratio_and_rank_honoured(tiny_mlp):
    result = lowrank_factorize(tiny_mlp, rank=4)
    assert [layer.ranks for layer in result.layers if layer.method == "svd"] == [[4], [4]]
    assert result.model[0][0].out_features == 4
    # 16 -> 4 with rank 4 would not save parameters: skipped and left a plain Linear
    assert result.layers[-1].method == "skipped" and isinstance(result.model[4], nn.Linear)
    result = lowrank_factorize(tiny_mlp, ratio=0.25)
    for layer in result.layers:
        if layer.method == "svd":  # rank is at least 1, whatever the ratio
            assert layer.parameters_after <= 0.25 * layer.parameters_before or layer.ranks == [1]
    assert isinstance(tiny_mlp[0], nn.Linear)  # the input model is untouched


def test_energy_picks_smallest_sufficient_rank():
    torch.manual_seed(0)
    u, _ = torch.linalg.qr(torch.randn(40, 40))
    v, _ = torch.linalg.qr(torch.randn(30, 30))
    singular = torch.tensor([10.0, 5.0, 1.0] + [1e-3] * 27)
    layer = nn.Linear(30, 40)
    with torch.no_grad():
        layer.weight.copy_(u[:, :30] @ torch.diag(singular) @ v.T)
    model = nn.Sequential(layer)
    assert lowrank_factorize(model, energy=0.99).layers[0].ranks == [2]
    assert lowrank_factorize(model, energy=0.999).layers[0].ranks == [3]


def test_whitened_beats_plain_on_anisotropic_inputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 8))
    x = torch.randn(512, 32) * torch.logspace(-2, 1, 32)
    reference = model(x)
    errors = {}
    for name, calibration in (("plain", None), ("whitened", x)):
        out = lowrank_factorize(model, rank={"0": 4}, calibration=calibration).model(x)
        errors[name] = float((out - reference).detach().norm())
    assert errors["whitened"] < errors["plain"]


def test_global_scope_respects_budget(tiny_mlp):
    result = lowrank_factorize(tiny_mlp, ratio=0.3, scope="global", skip_unprofitable=False)
    report = result.report()
    assert report["parameters_after"] <= 0.3 * report["parameters_before"] + 1e-9


def test_save_load_round_trip(tiny_cnn, tmp_path):
    tiny_cnn.eval()
    x = torch.randn(4, 3, 8, 8)
    tiny_cnn(x)
    result = lowrank_factorize(tiny_cnn, ratio=0.5, calibration=x)
    save_factorized(result.model, tmp_path)
    spec = json.loads((tmp_path / "lowrank.json").read_text())
    assert spec["format"] == "netgraph-lowrank" and set(spec["layers"]) == {
        n for n, e in result.spec.items()
    }
    loaded = load_factorized(tiny_cnn, tmp_path).eval()
    assert torch.equal(loaded(x), result.model.eval()(x))
    assert not any(p.suffix == ".tmp" for p in tmp_path.iterdir())


def test_load_rejects_damaged_files(tiny_mlp, tmp_path):
    result = lowrank_factorize(tiny_mlp, rank=3)
    save_factorized(result.model, tmp_path)
    data = (tmp_path / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_factorized(tiny_mlp, tmp_path)
    with pytest.raises(CheckpointError):
        load_factorized(tiny_mlp, tmp_path / "missing")


@pytest.mark.parametrize(
    "kwargs,parameter",
    [
        ({"ratio": 1.5}, "ratio"),
        ({"ratio": 0.0}, "ratio"),
        ({"energy": 0.0}, "energy"),
        ({"rank": 0}, "rank"),
        ({"ratio": 0.5, "energy": 0.9}, "ratio"),
        ({}, "ratio"),
        ({"ratio": 0.5, "scope": "model"}, "scope"),
        ({"ratio": 0.5, "conv_method": "svd"}, "conv_method"),
    ],
)
def test_bad_parameters_are_named(tiny_mlp, kwargs, parameter):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}'"):
        lowrank_factorize(tiny_mlp, **kwargs)
