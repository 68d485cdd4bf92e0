"""Reports an engineer can act on: glossary for every column, next commands, predictions,
latency that holds on a busy machine, task-appropriate fidelity, printable plan summaries."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from netgraph import apply_plan, plan_reduction
from netgraph.report import build_analysis_report, build_compression_report, build_reduction_report, to_html, to_json
from netgraph.report.glossary import GLOSSARY
from netgraph.report.measure import compare_latency, fidelity
from netgraph.report.render import to_markdown
from netgraph.report.tables import report_tables


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 24), nn.ReLU(), nn.Linear(24, 12), nn.ReLU(), nn.Linear(12, 3)).eval()
    batches = [torch.randn(64, 6) for _ in range(3)]
    labels = model(torch.cat(batches[2:])).argmax(1)
    report = build_analysis_report(model, batches[0][:4], batches[:2], n_shuffles=5, methods=("magnitude", "activation"),
                                   model_info={"spec": "pkg.mod:factory"}, data_info={"source": "data.npz"},
                                   labelled=(batches[2:], labels))
    return model, batches, labels, report


def _columns(report) -> set[str]:
    return {column for table in report_tables(report) for column in table.columns if column}


def test_every_column_is_in_the_glossary_and_rendered(setup):
    *_, report = setup
    assert _columns(report) <= set(GLOSSARY)
    from html import unescape

    html = unescape(to_html(report))
    for column in ("eff rank", "near dup", "silent", "keep@1%", "vs chance"):
        assert f'title="{GLOSSARY[column]}">{column}</th>' in html
    markdown = to_markdown(report)
    assert "## Glossary" in markdown and f"- **eff rank**: {GLOSSARY['eff rank']}" in markdown


def test_predictions_prefer_held_out_data(setup):
    model, batches, _, report = setup
    assert report["settings"]["prediction_data"] == "labelled held-out data"
    unlabelled = build_analysis_report(model, batches[0][:4], batches[:2], n_shuffles=0, methods=("activation",),
                                       held_out=batches[2:])
    assert unlabelled["settings"]["prediction_data"] == "held-out data"
    assert unlabelled["settings"]["prediction_samples"] == 64
    assert "Predictions on 64 samples of held-out data" in report_tables(unlabelled)[2].note


def test_per_group_statistics_are_per_group(setup):
    *_, report = setup
    groups = report["groups"]
    assert len(groups) == 2
    for entry in groups:
        chance = entry["blocks"]["chance"]
        assert chance["observed"] == entry["blocks"]["modularity"] and chance["n_draws"] == 5
        assert len(entry["blocks"]["labels"]) == entry["units"]
        assert entry["structure"].startswith(entry["group"])
    assert groups[0]["blocks"]["modularity"] != groups[1]["blocks"]["modularity"]


def test_recommendation_prediction_and_next_command(setup):
    *_, report = setup
    steps = report["next_steps"]
    assert steps is not None
    for row, entry in zip(steps["groups"], report["groups"]):
        recommendation = entry["recommendation"]
        if row["command"] is None:
            assert recommendation["keep"] == 1.0
            continue
        assert row["command"].startswith("netgraph reduce pkg.mod:factory --data data.npz --groups")
        assert f"--keep {recommendation['keep']:g} --method {recommendation['method']}" in row["command"]
        assert 0 <= entry["prediction"]["relative_error"] and 0 <= entry["prediction"]["accuracy"] <= 1
    if steps["all"]:
        assert "--budget global" in steps["all"]["command"]
    assert "Next steps" in [t.title for t in report_tables(report)]


def test_reduction_report_shows_predicted_beside_measured(setup):
    model, batches, labels, _ = setup
    plan = plan_reduction(model, batches[0][:4], keep=0.5, method="activation", calibration=batches[:2])
    reduced = apply_plan(model, plan)
    report = build_reduction_report(model, reduced, plan, batches[0][:4], batches[2:], labels=labels,
                                    calibration=batches[:2], latency_repeats=5)
    assert report["task"] == "classification"
    assert set(report["predicted"]) >= {"relative_error", "accuracy"}
    table = next(t for t in report_tables(report) if t.title == "Fidelity on held-out data")
    assert table.columns == ["held-out metric", "predicted", "measured"]
    json.loads(to_json(report))


def test_worse_after_finetuning_is_said(setup):
    model, batches, labels, _ = setup
    plan = plan_reduction(model, batches[0][:4], keep=0.5, method="activation", calibration=batches[:2])
    folded = apply_plan(model, plan)
    damaged = apply_plan(model, plan)
    with torch.no_grad():
        for parameter in damaged.parameters():
            parameter.add_(0.5 * torch.randn_like(parameter))
    report = build_reduction_report(model, damaged, plan, batches[0][:4], batches[2:], labels=labels,
                                    before_finetune=folded, latency_repeats=3)
    table = next(t for t in report_tables(report) if t.title == "Fidelity on held-out data")
    assert table.columns[-2:] == ["before fine-tuning", "after fine-tuning"]
    assert "Fine-tuning made" in table.note and "worse" in table.note


def test_latency_ratio_only_beyond_the_spread():
    model = nn.Sequential(nn.Linear(64, 64))
    same = compare_latency(model, model, torch.randn(8, 64), repeats=15)
    assert same["threads"] == 1 and len(same["before_ms"]) == len(same["after_ms"]) == 15
    big = nn.Sequential(*[nn.Linear(512, 512) for _ in range(8)])
    small = nn.Sequential(nn.Linear(512, 2))
    faster = compare_latency(big, small, torch.randn(64, 512), repeats=15)
    assert faster["ratio"] is not None and faster["ratio"] < 0.5
    if same["ratio"] is None:
        assert "spread" in same["note"]
    assert torch.get_num_threads() >= 1


def test_encoders_get_cosine_and_retrieval_not_argmax():
    torch.manual_seed(0)
    reference = torch.randn(40, 16)
    result = fidelity(reference, reference + 1e-4 * torch.randn(40, 16), task="embedding")
    assert "agreement" not in result and "accuracy" not in result
    assert result["retrieval_agreement"] == 1.0 and result["mean_cosine"] > 0.99


def test_plan_summary_prints_as_a_table(setup):
    model, batches, *_ = setup
    plan = plan_reduction(model, batches[0][:4], keep=0.5, method="activation", calibration=batches[:2])
    summary = plan.summary()
    text = str(summary)
    assert text.splitlines()[1].split()[:4] == ["group", "units", "kept", "keep"]
    assert len(summary) == len(plan.groups) and summary[0]["kept"] == plan.groups[0].kept.size
    assert "<table>" in summary._repr_html_() and summary.to_markdown().startswith("| group |")


def test_compression_report_has_stages_and_loading(tmp_path):
    from netgraph.report import write_report

    details = {"dense_bytes_before": 1_064_000, "stages": [{"stage": "prune", "sparsity": 0.92},
                                                           {"stage": "quantize", "bits": 5}]}
    report = build_compression_report(details, model_spec="zoo:lenet-300-100", settings={"prune": 0.92, "huffman": True},
                                      ngz_bytes=26_000, accuracy_before=0.95, accuracy_after=0.94)
    from netgraph.report.schema import COMPRESSION_KEYS

    assert tuple(report) == COMPRESSION_KEYS
    assert [row["bytes"] for row in report["stages"]] == [1_064_000, None, None, 26_000]
    assert report["compression_ratio"] == pytest.approx(1_064_000 / 26_000)
    written = write_report(report, tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "load_ngz" in html and "Compression stages" in html and len(written) == 3
    assert "## Glossary" in (tmp_path / "report.md").read_text()
