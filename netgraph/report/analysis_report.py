"""The analysis report: what a model's neuron graph says about how far it can shrink.

:func:`build_analysis_report` returns a plain dict (the JSON schema is documented in
:mod:`netgraph.report.schema`); renderers turn it into terminal tables, Markdown, HTML.
Same model, data and ``random_state`` give the same numbers (only ``timings`` differ).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from torch import nn

from netgraph.batches import batch_size
from netgraph.errors import InvalidParameterError
from netgraph.report.measure import count_macs, count_parameters, safetensors_size
from netgraph.report.schema import SCHEMA_VERSION

__all__ = ["build_analysis_report", "reducibility_curve", "DEFAULT_METHODS", "DEFAULT_KEEP_GRID", "ERROR_LEVELS"]

DEFAULT_METHODS = ("magnitude", "activation", "submodular")
DEFAULT_KEEP_GRID = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
ERROR_LEVELS = (0.01, 0.05)
_OWNER = "build_analysis_report"

Progress = Callable[[str, int, int], None]


def _version() -> str:
    import netgraph

    return netgraph.__version__


def _describe_group(group) -> dict[str, Any]:
    return {
        "name": group.name,
        "units": int(group.size),
        "kind": group.producers[0].kind if group.producers else "unknown",
        "activation": group.activation,
        "foldable": bool(group.foldable),
        "reason": group.reason or None,
        "residual": bool(group.residual),
        "homogeneous": bool(group.homogeneous),
        "producers": [m.module for m in group.producers],
        "consumers": [m.module for m in group.consumers],
    }


# Methods whose kept set for k units is the top k of one ranking (their Selection.scores):
# score order for magnitude and activation, the greedy's pick order (non-increasing
# marginal gains) for facility location.
NESTED_METHODS = frozenset({"magnitude", "activation", "submodular"})


def reducibility_curve(
    group,
    incoming: np.ndarray,
    outgoing: np.ndarray,
    stats,
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    keep_grid: Sequence[float] = DEFAULT_KEEP_GRID,
    random_state: int = 0,
) -> dict[str, Any]:
    """Reconstruction error of the units vs. keep fraction for each method, next to the SVD bound.

    The error of a kept set is the share of the group's centred activation variance the best
    linear map from the kept units cannot reconstruct (what ``fold="lstsq"`` achieves on
    the units); the rank-k SVD error is the floor for any k units.
    """
    from netgraph.reduce.metrics import nested_reconstruction_errors, svd_error_curve, unit_reconstruction_error
    from netgraph.select.base import SelectionContext, get_method

    covariance = stats.covariance
    bound = svd_error_curve(covariance)
    n = group.size
    counts = [int(min(n, max(1, round(k * n)))) for k in keep_grid]
    curves: dict[str, list[float]] = {}
    for method_index, method in enumerate(methods):
        select = get_method(method)

        def context(n_keep: int, keep_index: int) -> SelectionContext:
            return SelectionContext(
                group=group,
                n_keep=n_keep,
                incoming=incoming,
                outgoing=outgoing,
                stats=stats,
                homogeneous=group.homogeneous,
                random_state=np.random.default_rng([random_state, method_index, keep_index]),
            )

        if method in NESTED_METHODS:
            # One selection at the largest keep, ranked by score, gives every smaller one.
            selection = select(context(max(counts), len(counts) - 1))
            order = selection.kept[np.argsort(-selection.scores[selection.kept], kind="stable")]
            curves[method] = nested_reconstruction_errors(covariance, order, counts)
            continue
        errors = []
        for keep_index, n_keep in enumerate(counts):
            kept = select(context(n_keep, keep_index)).kept
            errors.append(float(unit_reconstruction_error(covariance, kept)))
        curves[method] = errors
    keep_for_error = {}
    for level in ERROR_LEVELS:
        best_keep, best_method = None, None
        for keep, n_keep, index in zip(keep_grid, counts, range(len(counts))):
            passing = [m for m in methods if curves[m][index] <= level]
            if passing:
                best_keep = float(keep)
                best_method = min(passing, key=lambda m: curves[m][index])
                break
        k_bound = int(np.argmax(bound <= level))
        keep_for_error[f"{level:g}"] = {
            "keep": best_keep if best_keep is not None else 1.0,
            "method": best_method,
            "svd_bound_keep": k_bound / n,
        }
    return {
        "keep": [float(k) for k in keep_grid],
        "units_kept": counts,
        "svd_bound": [float(bound[k]) for k in counts],
        "methods": curves,
        "keep_for_error": keep_for_error,
    }


def _model_section(model: nn.Module, example_inputs: Any, groups, model_info: dict | None) -> dict[str, Any]:
    foldable = [g for g in groups if g.foldable]
    return {
        **(model_info or {}),
        "class": type(model).__name__,
        "parameters": count_parameters(model),
        "macs": count_macs(model, example_inputs),
        "size_bytes": safetensors_size(model),
        "n_groups": len(groups),
        "n_foldable_groups": len(foldable),
        "n_units": int(sum(g.size for g in groups)),
        "n_foldable_units": int(sum(g.size for g in foldable)),
    }


def build_analysis_report(
    model: nn.Module,
    example_inputs: Any,
    batches: Iterable[Any] | None = None,
    *,
    model_info: dict[str, Any] | None = None,
    data_info: dict[str, Any] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    keep_grid: Sequence[float] = DEFAULT_KEEP_GRID,
    n_shuffles: int = 5,
    max_blocks: int = 12,
    random_state: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Analyse ``model`` and return the report as a dict (see :mod:`netgraph.report.schema`).

    Parameters
    ----------
    model : nn.Module
        Not modified.
    example_inputs : tensor, tuple or dict
        One batch, to trace the layer coupling and count MACs.
    batches : iterable of batches, optional
        Calibration data; without it activation-based facts (silent units, effective rank,
        reducibility curves) are ``None``.
    methods : selection methods drawn in the reducibility curves
    keep_grid : keep fractions of the curves, each in (0, 1]
    n_shuffles : weight-shuffled copies in the clusterability test (0 skips it)
    random_state : int
        Seed of every random choice; same seed, same numbers.
    progress : callable(step_label, step, total), optional

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> report = build_analysis_report(mlp, torch.randn(8, 4), [torch.randn(64, 4)], n_shuffles=0)
    >>> report["schema_version"], report["groups"][0]["units"]
    (1, 16)
    """
    from netgraph import NeuronGraph, calibrate, find_unit_groups
    from netgraph.analysis import clusterability, redundancy, sbm_blocks
    from netgraph.select.base import available_methods

    unknown = [m for m in methods if m not in available_methods()]
    if unknown:
        raise InvalidParameterError.expected("methods", _OWNER, f"names from {available_methods()}", unknown)
    if not keep_grid or any(not (0 < float(k) <= 1) for k in keep_grid):
        raise InvalidParameterError.expected("keep_grid", _OWNER, "a non-empty list of floats in (0, 1]", keep_grid)
    if isinstance(n_shuffles, bool) or not isinstance(n_shuffles, int) or n_shuffles < 0:
        raise InvalidParameterError.expected("n_shuffles", _OWNER, "an int >= 0", n_shuffles)
    keep_grid = sorted(float(k) for k in keep_grid)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    model.eval()
    groups = find_unit_groups(model, example_inputs)
    foldable = [g for g in groups if g.foldable]
    graph = NeuronGraph.from_model(model, example_inputs, groups=groups)
    timings["graph_s"] = time.perf_counter() - started
    batches = None if batches is None else list(batches)
    calibration = None
    if batches is not None and foldable:
        mark = time.perf_counter()
        calibration = calibrate(model, batches, foldable)
        timings["calibrate_s"] = time.perf_counter() - mark

    total_steps = len(foldable) + 1
    # One whole-model block model (sparse kNN similarity + Leiden) gives every group's blocks
    # in a shared frame; per-group mixtures often settle on a single block for trained layers.
    whole_blocks = sbm_blocks(graph, None, random_state=random_state) if foldable else None
    block_of = {} if whole_blocks is None else dict(zip(whole_blocks.node_ids, whole_blocks.labels.tolist()))
    analyses = []
    for step, group in enumerate(foldable):
        if progress is not None:
            progress(group.name, step, total_steps)
        mark = time.perf_counter()
        stats = calibration.units.get(group.name) if calibration is not None else None
        incoming, outgoing = graph.incoming(group.name), graph.outgoing(group.name)
        facts = redundancy(incoming, outgoing, stats, node_ids=graph.node_ids[graph.group_slice(group.name)])
        group_nodes = graph.node_ids[graph.group_slice(group.name)]
        _, labels = np.unique([block_of.get(node, -1) for node in group_nodes], return_inverse=True)
        block_sizes = np.bincount(labels)
        exact_removable = sum(len(g) - 1 for g in facts.exact_duplicate_groups)
        near_removable = sum(len(g) - 1 for g in facts.duplicate_groups)
        entry: dict[str, Any] = {
            "group": group.name,
            "units": int(group.size),
            "dead_units": len(facts.dead),
            "silent_units": len(facts.silent) if stats is not None else None,
            "exact_duplicates": int(exact_removable),
            "near_duplicates": int(near_removable),
            "effective_rank": facts.effective_rank,
            "effective_rank_ratio": None if facts.effective_rank is None else facts.effective_rank / group.size,
            "blocks": {
                "method": whole_blocks.method,
                "n_blocks": int(block_sizes.size),
                "block_sizes": block_sizes.tolist(),
                "modularity": float(whole_blocks.modularity),
                "bic": float(whole_blocks.bic),
                "labels": labels.tolist(),
            },
            "curve": None,
            "keep_for_error": None,
        }
        if stats is not None:
            curve = reducibility_curve(
                group, incoming, outgoing, stats, methods=methods, keep_grid=keep_grid, random_state=random_state
            )
            entry["keep_for_error"] = curve.pop("keep_for_error")
            entry["curve"] = curve
        analyses.append(entry)
        timings[f"group:{group.name}_s"] = time.perf_counter() - mark

    cluster = None
    if n_shuffles > 0 and graph.n_nodes > 8:
        if progress is not None:
            progress("clusterability", len(foldable), total_steps)
        mark = time.perf_counter()
        n_clusters = int(min(4, max(2, graph.n_nodes // 16)))
        result = clusterability(graph, n_clusters=n_clusters, n_shuffles=n_shuffles, random_state=random_state)
        summary = result.to_dict()
        cluster = {
            "n_clusters": summary["n_clusters"],
            "n_cut": float(summary["n_cut"]),
            "shuffled_mean": summary["shuffled_mean"],
            "shuffled_n_cuts": [float(v) for v in summary["shuffled_n_cuts"]],
            "z_score": float(summary["z_score"]),
            "p_value": float(summary["p_value"]),
        }
        timings["clusterability_s"] = time.perf_counter() - mark
    if progress is not None:
        progress("done", total_steps, total_steps)
    mark = time.perf_counter()
    model_section = _model_section(model, example_inputs, groups, model_info)
    timings["model_summary_s"] = time.perf_counter() - mark
    timings["total_s"] = time.perf_counter() - started
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "analysis",
        "netgraph_version": _version(),
        "model": model_section,
        "data": None
        if batches is None
        else {**(data_info or {}), "n_batches": len(batches), "n_samples": sum(batch_size(b) for b in batches)},
        "settings": {
            "methods": list(methods),
            "keep_grid": keep_grid,
            "error_levels": list(ERROR_LEVELS),
            "n_shuffles": n_shuffles,
            "max_blocks": max_blocks,
            "random_state": random_state,
        },
        "unit_groups": [_describe_group(g) for g in groups],
        "groups": analyses,
        "clusterability": cluster,
        "timings": timings,
    }
