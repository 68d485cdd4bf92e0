"""The reduction report: what changed between the original and the reduced model."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from netgraph.report.measure import count_macs, count_parameters, fidelity, measure_latency, model_outputs, safetensors_size
from netgraph.report.schema import SCHEMA_VERSION

__all__ = ["build_reduction_report", "measure_model"]


def measure_model(model: nn.Module, example_inputs: Any, latency_batch: Any, *, repeats: int = 20) -> dict[str, Any]:
    return {
        "parameters": count_parameters(model),
        "macs": count_macs(model, example_inputs),
        "size_bytes": safetensors_size(model),
        "latency_ms": measure_latency(model, latency_batch, repeats=repeats),
    }


def _ratio(after: Any, before: Any) -> float | None:
    if after is None or before is None or before == 0:
        return None
    return float(after) / float(before)


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
    latency_repeats: int = 20,
) -> dict[str, Any]:
    """Compare ``reduced`` with ``original`` (see :mod:`netgraph.report.schema`).

    Latency is the median CPU time of one forward pass on the first held-out batch (or
    ``example_inputs``). Fidelity compares outputs on ``held_out``; with ``labels`` it also
    gives accuracies. ``before_finetune`` (the reduced model before training) adds the
    fidelity it had then.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from netgraph import apply_plan, plan_reduction
    >>> mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> data = [torch.randn(32, 4)]
    >>> plan = plan_reduction(mlp, data[0], keep=0.5, calibration=data)
    >>> report = build_reduction_report(mlp, apply_plan(mlp, plan), plan, data[0], data, latency_repeats=2)
    >>> report["after"]["parameters"] < report["before"]["parameters"]
    True
    """
    latency_batch = held_out[0] if held_out else example_inputs
    before = measure_model(original, example_inputs, latency_batch, repeats=latency_repeats)
    after = measure_model(reduced, example_inputs, latency_batch, repeats=latency_repeats)
    result_fidelity = None
    earlier = None
    if held_out:
        reference = model_outputs(original, held_out)
        result_fidelity = fidelity(reference, model_outputs(reduced, held_out), labels)
        if labels is not None and reference.shape[1] > 1:
            result_fidelity["original_accuracy"] = float((reference.argmax(1) == labels.reshape(-1)).double().mean())
        if before_finetune is not None:
            earlier = fidelity(reference, model_outputs(before_finetune, held_out), labels)
    rows = []
    for row in plan.summary():
        rows.append({
            key: row.get(key)
            for key in ("group", "units", "kept", "exact_duplicates", "output_error", "unit_error", "svd_bound", "svd_ratio")
        })
    parameters = plan.parameters
    return {
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
        "change": {key: _ratio(after[key], before[key]) for key in before},
        "fidelity": result_fidelity,
        "fidelity_before_finetune": earlier,
        "finetune": finetune,
        "groups": rows,
        "files": {"plan": "plan.json", "weights": "model.safetensors"},
        "timings": dict(plan.timings),
    }


def _version() -> str:
    import netgraph

    return netgraph.__version__
