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
