"""The commands an engineer runs next, written from an analysis report's recommendations."""

from __future__ import annotations

import shlex
from collections import Counter
from typing import Any, Mapping

__all__ = ["next_steps"]


def _target(report: Mapping[str, Any]) -> tuple[str, str]:
    """``(MODEL, data options)`` as the user would type them."""
    model = report.get("model") or {}
    spec = str(model.get("spec") or "MODEL")
    data = report.get("data") or {}
    source = data.get("source")
    option = ""
    if source and not spec.startswith("zoo:"):
        option = f" --data {shlex.quote(str(source))}"
    return shlex.quote(spec), option


def next_steps(report: Mapping[str, Any]) -> dict[str, Any] | None:
    """Per-group and whole-model ``netgraph reduce`` commands with what they are predicted to cost.

    Returns ``None`` without recommendations (no calibration data). ``groups`` holds one
    command per group (``--groups`` selects it); ``all`` reduces every recommended group at
    once with a global budget of the same total size, and ``python`` gives the exact
    per-group keeps for :func:`netgraph.plan_reduction`.
    """
    spec, data = _target(report)
    rows = []
    keeps: dict[str, float] = {}
    methods: Counter = Counter()
    units = kept = 0
    for entry in report.get("groups", []):
        recommendation = entry.get("recommendation")
        if not recommendation:
            continue
        units += entry["units"]
        if recommendation["method"] is None or recommendation["keep"] >= 1.0:
            kept += entry["units"]
            rows.append({"group": entry["group"], "keep": 1.0, "command": None,
                         "why": recommendation.get("reason") or "nothing to gain"})
            continue
        keeps[entry["group"]] = recommendation["keep"]
        kept += recommendation["units_kept"]
        methods[recommendation["method"]] += 1
        name = entry["group"].replace(".", r"\.")
        out = "reduced-" + entry["group"].replace(".", "-")
        command = (f"netgraph reduce {spec}{data} --groups {shlex.quote('^' + name + '$')} "
                   f"--keep {recommendation['keep']:g} --method {recommendation['method']} --fold lstsq -o {out}")
        prediction = entry.get("prediction") or {}
        rows.append({"group": entry["group"], "keep": recommendation["keep"], "method": recommendation["method"],
                     "command": command, "predicted_error": prediction.get("relative_error"),
                     "predicted_accuracy": prediction.get("accuracy")})
    if not rows:
        return None
    result: dict[str, Any] = {"groups": rows, "all": None, "python": None}
    if keeps:
        method = methods.most_common(1)[0][0]
        overall = kept / max(units, 1)
        combined = report.get("prediction") or {}
        result["all"] = {
            "command": f"netgraph reduce {spec}{data} --budget global --keep {overall:.2f} --method {method} "
                       f"--fold lstsq -o reduced",
            "keep": overall,
            "predicted_error": combined.get("relative_error"),
            "predicted_accuracy": combined.get("accuracy"),
            "original_accuracy": combined.get("original_accuracy"),
        }
        keep_text = ", ".join(f"{name!r}: {value:g}" for name, value in keeps.items())
        result["python"] = f"plan_reduction(model, example, keep={{{keep_text}}}, method={method!r}, calibration=batches)"
    return result
