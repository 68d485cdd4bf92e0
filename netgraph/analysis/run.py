"""One analysis of a model: every figure the analysis report shows, from one set of statistics.

:func:`analyze_model` traces the unit groups, builds the neuron graph once, streams the
calibration data once, and then per group reuses the same numbers for everything: one
eigen-decomposition of the activation covariance gives the effective rank and the SVD
bound, one selection per nested method gives its whole reducibility curve, the weights give
the blocks and their test against shuffled copies (:mod:`netgraph.analysis.chance`), and
one simulated pass predicts the output error at the recommended keep
(:mod:`netgraph.analysis.prediction`). It returns a plain dict; :mod:`netgraph.report`
only shapes and renders it.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from netgraph.batches import batch_size
from netgraph.errors import InvalidParameterError

__all__ = [
    "analyze_model",
    "reducibility_curve",
    "untrained_copy",
    "DEFAULT_METHODS",
    "DEFAULT_KEEP_GRID",
    "ERROR_LEVELS",
    "RECOMMEND_ERROR",
]

DEFAULT_METHODS = ("magnitude", "activation", "submodular")
DEFAULT_KEEP_GRID = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
ERROR_LEVELS = (0.01, 0.05)
# The recommended keep is the smallest on the grid whose best method leaves at most this
# share of the units' variance unexplained.
RECOMMEND_ERROR = 0.05
# Methods whose selection costs O(units³) are drawn only for groups up to this size (a
# 1,536-unit group costs seconds each); ranking methods are drawn for every group.
EXPENSIVE_METHOD_MAX_UNITS = 1024
CHEAP_METHODS = frozenset({"magnitude", "activation", "random"})
# Whole-model clusterability (spectral clustering per shuffled copy) only below this many nodes.
CLUSTERABILITY_MAX_NODES = 4000
# ... with this many shuffled copies at most (one spectral clustering each; 20 allow p < 0.05).
CLUSTERABILITY_SHUFFLES = 20
# Methods whose kept set for k units is the top k of one ranking (their Selection.scores).
NESTED_METHODS = frozenset({"magnitude", "activation", "submodular"})

_OWNER = "build_analysis_report"

Progress = Callable[[str, int, int], None]


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


def _spectrum(covariance: np.ndarray) -> np.ndarray:
    """Eigenvalues, largest first, clipped at 0.

    Large groups use float32 with LAPACK's evr driver (ample for ratios of eigenvalue sums,
    about ten times faster than float64 on 1,536 units); small ones stay in float64 so
    near-zero tails are exact.
    """
    from scipy.linalg import eigh

    dtype = np.float32 if covariance.shape[0] > 512 else np.float64
    values = eigh(covariance.astype(dtype), eigvals_only=True, driver="evr").astype(np.float64)
    return np.clip(values[::-1], 0.0, None)


def _svd_curve(eigenvalues: np.ndarray) -> np.ndarray:
    total = eigenvalues.sum()
    if total <= 0:
        return np.zeros(eigenvalues.size + 1)
    return np.clip((total - np.concatenate([[0.0], np.cumsum(eigenvalues)])) / total, 0.0, 1.0)


def _effective_rank(eigenvalues: np.ndarray) -> float:
    total = eigenvalues.sum()
    if total <= 0:
        return 0.0
    p = eigenvalues[eigenvalues > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def reducibility_curve(
    group,
    incoming: np.ndarray,
    outgoing: np.ndarray,
    stats,
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    keep_grid: Sequence[float] = DEFAULT_KEEP_GRID,
    random_state: int = 0,
    bound: np.ndarray | None = None,
) -> dict[str, Any]:
    """Reconstruction error of the units vs. keep fraction for each method, next to the SVD bound.

    The error of a kept set is the share of the group's centred activation variance the best
    linear map from the kept units cannot reconstruct (what ``fold="lstsq"`` achieves on
    the units); the rank-k SVD error is the floor for any k units. ``bound`` (the SVD
    error curve) is reused when the caller already has it. The result also carries
    ``kept`` (method → kept indices at every grid point) for predictions.
    """
    from netgraph.reduce.metrics import nested_reconstruction_errors, unit_reconstruction_error
    from netgraph.select.base import SelectionContext, get_method

    covariance = stats.covariance
    if bound is None:
        bound = _svd_curve(_spectrum(covariance))
    n = group.size
    counts = [int(min(n, max(1, round(k * n)))) for k in keep_grid]
    curves: dict[str, list[float]] = {}
    kept_sets: dict[str, list[np.ndarray]] = {}
    for method_index, method in enumerate(methods):
        select = get_method(method)

        def context(n_keep: int, keep_index: int) -> "SelectionContext":
            return SelectionContext(
                group=group, n_keep=n_keep, incoming=incoming, outgoing=outgoing, stats=stats,
                homogeneous=group.homogeneous,
                random_state=np.random.default_rng([random_state, method_index, keep_index]),
            )

        if method in NESTED_METHODS:
            # One selection at the largest keep, ranked by score, gives every smaller one.
            selection = select(context(max(counts), len(counts) - 1))
            order = selection.kept[np.argsort(-selection.scores[selection.kept], kind="stable")]
            curves[method] = nested_reconstruction_errors(covariance, order, counts)
            kept_sets[method] = [np.sort(order[:k]) for k in counts]
            continue
        errors, sets = [], []
        for keep_index, n_keep in enumerate(counts):
            kept = select(context(n_keep, keep_index)).kept
            errors.append(float(unit_reconstruction_error(covariance, kept)))
            sets.append(np.sort(np.asarray(kept)))
        curves[method] = errors
        kept_sets[method] = sets
    keep_for_error = {}
    for level in ERROR_LEVELS:
        best_keep, best_method = None, None
        for index, keep in enumerate(keep_grid):
            passing = [m for m in curves if curves[m][index] <= level]
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
        "kept": kept_sets,
    }


def untrained_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """The same architecture at its random initialisation (``reset_parameters`` of every module)."""
    fresh = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in fresh.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
    return fresh


def _model_section(model: nn.Module, example_inputs: Any, groups, model_info: dict | None) -> dict[str, Any]:
    from netgraph.report.measure import count_macs, count_parameters, safetensors_size

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


def _recommendation(entry: dict[str, Any], curve: dict[str, Any]) -> dict[str, Any]:
    """Smallest grid keep whose best method stays within RECOMMEND_ERROR of the units' variance."""
    choice = curve["keep_for_error"][f"{RECOMMEND_ERROR:g}"]
    keep, method = choice["keep"], choice["method"]
    if method is None:
        return {"keep": 1.0, "method": None, "unit_error": 0.0,
                "reason": f"no method keeps the unexplained variance under {RECOMMEND_ERROR:.0%} below keep 1.0"}
    index = curve["keep"].index(keep)
    return {"keep": float(keep), "method": method, "units_kept": int(curve["units_kept"][index]),
            "unit_error": float(curve["methods"][method][index]), "reason": None}


