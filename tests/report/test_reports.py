"""Analysis and reduction reports: schema, determinism, renderers, atomic output folders."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from netgraph.report import (build_analysis_report, build_reduction_report, staged_directory, to_html, to_json,
                             to_markdown)
from netgraph.report.schema import ANALYSIS_KEYS, GROUP_KEYS, REDUCTION_KEYS


@pytest.fixture(scope="module")
def mlp_and_data():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    batches = [torch.randn(64, 6) for _ in range(2)]
    return model, batches


@pytest.fixture(scope="module")
def analysis(mlp_and_data):
    model, batches = mlp_and_data
    return build_analysis_report(model, batches[0][:4], batches, n_shuffles=2, methods=("magnitude", "activation"))


def test_analysis_schema_golden_keys(analysis):
    assert tuple(analysis) == ANALYSIS_KEYS
    assert all(tuple(g) == GROUP_KEYS for g in analysis["groups"])
    curve = analysis["groups"][0]["curve"]
    assert set(curve) == {"keep", "units_kept", "svd_bound", "methods"}
    assert set(analysis["groups"][0]["keep_for_error"]) == {"0.01", "0.05"}
    assert set(analysis["clusterability"]) == {"n_clusters", "n_cut", "shuffled_mean", "shuffled_n_cuts", "z_score", "p_value",
                                               "n_shuffles", "sentence"}
    json.loads(to_json(analysis))


def test_methods_never_beat_the_svd_bound(analysis):
    for group in analysis["groups"]:
        curve = group["curve"]
        for errors in curve["methods"].values():
            assert all(e >= b - 1e-9 for e, b in zip(errors, curve["svd_bound"]))


def test_same_seed_same_numbers(mlp_and_data, analysis):
    model, batches = mlp_and_data
    again = build_analysis_report(model, batches[0][:4], batches, n_shuffles=2, methods=("magnitude", "activation"))
    strip = lambda r: {k: v for k, v in r.items() if k != "timings"}  # noqa: E731
    assert to_json(strip(again)) == to_json(strip(analysis))


def test_data_free_report_has_no_curves(mlp_and_data):
    model, batches = mlp_and_data
    report = build_analysis_report(model, batches[0][:4], None, n_shuffles=0)
    assert report["data"] is None and report["clusterability"] is None
    assert all(g["curve"] is None and g["silent_units"] is None for g in report["groups"])


def test_invalid_parameters(mlp_and_data):
    from netgraph.errors import InvalidParameterError

    model, batches = mlp_and_data
    with pytest.raises(InvalidParameterError):
        build_analysis_report(model, batches[0][:4], batches, methods=("nope",))
    with pytest.raises(InvalidParameterError):
        build_analysis_report(model, batches[0][:4], batches, keep_grid=(0.0, 0.5))


def test_renderers(analysis):
    markdown = to_markdown(analysis, [("graph", "figures/g.png")])
    assert "## Redundancy per group" in markdown and "![graph](figures/g.png)" in markdown
    html = to_html(analysis, [("graph", "data:image/png;base64,AAAA")])
    assert "<table>" in html and "data:image/png;base64,AAAA" in html
    with pytest.raises(ValueError):
        to_html(analysis, [("graph", "https://example.com/x.png")])


def test_html_escapes_model_names(analysis):
    report = dict(analysis, model=dict(analysis["model"], spec="<script>alert(1)</script>"))
    html = to_html(report)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_reduction_report(mlp_and_data):
    from netgraph import apply_plan, plan_reduction

    model, batches = mlp_and_data
    plan = plan_reduction(model, batches[0][:4], keep=0.5, calibration=batches, random_state=0)
    reduced = apply_plan(model, plan)
    labels = torch.randint(0, 3, (64,))
    report = build_reduction_report(model, reduced, plan, batches[0][:4], batches[:1], labels=labels, latency_repeats=2)
    assert tuple(report) == REDUCTION_KEYS
    assert report["change"]["parameters"] < 1
    assert {"relative_error", "mean_cosine", "agreement", "accuracy", "original_accuracy"} <= set(report["fidelity"])
    assert "Fidelity on held-out data" in to_markdown(report)


def test_staged_directory_is_atomic(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with staged_directory(target) as staging:
            (staging / "half.json").write_text("{")
            raise RuntimeError("failed mid-way")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with staged_directory(target) as staging:
        (staging / "a.txt").write_text("new")
    assert (target / "a.txt").read_text() == "new"
    (target / "old.txt").write_text("from an earlier run")
    with staged_directory(target) as staging:
        (staging / "a.txt").write_text("newer")
    assert (target / "a.txt").read_text() == "newer" and not (target / "old.txt").exists()  # replaced whole


def test_reduction_report_shows_sample_counts_and_warnings():
    from netgraph.report.render import to_markdown
    from netgraph.report.tables import report_tables

    report = {
        "kind": "reduction", "model": {"spec": "zoo:x"},
        "data": {"source": "zoo:text", "n_calibration": 3, "n_held_out": 7,
                 "specialisation": "The reduced model is specialised to its calibration data."},
        "plan": {"method": "sbm", "fold": "lstsq", "keep": 0.5, "skipped_groups": ["attn"]},
        "before": {"parameters": 10, "macs": 10, "size_bytes": 40, "latency_ms": None},
        "after": {"parameters": 5, "macs": 5, "size_bytes": 20, "latency_ms": None},
        "change": {"parameters": 0.5, "macs": 0.5, "size_bytes": 0.5, "latency_ms": None},
        "groups": [], "warnings": ["fc1: 3 calibration samples for 8 units."],
    }
    table = next(t for t in report_tables(report) if t.title == "Data and warnings")
    cells = {row[0]: row[1] for row in table.rows}
    assert cells["calibration samples"] == "3" and cells["warning"].startswith("fc1: 3 calibration samples")
    assert "specialised" in cells["specialisation"] and cells["skipped groups"] == "attn"
    assert "3 calibration samples for 8 units" in to_markdown(report)
