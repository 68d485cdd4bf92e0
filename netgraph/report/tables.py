"""Reports as titled tables of strings: one source for terminal, Markdown and HTML output."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["Table", "report_tables", "fmt"]


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


def fmt(value: Any, digits: int = 3) -> str:
    """Short human form of a report value ('—' for missing)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}" if abs(value) >= 1 else f"{value:.{digits}f}".rstrip("0").rstrip(".") or "0"
    return str(value)


def _bytes(value: Any) -> str:
    if value is None:
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{value} B"
        value /= 1024
    return str(value)


def _percent(value: Any) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _analysis_tables(report: Mapping[str, Any]) -> list[Table]:
    model = report["model"]
    data = report.get("data")
    summary = Table("Model", ["", ""], [
        ["model", str(model.get("spec") or model.get("class"))],
        ["parameters", fmt(model["parameters"])],
        ["MACs / sample batch", fmt(model["macs"])],
        ["size (safetensors)", _bytes(model["size_bytes"])],
        ["unit groups (foldable)", f"{model['n_groups']} ({model['n_foldable_groups']})"],
        ["units (foldable)", f"{fmt(model['n_units'])} ({fmt(model['n_foldable_units'])})"],
        ["data", "none (weights only)" if not data else f"{data.get('source', '?')}: {fmt(data['n_samples'])} samples"],
    ])
    unit_groups = Table("Unit groups", ["group", "kind", "units", "activation", "foldable", "consumers"], [
        [g["name"], g["kind"], fmt(g["units"]), g["activation"], "yes" if g["foldable"] else f"no: {g['reason']}",
         ", ".join(g["consumers"])]
        for g in report["unit_groups"]
    ])
    rows = []
    for g in report["groups"]:
        keep = g.get("keep_for_error") or {}
        one, five = keep.get("0.01"), keep.get("0.05")
        blocks = g["blocks"]
        chance = blocks.get("chance")
        recommendation = g.get("recommendation") or {}
        prediction = g.get("prediction") or {}
        rows.append([
            g["group"], fmt(g["units"]), fmt(g["dead_units"]), fmt(g["silent_units"]), fmt(g["exact_duplicates"]),
            fmt(g["near_duplicates"]), fmt(g["effective_rank"]), fmt(blocks["n_blocks"]),
            fmt(blocks["modularity"]),
            "—" if not chance else f"p={chance['p_value']:.3f}",
            "—" if not chance or chance.get("untrained") is None else fmt(chance["untrained"]),
            "—" if one is None else f"{_percent(one['keep'])} ({_percent(one['svd_bound_keep'])})",
            "—" if five is None else f"{_percent(five['keep'])} ({_percent(five['svd_bound_keep'])})",
            "—" if not recommendation else (
                "100% (none)" if recommendation.get("method") is None
                else f"{_percent(recommendation['keep'])} {recommendation['method']}"),
            fmt(prediction.get("relative_error")),
        ] + ([_percent_points(prediction.get("accuracy"))] if _has_accuracy(report) else []))
    columns = ["group", "units", "dead", "silent", "exact dup", "near dup", "eff rank", "blocks", "modularity",
               "vs chance", "untrained", "keep@1%", "keep@5%", "recommended keep", "predicted error"]
    if _has_accuracy(report):
        columns.append("predicted accuracy")
    settings = report.get("settings") or {}
    note = "Hover a column (HTML) or see the glossary for what it means. Every figure is for that group."
    if settings.get("prediction_data"):
        note += (f" Predictions on {fmt(settings.get('prediction_samples'))} samples of "
                 f"{settings['prediction_data']}.")
    groups = Table("Redundancy per group", columns, rows, note)
    tables = [summary, unit_groups, groups]
    sentences = [[g["group"], g["structure"]] for g in report["groups"] if g.get("structure")]
    if sentences:
        tables.append(Table("Block structure against chance", ["group", "verdict"], sentences,
                            f"Each group against {report['settings'].get('n_shuffles', 0)} copies with shuffled weights "
                            "(same sizes and weight distribution, no learned arrangement)."))
    steps = report.get("next_steps")
    if steps:
        tables.append(_next_steps_table(report, steps))
    cluster = report.get("clusterability")
    if cluster and cluster.get("skipped"):
        tables.append(Table("Clusterability (whole network)", ["", ""], [["n-cut", cluster["skipped"]]]))
    elif cluster:
        tables.append(Table("Clusterability (normalised cut, lower = more modular)", ["", ""], [
            ["trained network", fmt(cluster["n_cut"])],
            [f"weight-shuffled copies (mean of {cluster.get('n_shuffles', len(cluster['shuffled_n_cuts']))})",
             fmt(cluster["shuffled_mean"])],
            ["z-score", fmt(cluster["z_score"])],
            ["p-value", fmt(cluster["p_value"])],
            ["verdict", cluster.get("sentence", "")],
        ]))
    return tables


