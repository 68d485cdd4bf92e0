"""The compression report: stage by stage, how many bytes and how much accuracy, and how to load the file."""

from __future__ import annotations

from typing import Any, Mapping

from netgraph.report.schema import SCHEMA_VERSION

__all__ = ["build_compression_report", "LOAD_SNIPPET"]

LOAD_SNIPPET = 'from netgraph.compress import load_ngz; model = load_ngz(original_architecture, "{path}")'


def _stage_label(stage: Mapping[str, Any]) -> str:
    name = stage.get("stage")
    if name == "lowrank":
        return f"low-rank factorization (keep {stage.get('ratio')} of weights)"
    if name == "prune":
        sparsity = stage.get("sparsity")
        if isinstance(sparsity, dict) and sparsity:
            low, high = min(sparsity.values()), max(sparsity.values())
            return f"magnitude pruning ({low:.0%}–{high:.0%} zeros per layer)"
        return "magnitude pruning" + (f" ({sparsity:.0%} zeros)" if isinstance(sparsity, (int, float)) else "")
    if name == "quantize":
        return f"weight sharing ({2 ** int(stage.get('bits', 0))} clusters per layer)"
    return str(name)


def build_compression_report(
    details: Mapping[str, Any],
    *,
    model_spec: str,
    settings: Mapping[str, Any],
    ngz_bytes: int,
    accuracy_before: float | None = None,
    accuracy_after: float | None = None,
    stage_bytes: Mapping[str, int] | None = None,
    file_name: str = "model.ngz",
    timings: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Shape :func:`netgraph.compress.compress_model`'s record into a report dict.

    ``stage_bytes`` maps a stage name to the bytes the model would take after it, where
    measured (for example ``{"before huffman": n}``); the last row is always the ``.ngz``
    file as written. Accuracy is known only before and after the whole pipeline, so the
    stage rows in between show "—".

    Examples
    --------
    >>> report = build_compression_report({"dense_bytes_before": 1000, "stages": [{"stage": "prune", "sparsity": 0.9}]},
    ...                                   model_spec="zoo:lenet-300-100", settings={"prune": 0.9}, ngz_bytes=100)
    >>> [row["bytes"] for row in report["stages"]], report["compression_ratio"]
    ([1000, None, 100], 10.0)
    """
    dense = int(details.get("dense_bytes_before") or 0)
    rows = [{"stage": "original (float32, dense)", "bytes": dense, "ratio": 1.0, "accuracy": accuracy_before}]
    for stage in details.get("stages", []):
        rows.append({"stage": _stage_label(stage), "bytes": None, "ratio": None, "accuracy": None,
                     "details": {k: v for k, v in stage.items() if k not in ("layers", "losses")}})
    for name, size in (stage_bytes or {}).items():
        rows.append({"stage": name, "bytes": int(size), "ratio": dense / size if size else None, "accuracy": None})
    rows.append({"stage": f".ngz file ({'Huffman-coded' if settings.get('huffman') else 'no Huffman'})",
                 "bytes": int(ngz_bytes), "ratio": dense / ngz_bytes if ngz_bytes else None, "accuracy": accuracy_after})
    report = {
        "schema_version": SCHEMA_VERSION,
        "kind": "compression",
        "netgraph_version": _version(),
        "model": {"spec": model_spec},
        "settings": dict(settings),
        "stages": rows,
        "accuracy_before": accuracy_before,
        "accuracy_after": accuracy_after,
        "dense_bytes_before": dense,
        "ngz_bytes": int(ngz_bytes),
        "compression_ratio": dense / ngz_bytes if ngz_bytes else None,
        "load": {"file": file_name, "python": LOAD_SNIPPET.format(path=file_name)},
        "details": dict(details),
        "timings": dict(timings or {}),
    }
    from netgraph.report.glossary import glossary_for

    report["glossary"] = glossary_for(report)
    return report


def _version() -> str:
    import netgraph

    return netgraph.__version__
