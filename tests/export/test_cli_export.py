"""``netgraph export`` and ``netgraph reduce --export onnx`` (CliRunner, exit codes, files)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from netgraph_cli.main import app

pytestmark = pytest.mark.requires("onnx", "onnxscript", "onnxruntime")


def _onnx_matches(path, model, x):
    from netgraph.export import onnx_session, run_onnx

    got = run_onnx(onnx_session(path, threads=1), x)[0]
    with torch.no_grad():
        want = model(x).numpy()
    return got.shape == want.shape and np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


@pytest.mark.slow
def test_export_model_spec(factory, runner):
    out = factory / "exported" / "cnn.onnx"
    result = runner.invoke(app, ["-q", "export", "exporttiny:make_cnn", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "relative" in result.stdout and out.is_file()
    import exporttiny

    assert _onnx_matches(out, exporttiny.make_cnn().eval(), torch.randn(5, 1, 8, 8))


@pytest.mark.slow
def test_reduce_then_export_the_reduced_folder(factory, runner):
    reduced_dir = factory / "reduced"
    result = runner.invoke(app, ["-q", "reduce", "exporttiny:make_cnn", "--data", str(factory / "x.npy"), "--keep", "0.5",
                                 "--method", "magnitude", "--fold", "none", "--format", "json", "--out", str(reduced_dir)])
    assert result.exit_code == 0, result.output
    out = factory / "reduced.onnx"
    # The folder's report.json names the original model, so --model is not needed.
    result = runner.invoke(app, ["-q", "export", str(reduced_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    import exporttiny
    from netgraph import load_reduced

    reduced = load_reduced(exporttiny.make_cnn(), reduced_dir).eval()
    assert reduced[0].out_channels == 4
    assert _onnx_matches(out, reduced, torch.randn(3, 1, 8, 8))


def test_reduced_folder_without_record_needs_model(factory, runner):
    folder = factory / "bare"
    folder.mkdir()
    (folder / "plan.json").write_text("{}")
    result = runner.invoke(app, ["export", str(folder), "--out", str(factory / "m.onnx")])
    assert result.exit_code == 2
    assert "--model" in result.stderr and "Traceback" not in result.output


def test_out_must_end_in_onnx(factory, runner):
    result = runner.invoke(app, ["export", "exporttiny:make_cnn", "--out", str(factory / "m.bin")])
    assert result.exit_code == 2
    assert ".onnx" in result.stderr
    assert not (factory / "m.bin").exists()


@pytest.mark.slow
def test_reduce_export_onnx_in_one_go_with_round_to(factory, runner):
    out = factory / "reduced8"
    result = runner.invoke(app, ["-q", "reduce", "exporttiny:make_cnn", "--data", str(factory / "x.npy"), "--keep", "0.3",
                                 "--method", "magnitude", "--fold", "none", "--round-to", "8", "--format", "json",
                                 "--export", "onnx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    import exporttiny
    from netgraph import load_reduced

    reduced = load_reduced(exporttiny.make_cnn(), out).eval()
    # Linear(32, 16) keeps 0.3 × 16 = 4.8 → 5 units, rounded to 8; the conv keeps 2.4 → 8 of 8.
    assert reduced[5].out_features == 8
    assert (out / "model.onnx").is_file()
    assert _onnx_matches(out / "model.onnx", reduced, torch.randn(2, 1, 8, 8))
