"""Every input is checked before anything heavy runs; output folders hold exactly one run."""

from __future__ import annotations

import pytest

MODEL = "clitiny:make_mlp"


def _fail_if_called(*args, **kwargs):
    raise AssertionError("heavy work started before the inputs were checked")


def _error_line(result):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args, words",
    [
        (["analyze", "zoo:mlp-digits", "--data", "missing.npy"], "does not exist"),
        (["analyze", "zoo:mlp-digits", "--data", "zoo:nothing"], "Unknown zoo data set"),
        (["analyze", "zoo:mlp-digits", "--out", "afile/sub"], "which is a file"),
        (["reduce", "zoo:mlp-digits", "--out", "afile"], "is a file"),
        (["reduce", "zoo:mlp-digits", "--keep", "0", "--out", "o"], "--keep"),
        (["reduce", "zoo:mlp-digits", "--out", "mine"], "did not write"),
        (["reduce", "zoo:mlp-digits", "--out", ""], "current folder"),  # '' is the current folder
        (["reduce", "zoo:mlp-digits", "--out", ".."], "current folder"),
        (["reduce", "clitiny:make_mlp", "--weights", "afolder", "--out", "o"], "is a folder"),
        (["demo", "--keep", "0", "--out", "o"], "--keep"),
        (["reduce", "zoo:mlp-digits", "--groups", "fc(", "--out", "o"], "regular expression"),
        (["reduce", "zoo:mlp-digits", "--reference-data", "missing.npy", "--out", "o"], "does not exist"),
        (["visualize", "zoo:mlp-digits", "--out", "afile"], "is a file"),
        (["compress", "zoo:mlp-digits", "--prune", "0.5", "--out", "afile"], "is a file"),
        (["compress", "zoo:mlp-digits", "--lowrank", "0.5", "--data", "missing.npy", "--out", "o"], "does not exist"),
    ],
)
def test_bad_inputs_fail_before_any_model_loads(runner, app, factory, monkeypatch, args, words):
    import netgraph.sources.models as models
    from netgraph import zoo

    monkeypatch.chdir(factory)
    (factory / "afile").write_text("a file")
    (factory / "afolder").mkdir()
    (factory / "mine").mkdir()
    (factory / "mine" / "notes.txt").write_text("the user's own file")
    monkeypatch.setattr(zoo, "load_model", _fail_if_called)
    monkeypatch.setattr(models, "_load_factory", _fail_if_called)
    line = _error_line(runner.invoke(app, ["--quiet", *args]))
    assert words in line
    assert not (factory / "o").exists()
    assert (factory / "mine" / "notes.txt").read_text() == "the user's own file"


def test_a_read_only_out_parent_is_refused_before_work(runner, app, factory, monkeypatch):
    import os

    import netgraph.sources.models as models

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(factory) else real_access(path, mode))
    monkeypatch.setattr(models, "_load_factory", _fail_if_called)
    line = _error_line(runner.invoke(app, ["--quiet", "reduce", MODEL, "--out", str(factory / "out")]))
    assert "not writable" in line


def test_rerun_with_fewer_formats_leaves_no_stale_report(runner, app, factory):
    out = factory / "out"
    base = ["--quiet", "reduce", MODEL, "--data", str(factory / "xy.npz"), "--method", "magnitude", "--out", str(out)]
    assert runner.invoke(app, base).exit_code == 0
    assert (out / "report.html").is_file()
    result = runner.invoke(app, [*base, "--format", "json", "--keep", "0.25"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [".netgraph-output", "model.safetensors", "plan.json", "report.json"]
    assert [p.name for p in factory.iterdir() if ".staging" in p.name or ".old" in p.name] == []


def test_stale_staging_is_removed_and_listed(runner, app, factory):
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    stale = factory / f".out.staging-{process.pid}-0badc0de"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"x" * 1000)
    result = runner.invoke(app, ["reduce", MODEL, "--data", str(factory / "xy.npz"), "--method", "magnitude",
                                 "--format", "json", "--out", str(factory / "out")])
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert f"Removed {stale}" in result.stderr.replace("\n", "")


def test_thin_calibration_is_warned_even_when_quiet(runner, app, factory):
    out = factory / "out"
    result = runner.invoke(app, ["--quiet", "reduce", MODEL, "--data", str(factory / "xy.npz"), "--samples", "2",
                                 "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Warning: " in result.stderr and "calibration samples" in result.stderr
    import json

    report = json.loads((out / "report.json").read_text())
    assert any("data-free exact fold" in line for line in report["warnings"])
