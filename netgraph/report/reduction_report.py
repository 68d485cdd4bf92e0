"""The reduction report: what changed between the original and the reduced model.

Latency is measured so it holds on a busy machine (:func:`~netgraph.report.measure.compare_latency`),
fidelity with the metrics of the model's task (classification: argmax agreement and
accuracy; text encoders: cosine and retrieval agreement), and, given calibration data,
the prediction the analysis would have made for this plan sits beside the measurement.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import torch
from torch import nn

from netgraph.report.measure import (compare_latency, count_macs, count_parameters, fidelity, infer_task, model_outputs,
                                     safetensors_size)
from netgraph.report.schema import SCHEMA_VERSION

__all__ = ["build_reduction_report", "measure_model", "predict_plan"]


def measure_model(model: nn.Module, example_inputs: Any) -> dict[str, Any]:
    return {
        "parameters": count_parameters(model),
        "macs": count_macs(model, example_inputs),
        "size_bytes": safetensors_size(model),
    }


def _ratio(after: Any, before: Any) -> float | None:
    if after is None or before is None or before == 0:
        return None
    return float(after) / float(before)


def predict_plan(original: nn.Module, plan, calibration: Sequence[Any], batches: Sequence[Any], *,
                 labels: torch.Tensor | None = None, reference: torch.Tensor | None = None,
                 task: str | None = None) -> dict[str, float]:
    """The analysis's prediction for ``plan``: its kept sets simulated with a least-squares fold.

    Statistics come from one calibration pass over ``calibration``; the prediction runs on
    ``batches`` (held-out data, so it sits beside the measurement on the same inputs).
    """
    from netgraph import calibrate
    from netgraph.analysis.prediction import simulate_reduction

    groups = [p.group for p in plan.groups if p.kept.size < p.group.size]
    if not groups:
        return fidelity(reference, reference, labels, task) if reference is not None else {}
    stats = calibrate(original, calibration, groups).units
    kept = {p.group: p.kept for p in plan.groups if p.group in groups}
    predicted = simulate_reduction(original, kept, stats, batches, labels=labels, reference=reference)
    if task == "embedding":
        predicted.pop("agreement", None)
    return predicted


def build_reduction_report(
    original: nn.Module,
    reduced: nn.Module,
    plan,
    example_inputs: Any,
    held_out: Sequence[Any] | None = None,
    *,
    labels: torch.Tensor | None = None,
    before_finetune: nn.Module | None = None,
    finetune: dict[str, Any] | None = None,
    model_info: dict[str, Any] | None = None,
    data_info: dict[str, Any] | None = None,
    calibration: Sequence[Any] | None = None,
    task: str | None = None,
    latency_repeats: int = 21,
    latency_threads: int = 1,
) -> dict[str, Any]:
    """Compare ``reduced`` with ``original`` (see :mod:`netgraph.report.schema`).

    Latency: medians of interleaved single-thread runs on the first held-out batch (or
    ``example_inputs``), as a ratio only when the spreads allow. Fidelity compares outputs
    on ``held_out`` with the metrics of ``task`` (inferred when None); with ``labels`` it
    also gives accuracies. ``before_finetune`` (the reduced model before training) adds the
    fidelity it had then; ``calibration`` adds the predicted fidelity.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from netgraph import apply_plan, plan_reduction
    >>> mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> data = [torch.randn(32, 4)]
    >>> plan = plan_reduction(mlp, data[0], keep=0.5, calibration=data)
    >>> report = build_reduction_report(mlp, apply_plan(mlp, plan), plan, data[0], data, latency_repeats=3)
    >>> report["after"]["parameters"] < report["before"]["parameters"]
    True
    """
    started = time.perf_counter()
    latency_batch = held_out[0] if held_out else example_inputs
    before = measure_model(original, example_inputs)
    after = measure_model(reduced, example_inputs)
    latency = compare_latency(original, reduced, latency_batch, threads=latency_threads, repeats=latency_repeats)
    before["latency_ms"] = latency["before_median"]
    after["latency_ms"] = latency["after_median"]
    timings = {"latency_s": time.perf_counter() - started}
    result_fidelity = None
    earlier = None
    predicted = None
    if held_out:
        reference = model_outputs(original, held_out)
        task = task or infer_task(reference, model_info, labels)
        result_fidelity = fidelity(reference, model_outputs(reduced, held_out), labels, task)
        if labels is not None and task == "classification":
            result_fidelity["original_accuracy"] = float((reference.argmax(1) == labels.reshape(-1)).double().mean())
        if before_finetune is not None:
            earlier = fidelity(reference, model_outputs(before_finetune, held_out), labels, task)
        if calibration:
            mark = time.perf_counter()
            predicted = predict_plan(original, plan, calibration, held_out, labels=labels, reference=reference,
                                     task=task)
            timings["prediction_s"] = time.perf_counter() - mark
    rows = []
    for row in plan.summary():
        rows.append({
            key: row.get(key)
            for key in ("group", "units", "kept", "exact_duplicates", "output_error", "unit_error", "svd_bound", "svd_ratio")
        })
    parameters = plan.parameters
    change = {key: _ratio(after[key], before[key]) for key in ("parameters", "macs", "size_bytes")}
    change["latency_ms"] = latency["ratio"]
    report = {
        "schema_version": SCHEMA_VERSION,
        "kind": "reduction",
        "netgraph_version": _version(),
        "model": {**(model_info or {}), "class": type(original).__name__},
        "data": data_info,
        "plan": {
            "method": plan.method,
            "fold": plan.fold,
            "keep": parameters.get("keep"),
            "groups_pattern": parameters.get("groups"),
            "random_state": parameters.get("random_state"),
            "skipped_groups": parameters.get("skipped_groups", []),
        },
        "before": before,
        "after": after,
        "latency": latency,
        "change": change,
        "task": task,
        "fidelity": result_fidelity,
        "fidelity_before_finetune": earlier,
        "predicted": predicted,
        "finetune": finetune,
        "groups": rows,
        "files": {"plan": "plan.json", "weights": "model.safetensors"},
        "timings": {**dict(plan.timings), **timings},
    }
    from netgraph.report.glossary import glossary_for

    report["glossary"] = glossary_for(report)
    return report


def _version() -> str:
    import netgraph

    return netgraph.__version__
