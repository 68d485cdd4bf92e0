"""ONNX export: onnxruntime reproduces the (reduced) model within the stated tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from netgraph import apply_plan, plan_reduction
from netgraph.errors import InvalidParameterError, NetgraphError

pytestmark = pytest.mark.requires("onnx", "onnxscript", "onnxruntime")

RTOL = 1e-4  # the target: max |onnxruntime - torch| <= 1e-4 × max |torch|


def _reduced(model, example, keep=0.5):
    plan = plan_reduction(model, example, keep=keep, method="magnitude", fold="none")
    return apply_plan(model, plan).eval()


def _check_round_trip(model, example, other_batch, path):
    from netgraph.export import export_onnx, onnx_session, run_onnx

    result = export_onnx(model, example, path)
    assert result.path == path and path.is_file()
    assert result.relative_diff is not None and result.relative_diff <= RTOL
    # A batch of another size runs too (the batch dimension is dynamic) and still matches.
    outputs = run_onnx(onnx_session(path, threads=1), other_batch)
    with torch.no_grad():
        want = model(other_batch).numpy()
    assert outputs[0].shape == want.shape
    assert np.abs(outputs[0] - want).max() <= RTOL * np.abs(want).max()
    return result


@pytest.mark.slow
def test_reduced_mlp_round_trips(tiny_mlp, tmp_path):
    example = torch.randn(8, 10)
    reduced = _reduced(tiny_mlp, example)
    assert reduced[0].out_features == 12
    _check_round_trip(reduced, example, torch.randn(5, 10), tmp_path / "mlp.onnx")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_reduced_cnn_with_batchnorm_round_trips(tiny_cnn, tmp_path):
    example = torch.randn(8, 1, 8, 8)
    reduced = _reduced(tiny_cnn, example)
    assert reduced.conv1.out_channels < tiny_cnn.conv1.out_channels
    _check_round_trip(reduced, example, torch.randn(3, 1, 8, 8), tmp_path / "cnn.onnx")


@pytest.mark.slow
def test_reduced_residual_cnn_round_trips(tiny_resnet, tmp_path):
    example = torch.randn(8, 1, 8, 8)
    reduced = _reduced(tiny_resnet, example)
    assert sum(p.numel() for p in reduced.parameters()) < sum(p.numel() for p in tiny_resnet.parameters())
    _check_round_trip(reduced, example, torch.randn(3, 1, 8, 8), tmp_path / "resnet.onnx")


@pytest.mark.slow
@pytest.mark.requires("transformers")
def test_reduced_minilm_round_trips_with_named_inputs(tmp_path):
    from netgraph import zoo
    from netgraph.export import export_onnx, onnx_session, run_onnx

    model = zoo.load_model("minilm")
    batches = zoo.calibration_batches("minilm", n_samples=12, batch_size=6, shuffle=False)
    plan = plan_reduction(model, batches[0], keep=0.5, method="magnitude", fold="none", groups="intermediate")
    reduced = apply_plan(model, plan).eval()
    result = export_onnx(reduced, batches[0], tmp_path / "minilm.onnx")
    assert set(result.input_names) == set(batches[0])
    assert result.relative_diff <= RTOL
    # Another batch: other size, other sequence length.
    other = {key: value[:3, :-2].contiguous() for key, value in batches[1].items()}
    got = run_onnx(onnx_session(result.path, threads=1), other)[0]
    with torch.no_grad():
        want = reduced(**other).last_hidden_state.numpy()
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= RTOL * np.abs(want).max()


@pytest.mark.slow
def test_outputs_beyond_tolerance_leave_no_file(tiny_mlp, tmp_path, monkeypatch):
    from netgraph.export import ExportError, export_onnx
    from netgraph.export import onnx as onnx_module

    monkeypatch.setattr(onnx_module, "_compare", lambda outputs, reference: (1.0, 0.5))
    with pytest.raises(ExportError, match="differ from PyTorch"):
        export_onnx(tiny_mlp, torch.randn(4, 10), tmp_path / "bad.onnx")
    assert list(tmp_path.iterdir()) == []
    assert tiny_mlp.training is False


def test_bad_arguments_fail_before_any_work(tiny_mlp, tmp_path):
    from netgraph.export import export_onnx

    with pytest.raises(InvalidParameterError, match=r"\.onnx"):
        export_onnx(tiny_mlp, torch.randn(2, 10), tmp_path / "model.bin")
    with pytest.raises(InvalidParameterError, match="example_inputs"):
        export_onnx(tiny_mlp, [1, 2], tmp_path / "model.onnx")
    with pytest.raises(InvalidParameterError, match="rtol"):
        export_onnx(tiny_mlp, torch.randn(2, 10), tmp_path / "model.onnx", rtol=0)
    assert list(tmp_path.iterdir()) == []


def test_missing_extra_names_the_install_command(tiny_mlp, tmp_path, monkeypatch):
    import builtins

    from netgraph.export import ExportError, export_onnx

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with pytest.raises(ExportError, match=r"netgraph\[export\]") as caught:
        export_onnx(tiny_mlp, torch.randn(2, 10), tmp_path / "model.onnx")
    assert isinstance(caught.value, NetgraphError)
    assert "\n" not in str(caught.value)