def _first_rows(batches: list, limit: int) -> list:
    """The first ``limit`` samples of ``batches``, as batches (the last one cut)."""
    from netgraph.batches import first_rows

    chosen, total = [], 0
    for batch in batches:
        if total >= limit:
            break
        size = batch_size(batch)
        chosen.append(batch if total + size <= limit else first_rows(batch, limit - total))
        total += min(size, limit - total)
    return chosen


def analyze_model(
    model: nn.Module,
    example_inputs: Any,
    batches: Iterable[Any] | None = None,
    *,
    model_info: dict[str, Any] | None = None,
    data_info: dict[str, Any] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    keep_grid: Sequence[float] = DEFAULT_KEEP_GRID,
    n_shuffles: int = 39,
    compare_untrained: bool = True,
    prediction_samples: int = 64,
    labelled: tuple[Sequence[Any], torch.Tensor] | None = None,
    held_out: Sequence[Any] | None = None,
    max_blocks: int = 12,
    random_state: int = 0,
    progress: Progress | None = None,
    graph=None,
) -> dict[str, Any]:
    """Analyse ``model``; returns the analysis report dict (see :mod:`netgraph.report.schema`).

    Parameters
    ----------
    model : nn.Module
        Not modified.
    example_inputs : one batch, to trace the layer coupling and count MACs
    batches : iterable of batches, optional
        Calibration data; without it activation-based facts, curves and predictions are ``None``.
    methods, keep_grid : methods and keep fractions of the reducibility curves
    n_shuffles : weight-shuffled copies each block test (and the clusterability test) is
        compared with; 0 skips the tests
    compare_untrained : also score an untrained (random-init) copy of the architecture
    prediction_samples : calibration samples (whole batches from the front) the predicted
        output errors are computed on; each group costs one forward pass over them
    labelled : (batches, labels), optional
        Labelled held-out inputs for a predicted accuracy (the predictions then run on all of them).
    held_out : batches, optional
        Held-out inputs without labels: the predictions run on their first
        ``prediction_samples`` samples. A fold fitted on calibration data is optimistic on
        that same data (MiniLM layer 0 at keep 0.7: 0.086 predicted on calibration text vs
        0.132 measured on held-out text), so held-out data is preferred whenever there is some.
    graph : NeuronGraph, optional
        Reused when the caller already built it.
    """
    from netgraph import NeuronGraph, calibrate, find_unit_groups
    from netgraph.analysis import clusterability, redundancy
    from netgraph.analysis.chance import block_structure_test
    from netgraph.analysis.prediction import simulate_reduction
    from netgraph.report.measure import fidelity, model_outputs
    from netgraph.report.schema import SCHEMA_VERSION
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
    was_training = model.training
    model.eval()
    groups = find_unit_groups(model, example_inputs)
    foldable = [g for g in groups if g.foldable]
    if graph is None:
        graph = NeuronGraph.from_model(model, example_inputs, groups=groups)
    timings["graph_s"] = time.perf_counter() - started
    untrained_graph = None
    if compare_untrained and n_shuffles > 0 and foldable:
        mark = time.perf_counter()
        untrained_graph = NeuronGraph.from_model(untrained_copy(model, random_state), example_inputs, groups=groups)
        timings["untrained_graph_s"] = time.perf_counter() - mark
    batches = None if batches is None else list(batches)
    calibration = None
    if batches is not None and foldable:
        mark = time.perf_counter()
        calibration = calibrate(model, batches, foldable)
        timings["calibrate_s"] = time.perf_counter() - mark

    prediction_batches, prediction_labels, reference = None, None, None
    if calibration is not None:
        mark = time.perf_counter()
        if labelled is not None:
            prediction_batches, prediction_labels = list(labelled[0]), labelled[1]
        elif held_out:
            prediction_batches = _first_rows(list(held_out), prediction_samples)
        else:
            prediction_batches = _first_rows(batches, prediction_samples)
        reference = model_outputs(model, prediction_batches)
        timings["reference_outputs_s"] = time.perf_counter() - mark

    total_steps = len(foldable) + 1
    analyses = []
    recommended_kept: dict[Any, np.ndarray] = {}
    for step, group in enumerate(foldable):
        if progress is not None:
            progress(group.name, step, total_steps)
        mark = time.perf_counter()
        stats = calibration.units.get(group.name) if calibration is not None else None
        incoming, outgoing = graph.incoming(group.name), graph.outgoing(group.name)
        node_ids = graph.node_ids[graph.group_slice(group.name)]
        # Weight facts only: the activation facts come from the one spectrum below.
        facts = redundancy(incoming, outgoing, None, node_ids=node_ids)
        untrained = None
        if untrained_graph is not None:
            untrained = (untrained_graph.incoming(group.name), untrained_graph.outgoing(group.name))
        test = block_structure_test(incoming, outgoing, n_draws=n_shuffles, untrained=untrained,
                                    random_state=random_state)
        labels = test.labels
        block_sizes = np.bincount(labels)
        exact_removable = sum(len(g) - 1 for g in facts.exact_duplicate_groups)
        near_removable = sum(len(g) - 1 for g in facts.duplicate_groups)
        entry: dict[str, Any] = {
            "group": group.name,
            "units": int(group.size),
            "dead_units": len(facts.dead),
            "silent_units": None,
            "exact_duplicates": int(exact_removable),
            "near_duplicates": int(near_removable),
            "effective_rank": None,
            "effective_rank_ratio": None,
            "blocks": {
                "method": "knn-leiden",
                "n_blocks": int(test.n_blocks),
                "block_sizes": block_sizes.tolist(),
                "modularity": float(test.observed),
                "labels": labels.tolist(),
                "chance": test.to_dict() if n_shuffles > 0 else None,
            },
            "structure": test.sentence(group.name),
            "curve": None,
            "keep_for_error": None,
            "recommendation": None,
            "prediction": None,
            "skipped_methods": [],
        }
        if stats is not None:
            eigenvalues = _spectrum(stats.covariance)
            energy = stats.energy
            entry["silent_units"] = int(np.sum(energy <= 1e-12 * max(float(energy.max(initial=0)), 1e-300)))
            entry["effective_rank"] = _effective_rank(eigenvalues)
            entry["effective_rank_ratio"] = entry["effective_rank"] / group.size
            group_methods = [m for m in methods if group.size <= EXPENSIVE_METHOD_MAX_UNITS or m in CHEAP_METHODS]
            entry["skipped_methods"] = [m for m in methods if m not in group_methods]
            curve = reducibility_curve(group, incoming, outgoing, stats, methods=group_methods or ["activation"],
                                       keep_grid=keep_grid, random_state=random_state, bound=_svd_curve(eigenvalues))
            kept_sets = curve.pop("kept")
            entry["keep_for_error"] = curve.pop("keep_for_error")
            entry["curve"] = curve
            recommendation = _recommendation(entry, {**curve, "keep_for_error": entry["keep_for_error"]})
            entry["recommendation"] = recommendation
            if recommendation["method"] is not None:
                kept = kept_sets[recommendation["method"]][keep_grid.index(recommendation["keep"])]
                recommended_kept[group] = kept
                predicted = simulate_reduction(model, {group: kept}, calibration.units, prediction_batches,
                                               labels=prediction_labels, reference=reference)
                entry["prediction"] = {"keep": recommendation["keep"], "method": recommendation["method"], **predicted}
        analyses.append(entry)
        timings[f"group:{group.name}_s"] = time.perf_counter() - mark

    combined = None
    if recommended_kept:
        mark = time.perf_counter()
        predicted = simulate_reduction(model, recommended_kept, calibration.units, prediction_batches,
                                       labels=prediction_labels, reference=reference)
        kept_units = sum(int(k.size) for k in recommended_kept.values())
        combined = {"groups": [g.name for g in recommended_kept], "units": int(sum(g.size for g in recommended_kept)),
                    "units_kept": kept_units, **predicted}
        if prediction_labels is not None and reference.shape[1] > 1:
            combined["original_accuracy"] = fidelity(reference, reference, prediction_labels).get("accuracy")
        timings["prediction_combined_s"] = time.perf_counter() - mark

    cluster = None
    if n_shuffles > 0 and graph.n_nodes > 8:
        if graph.n_nodes > CLUSTERABILITY_MAX_NODES:
            cluster = {"skipped": f"whole-model test skipped: {graph.n_nodes:,} nodes > {CLUSTERABILITY_MAX_NODES:,}; "
                                  "see the per-group block tests"}
        else:
            if progress is not None:
                progress("clusterability", len(foldable), total_steps)
            mark = time.perf_counter()
            n_clusters = int(min(4, max(2, graph.n_nodes // 16)))
            draws = min(n_shuffles, CLUSTERABILITY_SHUFFLES)
            result = clusterability(graph, n_clusters=n_clusters, n_shuffles=draws, random_state=random_state)
            summary = result.to_dict()
            cluster = {
                "n_clusters": summary["n_clusters"],
                "n_cut": float(summary["n_cut"]),
                "shuffled_mean": summary["shuffled_mean"],
                "shuffled_n_cuts": [float(v) for v in summary["shuffled_n_cuts"]],
                "z_score": float(summary["z_score"]),
                "p_value": float(summary["p_value"]),
                "n_shuffles": int(draws),
                "sentence": result.sentence(),
            }
            timings["clusterability_s"] = time.perf_counter() - mark
    if progress is not None:
        progress("done", total_steps, total_steps)
    mark = time.perf_counter()
    model_section = _model_section(model, example_inputs, groups, model_info)
    timings["model_summary_s"] = time.perf_counter() - mark
    timings["total_s"] = time.perf_counter() - started
    model.train(was_training)
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
            "recommend_error": RECOMMEND_ERROR,
            "n_shuffles": n_shuffles,
            "compare_untrained": bool(untrained_graph is not None),
            "prediction_data": None if prediction_batches is None else (
                "labelled held-out data" if labelled is not None else "held-out data" if held_out else "calibration data"),
            "prediction_samples": None if prediction_batches is None else sum(batch_size(b) for b in prediction_batches),
            "max_blocks": max_blocks,
            "random_state": random_state,
        },
        "unit_groups": [_describe_group(g) for g in groups],
        "groups": analyses,
        "prediction": combined,
        "clusterability": cluster,
        "timings": timings,
    }


def _version() -> str:
    import netgraph

    return netgraph.__version__
