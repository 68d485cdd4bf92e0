"""netgraph reduce --reference-data / --mix: the reduced model scored on other data, the specialisation sentence."""

from __future__ import annotations

import json

import numpy as np

MODEL = "clitiny:make_mlp"


def _reduce(runner, app, factory, name, *extra):
    out = factory / name
    result = runner.invoke(app, ["reduce", MODEL, "--weights", str(factory / "weights.safetensors"),
                                 "--data", str(factory / "narrow.npy"), "--keep", "0.25", "--method", "activation",
                                 "--format", "json", "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result, json.loads((out / "plan.json").read_text()), json.loads((out / "report.json").read_text())


def _data(factory):
    generator = np.random.default_rng(3)
    np.save(factory / "narrow.npy", (0.02 * generator.normal(size=(300, 6))).astype(np.float32))
    np.save(factory / "wide.npy", (3.0 + generator.normal(size=(300, 6))).astype(np.float32))


def test_reference_data_is_scored_and_recorded(runner, app, factory):
    _data(factory)
    result, plan, report = _reduce(runner, app, factory, "ref", "--reference-data", str(factory / "wide.npy"))
    record = plan["diagnostics"]["fidelity"]
    assert record["held_out"]["n_samples"] == 60 and record["reference"]["n_samples"] == 60
    assert " ".join(record["specialisation"]["sentence"].split()) in " ".join(result.output.split())
    assert report["data"]["specialisation"] == record["specialisation"]
    assert report["data"]["reference"]["source"].endswith("wide.npy")


def test_without_reference_only_held_out_fidelity_is_recorded(runner, app, factory):
    _data(factory)
    _, plan, report = _reduce(runner, app, factory, "plain")
    record = plan["diagnostics"]["fidelity"]
    assert "held_out" in record and "reference" not in record
    assert "specialisation" not in report["data"]


def test_mix_needs_reference_data(runner, app, factory):
    _data(factory)
    result = runner.invoke(app, ["reduce", MODEL, "--weights", str(factory / "weights.safetensors"),
                                 "--data", str(factory / "narrow.npy"), "--mix", "0.5", "--out", str(factory / "m")])
    assert result.exit_code == 2
    assert "--reference-data" in result.output


def test_mix_records_its_weight(runner, app, factory):
    _data(factory)
    _, plan, report = _reduce(runner, app, factory, "mixed", "--reference-data", str(factory / "wide.npy"),
                              "--mix", "0.5")
    assert plan["diagnostics"]["fidelity"]["mix"] == 0.5 and report["data"]["mix"] == 0.5
