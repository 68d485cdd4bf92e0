"""The ``compress`` command, registered on a throwaway Typer app (main.py registers it for real)."""

import json

import pytest

typer = pytest.importorskip("typer")
command = pytest.importorskip("netgraph_cli.commands.compress")
from typer.testing import CliRunner  # noqa: E402


@pytest.fixture
def app():
    application = typer.Typer()
    application.command(name="compress")(command.compress)

    @application.command()
    def other() -> None:  # a second command keeps "compress" a subcommand
        pass

    return application


def test_help_lists_options(app):
    result = CliRunner().invoke(app, ["compress", "--help"])
    assert result.exit_code == 0
    for option in ("--lowrank", "--prune", "--quantize-bits", "--huffman", "--finetune-epochs", "--out"):
        assert option in result.output


def test_nothing_to_do_is_bad_input(app, tmp_path):
    result = CliRunner().invoke(app, ["compress", "zoo:mlp-digits", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--prune" in result.output


@pytest.mark.slow
def test_compress_zoo_model_writes_ngz(app, tmp_path):
    result = CliRunner().invoke(
        app, ["compress", "zoo:mlp-digits", "--prune", "0.8", "--quantize-bits", "5", "--huffman", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ngz_bytes"] == (tmp_path / "model.ngz").stat().st_size
    assert report["compression_ratio"] > 5


@pytest.fixture
def whole_model(tmp_path):
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(0)
    torch.save(nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)), tmp_path / "whole.pt")
    generator = np.random.default_rng(0)
    np.savez(tmp_path / "xy.npz", x=generator.normal(size=(60, 6)).astype(np.float32), y=generator.integers(0, 3, 60))
    bad = generator.normal(size=(60, 6)).astype(np.float32)
    bad[3, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    return tmp_path


def test_shared_options_reach_compress(app, whole_model):
    """--unsafe-pickle, -o, -d, -f and --samples are the shared options of every command."""
    out = whole_model / "out"
    args = ["compress", str(whole_model / "whole.pt"), "--prune", "0.5", "-o", str(out)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "--unsafe-pickle" in refused.output and not out.exists()
    result = CliRunner().invoke(app, [*args, "--unsafe-pickle", "-d", str(whole_model / "xy.npz"), "--lowrank", "0.5",
                                      "-f", "json,md", "--samples", "32"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [".netgraph-output", "model.ngz", "report.json", "report.md"]
    assert 0 <= json.loads((out / "report.json").read_text())["accuracy_after"] <= 1
    # A rerun with fewer formats replaces the folder whole: no stale report.md.
    rerun = CliRunner().invoke(app, [*args, "--unsafe-pickle", "-f", "json"])
    assert rerun.exit_code == 0, rerun.output
    assert sorted(p.name for p in out.iterdir()) == [".netgraph-output", "model.ngz", "report.json"]


def test_nan_data_is_bad_input_not_a_crash(app, whole_model):
    out = whole_model / "out"
    result = CliRunner().invoke(app, ["compress", str(whole_model / "whole.pt"), "--unsafe-pickle", "--lowrank", "0.5",
                                      "--data", str(whole_model / "nan.npy"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "NaN" in result.output and "Traceback" not in result.output
    assert not out.exists()
