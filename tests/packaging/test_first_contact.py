"""What a new user meets first: help that fits 80 columns, clean errors, one training bar."""

from __future__ import annotations

import re

import pytest

from netgraph_cli.main import app


@pytest.fixture()
def runner():
    from typer.testing import CliRunner

    return CliRunner()


def test_usage_errors_do_not_mention_a_missing_environment_variable(runner):
    result = runner.invoke(app, ["reduce", "zoo:mlp-digits", "--out", "x", "--keep", "abc"], env={"COLUMNS": "80"})
    assert result.exit_code == 2
    assert "--keep" in result.output
    assert "env var" not in result.output


def test_help_lists_every_method_unbroken_at_80_columns(runner):
    from netgraph_cli.options import Method

    result = runner.invoke(app, ["reduce", "--help"], env={"COLUMNS": "80", "TERM": "dumb"})
    assert result.exit_code == 0
    text = re.sub(r"[│╭╮╰╯─]", " ", result.output)
    words = set(re.findall(r"[a-z][a-z-]*[a-z]", text))
    for method in Method:
        assert method.value in words, f"{method.value!r} is split across lines or missing in reduce --help"
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_epoch_messages_make_one_progress_bar(capsys, monkeypatch):
    from netgraph_cli import progress
    from netgraph_cli.state import STATE

    monkeypatch.setattr(STATE, "quiet", False)
    for epoch in range(1, 41):
        progress.status(f"cnn-digits: epoch {epoch}/40, loss {1 / epoch:.4f}")
    progress.status("Loading done")
    err = capsys.readouterr().err
    assert "epoch 1/40" not in err and "epoch 39/40" not in err
    assert "40/40" in err and "Loading done" in err
    assert len(err.strip().splitlines()) <= 3


def test_quiet_silences_the_bar(capsys, monkeypatch):
    from netgraph_cli import progress
    from netgraph_cli.state import STATE

    monkeypatch.setattr(STATE, "quiet", True)
    progress.status("cnn-digits: epoch 1/2, loss 0.5")
    progress.status("cnn-digits: epoch 2/2, loss 0.4")
    assert capsys.readouterr().err == ""