def _has_accuracy(report: Mapping[str, Any]) -> bool:
    return any((g.get("prediction") or {}).get("accuracy") is not None for g in report.get("groups", []))


def _percent_points(value: Any) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _next_steps_table(report: Mapping[str, Any], steps: Mapping[str, Any]) -> Table:
    rows = []
    overall = steps.get("all")
    accuracy = _has_accuracy(report)
    if overall:
        cost = f"predicted error {fmt(overall.get('predicted_error'))}"
        if overall.get("predicted_accuracy") is not None:
            cost += (f", accuracy {_percent_points(overall.get('original_accuracy'))} → "
                     f"{_percent_points(overall['predicted_accuracy'])}")
        rows.append([f"all groups, keep {_percent(overall['keep'])} of units", overall["command"], cost])
    for row in steps["groups"]:
        if row["command"] is None:
            rows.append([row["group"], "keep all units", row.get("why") or ""])
            continue
        cost = f"predicted error {fmt(row.get('predicted_error'))}"
        if accuracy and row.get("predicted_accuracy") is not None:
            cost += f", accuracy {_percent_points(row['predicted_accuracy'])}"
        rows.append([row["group"], row["command"], cost])
    note = "Run one of these next; `netgraph reduce` prints the measured values beside these predictions."
    if steps.get("python"):
        note += f" Exact per-group keeps in Python: {steps['python']}"
    return Table("Next steps", ["what", "command", "expected cost"], rows, note)


def _latency_cell(latency: Mapping[str, Any] | None) -> str:
    if not latency:
        return "—"
    if latency.get("ratio") is None:
        return "within noise"
    return _ratio(latency["ratio"])


_FIDELITY_ROWS = (
    ("original_accuracy", "original accuracy"),
    ("accuracy", "accuracy"),
    ("agreement", "agreement (argmax)"),
    ("retrieval_agreement", "retrieval agreement"),
    ("mean_cosine", "mean cosine"),
    ("relative_error", "relative output error"),
)
# Which direction is better, to say when fine-tuning made fidelity worse.
_HIGHER_IS_BETTER = {"accuracy": True, "agreement": True, "retrieval_agreement": True, "mean_cosine": True,
                     "relative_error": False}


def _fidelity_table(report: Mapping[str, Any]) -> Table | None:
    fidelity = report.get("fidelity")
    if not fidelity:
        return None
    earlier = report.get("fidelity_before_finetune") or {}
    predicted = report.get("predicted") or {}
    columns = ["held-out metric"] + (["predicted"] if predicted else [])
    columns += ["before fine-tuning", "after fine-tuning"] if earlier else ["measured"]
    rows, worse = [], []
    for key, label in _FIDELITY_ROWS:
        if key not in fidelity:
            continue
        row = [label]
        if predicted:
            row.append("" if key == "original_accuracy" else fmt(predicted.get(key), 4))
        if earlier:
            row.append("" if key == "original_accuracy" else fmt(earlier.get(key), 4))
            if key in _HIGHER_IS_BETTER and earlier.get(key) is not None:
                change = fidelity[key] - earlier[key]
                if (change < -1e-4) if _HIGHER_IS_BETTER[key] else (change > 1e-4):
                    worse.append(label)
        row.append(fmt(fidelity[key], 4))
        rows.append(row)
    note = f"Task: {report.get('task')}. 'predicted' simulates the plan's kept units with a least-squares fold on " \
           "the original model (from calibration statistics); the other columns are measured on the reduced model."
    if worse:
        note += f" Fine-tuning made {', '.join(worse)} worse than right after the fold: keep the un-fine-tuned " \
                "model, or fine-tune with --distill or a lower --lr."
    return Table("Fidelity on held-out data", columns, rows, note)


