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
        rows.append([
            g["group"], fmt(g["units"]), fmt(g["dead_units"]), fmt(g["silent_units"]), fmt(g["exact_duplicates"]),
            fmt(g["near_duplicates"]), fmt(g["effective_rank"]), fmt(g["blocks"]["n_blocks"]),
            fmt(g["blocks"]["modularity"]),
            "—" if one is None else f"{_percent(one['keep'])} ({_percent(one['svd_bound_keep'])})",
            "—" if five is None else f"{_percent(five['keep'])} ({_percent(five['svd_bound_keep'])})",
        ])
    groups = Table(
        "Redundancy per group",
        ["group", "units", "dead", "silent", "exact dup", "near dup", "eff rank", "blocks", "modul.",
         "keep@1%", "keep@5%"],
        rows,
        "keep@X%: smallest keep fraction at which the best method reconstructs the units within X% of their "
        "variance; in brackets the SVD bound, which no method can beat.",
    )
    tables = [summary, unit_groups, groups]
    cluster = report.get("clusterability")
    if cluster:
        tables.append(Table("Clusterability (normalised cut, lower = more modular)", ["", ""], [
            ["trained network", fmt(cluster["n_cut"])],
            ["weight-shuffled copies (mean)", fmt(cluster["shuffled_mean"])],
            ["z-score", fmt(cluster["z_score"])],
            ["p-value", fmt(cluster["p_value"])],
        ]))
    return tables


def _reduction_tables(report: Mapping[str, Any]) -> list[Table]:
    before, after, change = report["before"], report["after"], report["change"]
    plan = report["plan"]
    size_rows = [
        ["parameters", fmt(before["parameters"]), fmt(after["parameters"]), _ratio(change["parameters"])],
        ["MACs", fmt(before["macs"]), fmt(after["macs"]), _ratio(change["macs"])],
        ["size on disk", _bytes(before["size_bytes"]), _bytes(after["size_bytes"]), _ratio(change["size_bytes"])],
        ["CPU latency (ms / batch)", fmt(before["latency_ms"]), fmt(after["latency_ms"]), _ratio(change["latency_ms"])],
    ]
    tables = [Table(
        f"Reduction: method {plan['method']}, fold {plan['fold']}, keep {plan['keep']}",
        ["", "before", "after", "after / before"], size_rows,
    )]
    fidelity = report.get("fidelity")
    if fidelity:
        earlier = report.get("fidelity_before_finetune") or {}
        columns = ["held-out metric", "reduced"] + (["before fine-tuning"] if earlier else [])
        rows = []
        for key, label in (("original_accuracy", "original accuracy"), ("accuracy", "accuracy"),
                           ("agreement", "agreement with original (argmax)"), ("mean_cosine", "mean cosine to original"),
                           ("relative_error", "relative output error")):
            if key in fidelity:
                row = [label, fmt(fidelity[key], 4)]
                if earlier:
                    row.append(fmt(earlier.get(key), 4))
                rows.append(row)
        tables.append(Table("Fidelity on held-out data", columns, rows))
    rows = []
    for g in report["groups"]:
        rows.append([g["group"], fmt(g["units"]), fmt(g["kept"]), fmt(g.get("exact_duplicates")),
                     fmt(g.get("output_error")), fmt(g.get("unit_error")), fmt(g.get("svd_bound")), fmt(g.get("svd_ratio"))])
    tables.append(Table(
        "Per group", ["group", "units", "kept", "exact dup.", "output error", "unit error", "SVD bound", "ratio to bound"],
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


def _ratio(value: Any) -> str:
    return "—" if value is None else f"{value:.2f}×"


def report_tables(report: Mapping[str, Any]) -> list[Table]:
    """The tables of an analysis or reduction report."""
    if report.get("kind") == "reduction":
        return _reduction_tables(report)
    return _analysis_tables(report)
