"""CliRunner tests of every command and of the error paths (exit 2 bad input, 1 failure)."""

from __future__ import annotations

import json

import pytest

from netgraph.report.schema import ANALYSIS_KEYS, GROUP_KEYS, REDUCTION_KEYS

MODEL = "clitiny:make_mlp"
FAST = ["--shuffles", "0", "--methods", "magnitude,activation", "--samples", "128"]


def invoke(runner, app, args):
    return runner.invoke(app, args)


def test_help_lists_commands(runner, app):
    result = invoke(runner, app, ["--help"])
    assert result.exit_code == 0
    for name in ("analyze", "visualize", "reduce", "demo"):
        assert name in result.stdout


@pytest.mark.parametrize("command", ["analyze", "visualize", "reduce", "demo"])
def test_subcommand_help(runner, app, command):
    result = invoke(runner, app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_version(runner, app):
    result = invoke(runner, app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("netgraph ")


def test_method_choices_match_library():
    from netgraph import available_methods
    from netgraph.select.catalog import BUILTIN_METHODS
    from netgraph_cli.options import Method

    # Other tests in the same process may register third-party methods; the built-ins are
    # what the command line offers without NETGRAPH_PLUGINS.
    assert sorted(m.value for m in Method) == sorted(BUILTIN_METHODS)
    assert set(BUILTIN_METHODS) <= set(available_methods())


def test_analyze_writes_report_files(runner, app, factory):
    out = factory / "report"
    result = invoke(runner, app, ["--quiet", "analyze", MODEL, "--weights", str(factory / "weights.safetensors"),
                                  "--data", str(factory / "x.npy"), "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    assert {"report.html", "report.md", "report.json"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "report.json").read_text())
    assert tuple(report) == ANALYSIS_KEYS
    assert tuple(report["groups"][0]) == GROUP_KEYS
    assert "Redundancy per group" in result.stdout
    assert not [p for p in factory.iterdir() if p.name.startswith(".report.staging")]


def test_analyze_json_to_stdout(runner, app, factory):
    result = invoke(runner, app, ["--quiet", "analyze", MODEL, "--weights", str(factory / "weights.pt"),
                                  "--data", str(factory / "x.npy"), "--format", "json", *FAST])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["kind"] == "analysis" and report["data"]["n_samples"] == 128


def test_analyze_without_data_uses_factory_example(runner, app, factory):
    result = invoke(runner, app, ["--quiet", "analyze", MODEL, "--format", "json", "--shuffles", "0"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["data"] is None and report["groups"][0]["curve"] is None


def test_visualize_writes_png_and_svg(runner, app, factory):
    out = factory / "pictures"
    result = invoke(runner, app, ["--quiet", "visualize", MODEL, "--data", str(factory / "x.npy"), "--out", str(out),
                                  "--samples", "128"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    for stem in ("neuron_graph", "block_summary", "redundancy_curves", "heatmap_0", "embedding_0"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names


def test_reduce_writes_loadable_model(runner, app, factory):
    import torch

    from netgraph import load_reduced

    out = factory / "reduced"
    result = invoke(runner, app, ["--quiet", "reduce", MODEL, "--weights", str(factory / "weights.safetensors"),
                                  "--data", str(factory / "xy.npz"), "--keep", "0.5", "--method", "magnitude",
                                  "--finetune-epochs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {"plan.json", "model.safetensors", "report.json", "report.html", "report.md"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "report.json").read_text())
    assert tuple(report) == REDUCTION_KEYS
    assert report["after"]["parameters"] < report["before"]["parameters"]
    assert "accuracy" in report["fidelity"]
    import clitiny

    fresh = clitiny.make_mlp()
    reduced = load_reduced(fresh, out)
    assert reduced(torch.randn(2, 6)).shape == (2, 3)


def test_reduce_same_seed_same_plan(runner, app, factory):
    plans = []
    for name in ("a", "b"):
        out = factory / name
        result = invoke(runner, app, ["--quiet", "reduce", MODEL, "--data", str(factory / "x.npy"), "--keep", "0.5",
                                      "--method", "sbm", "--format", "json", "--out", str(out)])
        assert result.exit_code == 0, result.output
        plan = json.loads((out / "plan.json").read_text())
        plan.pop("timings"), plan.pop("checksum")  # the checksum covers the timings too
        plans.append(plan)
    assert plans[0] == plans[1]


# ------------------------------------------------------------------------- bad input


def _error(result, code=2):
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error"), result.stderr
    assert "Traceback" not in result.stderr
    return lines[-1]


@pytest.mark.parametrize(
    "args, words",
    [
        (["analyze", "zoo:nope"], "Unknown zoo model"),
        (["analyze", MODEL, "--weights", "missing.safetensors"], "does not exist"),
        (["analyze", MODEL, "--data", "missing.npy"], "does not exist"),
        (["analyze", MODEL, "--data", "{wrong}"], "does not fit"),
        (["analyze", MODEL, "--data", "{corrupt}"], "corrupt"),
        (["analyze", MODEL, "--data", "{text}"], "not a text model"),
        (["analyze", MODEL, "--data", "zoo:nothing"], "Unknown zoo data set"),
        (["analyze", MODEL, "--weights", "{bad_safetensors}"], "not a valid safetensors"),
        (["analyze", MODEL, "--weights", "{whole}"], "--unsafe-pickle"),
        (["analyze", "{whole}"], "--unsafe-pickle"),
        (["analyze", "nomodule_xyz:factory"], "Cannot import"),
        (["analyze", "plainword"], "zoo:NAME"),
        (["analyze", MODEL, "--format", "pdf"], "Unknown --format"),
        (["analyze", MODEL, "--methods", "nope"], "Unknown --methods"),
        (["reduce", MODEL, "--data", "{x}", "--keep", "1.5", "--out", "{out}"], "--keep"),
        (["reduce", MODEL, "--data", "{x}", "--keep", "0", "--out", "{out}"], "--keep"),
        (["reduce", MODEL, "--data", "{x}", "--groups", "zzz", "--out", "{out}"], "matches no unit group"),
        (["reduce", MODEL, "--data", "{x}", "--distill", "--out", "{out}"], "--finetune-epochs"),
        (["reduce", MODEL, "--out", "{out}"], "--data"),
    ],
)
def test_bad_input_exits_2_with_one_line(runner, app, factory, args, words, monkeypatch):
    monkeypatch.chdir(factory)
    (factory / "corrupt.npy").write_bytes(b"\x93NUMPY garbage")
    (factory / "text.txt").write_text("one sentence\nanother\n")
    (factory / "bad.safetensors").write_bytes(b"not really")
    paths = {"wrong": factory / "wrong.npy", "corrupt": factory / "corrupt.npy", "text": factory / "text.txt",
             "bad_safetensors": factory / "bad.safetensors", "whole": factory / "whole.pt", "x": factory / "x.npy",
             "out": factory / "out"}
    args = [a.format(**paths) for a in args]
    line = _error(invoke(runner, app, ["--quiet", *args]))
    assert words in line
    assert not (factory / "out").exists()


def test_unknown_method_is_usage_error(runner, app, factory):
    result = invoke(runner, app, ["reduce", MODEL, "--method", "nope", "--out", str(factory / "o")])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_unsafe_pickle_allows_whole_model(runner, app, factory):
    result = invoke(runner, app, ["--quiet", "analyze", str(factory / "whole.pt"), "--unsafe-pickle",
                                  "--data", str(factory / "x.npy"), "--format", "json", *FAST])
    assert result.exit_code == 0, result.output


def test_weights_that_do_not_fit(runner, app, factory):
    from safetensors.torch import save_file
    import torch

    save_file({"0.weight": torch.zeros(3, 3)}, str(factory / "other.safetensors"))
    line = _error(invoke(runner, app, ["analyze", MODEL, "--weights", str(factory / "other.safetensors")]))
    assert "do not fit" in line


def test_internal_failure_exits_1_and_debug_shows_traceback(runner, app, factory, monkeypatch):
    import netgraph

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(netgraph, "plan_reduction", broken)
    out = factory / "out"
    args = ["reduce", MODEL, "--data", str(factory / "x.npy"), "--out", str(out)]
    line = _error(invoke(runner, app, ["--quiet", *args]), code=1)
    assert "boom" in line and "--debug" in line
    assert not out.exists()
    result = invoke(runner, app, ["--quiet", "--debug", *args])
    assert result.exit_code == 1 and "Traceback" in result.stderr


def test_failed_write_leaves_no_partial_output(runner, app, factory, monkeypatch):
    import netgraph.report.render as render

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(render, "to_html", broken)
    out = factory / "out"
    result = invoke(runner, app, ["--quiet", "reduce", MODEL, "--data", str(factory / "x.npy"), "--out", str(out)])
    assert result.exit_code == 1
    assert not out.exists()
    assert not [p for p in factory.iterdir() if ".staging" in p.name]


def test_reduce_with_global_budget(runner, app, factory):
    out = factory / "global"
    result = invoke(runner, app, ["--quiet", "reduce", MODEL, "--weights", str(factory / "weights.safetensors"),
                                  "--data", str(factory / "xy.npz"), "--keep", "0.5", "--method", "activation",
                                  "--budget", "global", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = json.loads((out / "plan.json").read_text())
    assert plan["config"]["budget"] == "global"
    kept = sum(len(g["kept"]) for g in plan["groups"])
    total = sum(g["group"]["size"] for g in plan["groups"])
    assert kept == round(0.5 * total)


def test_reduce_that_removes_nothing_exits_2(runner, app, factory):
    out = factory / "nothing"
    result = invoke(runner, app, ["--quiet", "reduce", MODEL, "--weights", str(factory / "weights.safetensors"),
                                  "--data", str(factory / "xy.npz"), "--keep", "1.0", "--method", "magnitude",
                                  "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Nothing to remove" in result.output
    assert not out.exists()


def test_demo_default_out_matches_make_demo():
    import inspect
    from pathlib import Path

    from netgraph_cli.commands.demo import demo

    assert inspect.signature(demo).parameters["out"].default == Path("out/demo")
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "demo --out out/demo" in makefile or "netgraph demo\n" in makefile