def _reduction_tables(report: Mapping[str, Any]) -> list[Table]:
    before, after, change = report["before"], report["after"], report["change"]
    plan = report["plan"]
    latency = report.get("latency") or {}
    size_rows = [
        ["parameters", fmt(before["parameters"]), fmt(after["parameters"]), _ratio(change["parameters"])],
        ["MACs", fmt(before["macs"]), fmt(after["macs"]), _ratio(change["macs"])],
        ["size on disk", _bytes(before["size_bytes"]), _bytes(after["size_bytes"]), _ratio(change["size_bytes"])],
        ["CPU latency", _milliseconds(before["latency_ms"]), _milliseconds(after["latency_ms"]), _latency_cell(latency)],
    ]
    note = ""
    if latency:
        note = (f"Latency: median of {latency.get('repeats')} interleaved runs per model, {latency.get('threads')} thread, "
                f"after {latency.get('warmup')} warm-up runs; spread (interquartile / median) {latency.get('spread', 0):.0%}.")
        if latency.get("note"):
            note += f" No ratio: {latency['note']}."
    tables = [Table(
        f"Reduction: method {plan['method']}, fold {plan['fold']}, keep {plan['keep']}",
        ["", "before", "after", "after / before"], size_rows, note,
    )]
    data_table = _data_table(report)
    if data_table is not None:
        tables.append(data_table)
    fidelity_table = _fidelity_table(report)
    if fidelity_table is not None:
        tables.append(fidelity_table)
    rows = []
    for g in report["groups"]:
        rows.append([g["group"], fmt(g["units"]), fmt(g["kept"]), fmt(g.get("exact_duplicates")),
                     fmt(g.get("output_error")), fmt(g.get("unit_error")), fmt(g.get("svd_bound")), fmt(g.get("svd_ratio"))])
    tables.append(Table(
        "Per group", ["group", "units", "kept", "exact dup", "output error", "unit error", "SVD bound", "ratio to bound"],
        rows, "Errors on calibration data; ratio to bound 1.0 = as good as any k units can be.",
    ))
    finetune = report.get("finetune")
    if finetune and finetune.get("history"):
        history = finetune["history"]
        names = list(history)
        n_epochs = max(len(v) for v in history.values())
        rows = [[str(i + 1)] + [fmt(history[n][i] if i < len(history[n]) else None, 4) for n in names] for i in range(n_epochs)]
        tables.append(Table("Fine-tuning" + (" (distillation)" if finetune.get("distill") else ""), ["epoch"] + names, rows))
    return tables


def _data_table(report: Mapping[str, Any]) -> Table | None:
    """Where the numbers come from, and every warning: sample counts, specialisation, skipped groups."""
    data = report.get("data") or {}
    rows = []
    if data:
        rows.append(["data", str(data.get("source", "—"))])
        rows.append(["calibration samples", fmt(data.get("n_calibration"))])
        rows.append(["held-out samples", fmt(data.get("n_held_out"))])
        if data.get("specialisation"):
            rows.append(["specialisation", str(data["specialisation"])])
    skipped = (report.get("plan") or {}).get("skipped_groups") or []
    if skipped:
        rows.append(["skipped groups", ", ".join(map(str, skipped))])
    for warning in report.get("warnings") or []:
        rows.append(["warning", str(warning)])
    if not rows:
        return None
    return Table("Data and warnings", ["", ""], rows,
                 "Fidelity is measured on the held-out samples; warnings say where the result may be worse than it looks.")


def _milliseconds(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.3g} ms" if value < 1000 else f"{value / 1000:.3g} s"


def _ratio(value: Any) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _compression_tables(report: Mapping[str, Any]) -> list[Table]:
    rows = [[row["stage"], _bytes(row.get("bytes")), "—" if row.get("ratio") is None else f"{row['ratio']:.1f}×",
             _percent_points(row.get("accuracy"))] for row in report["stages"]]
    settings = report.get("settings") or {}
    described = ", ".join(f"{k} {v}" for k, v in settings.items() if v not in (None, False, 0)) or "defaults"
    tables = [Table(f"Compression stages ({described})", ["stage", "bytes", "ratio", "accuracy"], rows,
                    "Accuracy is measured on held-out data before and after the whole pipeline.")]
    load = report.get("load") or {}
    if load:
        tables.append(Table("Loading the compressed model", ["", ""], [
            ["file", load.get("file", "")],
            ["Python", load.get("python", "")],
            ["note", "The .ngz file holds weights only: pass the original architecture (e.g. the zoo or factory "
                     "model, untrained is fine); low-rank structure recorded in the file is rebuilt automatically."],
        ]))
    return tables


def report_tables(report: Mapping[str, Any]) -> list[Table]:
    """The tables of an analysis, reduction or compression report."""
    if report.get("kind") == "reduction":
        return _reduction_tables(report)
    if report.get("kind") == "compression":
        return _compression_tables(report)
    return _analysis_tables(report)
