"""plan_reduction: choose units group by group and fit their compensation.

The model is never modified: a working copy is cut group by group as the plan grows,
so each group is selected and compensated on the network as it will be after the
groups before it are reduced.
"""

from __future__ import annotations

import copy
import functools
import re
import time
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch
from torch import nn

from netgraph.calibrate.calibrate import Calibration, stream_statistics
from netgraph.errors import InvalidParameterError, PlanError
from netgraph.graph.groups import UnitGroup, find_unit_groups
from netgraph.graph.weights import incoming_weights, outgoing_weights
from netgraph.reduce.apply import apply_group
from netgraph.reduce.budget import allocate_global_budget
from netgraph.reduce.duplicates import exact_duplicates
from netgraph.reduce.fold import FOLDS, fold_consumer, merge_scales
from netgraph.reduce.metrics import svd_bound, unit_reconstruction_error
from netgraph.reduce.plan import GroupPlan, ReductionPlan, architecture_fingerprint, weights_fingerprint
from netgraph.select.base import Selection, SelectionContext, get_method, method_needs_data

__all__ = ["plan_reduction", "select_groups", "check_finite_weights"]

OWNER = "plan_reduction"
Progress = Callable[[str, int, int], None]


def check_finite_weights(model: nn.Module) -> None:
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise InvalidParameterError(
                f"The model has NaN or Inf values in {name!r}; reduce a model with finite weights "
                "(re-train or reload the checkpoint)."
            )


def select_groups(all_groups: list[UnitGroup], groups: str | list[str] | None) -> tuple[list[UnitGroup], list[str]]:
    """The groups to reduce, and the names of matched groups skipped as unfoldable."""
    if groups is None:
        chosen = [g for g in all_groups if g.foldable]
        return chosen, [g.name for g in all_groups if not g.foldable]
    names = [g.name for g in all_groups]
    if isinstance(groups, str):
        try:
            pattern = re.compile(groups)
        except re.error as error:
            raise InvalidParameterError.expected("groups", OWNER, "a valid regular expression", groups) from error
        matched = [g for g in all_groups if pattern.search(g.name)]
        if not matched:
            raise InvalidParameterError(
                f"The 'groups' pattern {groups!r} of {OWNER} matches no unit group; groups are: {', '.join(names)}."
            )
        chosen = [g for g in matched if g.foldable]
        if not chosen:
            reasons = "; ".join(f"{g.name}: {g.reason}" for g in matched)
            raise PlanError(f"The 'groups' pattern {groups!r} matches only groups that cannot be reduced ({reasons}).")
        return chosen, [g.name for g in matched if not g.foldable]
    unknown = [name for name in groups if name not in names]
    if unknown:
        raise InvalidParameterError(
            f"The 'groups' parameter of {OWNER} names unknown groups {unknown}; groups are: {', '.join(names)}."
        )
    chosen = [g for g in all_groups if g.name in groups]
    for group in chosen:
        if not group.foldable:
            raise PlanError(f"Group {group.name!r} cannot be reduced: {group.reason}.")
    return chosen, []


def _keep_fractions(keep: float | Mapping[str, float], groups: list[UnitGroup]) -> dict[str, float]:
    def check(value: Any, label: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < float(value) <= 1):
            raise InvalidParameterError.expected(label, OWNER, "a float in (0, 1]", value)
        return float(value)

    if isinstance(keep, Mapping):
        names = {g.name for g in groups}
        unknown = [name for name in keep if name not in names]
        if unknown:
            raise InvalidParameterError(
                f"The 'keep' parameter of {OWNER} names groups {unknown} that are not being reduced; "
                f"they are: {', '.join(sorted(names))}."
            )
        return {g.name: check(keep.get(g.name, 1.0), f"keep[{g.name!r}]") for g in groups}
    fraction = check(keep, "keep")
    return {g.name: fraction for g in groups}


def _n_keep(fraction: float, size: int) -> int:
    return int(min(size, max(1, round(fraction * size))))


def _restores_training_mode(function):
    """The model is only read: put back its train/eval mode whatever happens."""

    @functools.wraps(function)
    def wrapper(model: nn.Module, *args, **kwargs):
        was_training = model.training
        try:
            return function(model, *args, **kwargs)
        finally:
            model.train(was_training)

    return wrapper


@_restores_training_mode
def plan_reduction(
    model: nn.Module,
    example_inputs: Any,
    keep: float | Mapping[str, float] = 0.5,
    method: str = "magnitude",
    fold: str = "lstsq",
    calibration: Iterable[Any] | None = None,
    groups: str | list[str] | None = None,
    sequential: bool = True,
    random_state: int | None = None,
    *,
    method_params: dict[str, Any] | None = None,
    budget: str = "group",
    ridge: float = 1e-6,
    progress: Progress | None = None,
) -> ReductionPlan:
    """Plan which units of each group to keep and how to compensate the rest.

    Parameters
    ----------
    model : nn.Module
        The trained model; it is not modified.
    example_inputs : tensor, tuple or dict
        One batch of inputs, used to trace the model's layer coupling.
    keep : float in (0, 1] or dict {group name: fraction}
        Fraction of units to keep in every selected group (groups missing from a dict keep all).
    method : str
        A registered selection method (``netgraph.select.available_methods()``).
    fold : {"none", "exact", "lstsq"}
        How dropped units are compensated (see ``netgraph.reduce.fold``).
    calibration : iterable of batches, or a Calibration, optional
        Model inputs for statistics; required by ``fold="lstsq"`` and data-driven methods.
        A :class:`~netgraph.calibrate.Calibration` from :func:`~netgraph.calibrate` is
        used as is (its statistics describe the original network, so ``sequential`` is
        ignored: refitting against the reduced network needs the batches themselves).
    groups : regex or list of names, optional
        Which groups to reduce (default: every foldable group).
    sequential : bool
        With calibration, refit each group's consumers on the already reduced network so
        that they reproduce the *original* network's outputs (one pass per group);
        otherwise one pass collects statistics of the original network for all groups.
    random_state : int, optional
        Seed of every random choice.
    budget : {"group", "global"}
        ``"group"`` keeps ``keep`` of every group; ``"global"`` keeps ``keep`` of all units
        together and shares them across groups by their measured error curves
        (``netgraph.reduce.budget``; needs calibration and a float ``keep``).

    Returns
    -------
    ReductionPlan

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> data = [torch.randn(32, 4) for _ in range(4)]
    >>> plan = plan_reduction(mlp, data[0], keep=0.25, calibration=data)
    >>> [(p.group.name, p.kept.size) for p in plan.groups]
    [('0', 4)]
    """
    started = time.perf_counter()
    if fold not in FOLDS:
        raise InvalidParameterError.expected("fold", OWNER, f"one of {', '.join(FOLDS)}", fold)
    select = get_method(method)
    if not isinstance(sequential, bool):
        raise InvalidParameterError.expected("sequential", OWNER, "a bool", sequential)
    if budget not in ("group", "global"):
        raise InvalidParameterError.expected("budget", OWNER, "'group' or 'global'", budget)
    if budget == "global" and (calibration is None or isinstance(keep, Mapping)):
        raise InvalidParameterError(
            f"budget='global' of {OWNER} needs calibration data and a single float keep; "
            "pass calibration=batches and keep=<fraction>."
        )
    if not (isinstance(ridge, (int, float)) and ridge >= 0):
        raise InvalidParameterError.expected("ridge", OWNER, "a non-negative float", ridge)
    precomputed = calibration if isinstance(calibration, Calibration) else None
    if precomputed is not None:
        sequential = False
    batches = None if calibration is None or precomputed is not None else list(calibration)
    if batches is not None and not batches:
        raise InvalidParameterError(f"The 'calibration' data of {OWNER} is empty; give at least one batch or None.")
    if batches is None and precomputed is None and fold == "lstsq":
        raise InvalidParameterError(
            f"fold='lstsq' of {OWNER} needs calibration data; pass calibration=batches or use fold='exact' (data-free)."
        )
    if batches is None and precomputed is None and method_needs_data(method):
        raise InvalidParameterError(f"method={method!r} of {OWNER} needs calibration data; pass calibration=batches.")
    check_finite_weights(model)
    generator = np.random.default_rng(random_state)

    all_groups = find_unit_groups(model, example_inputs)
    chosen, skipped = select_groups(all_groups, groups)
    fractions = _keep_fractions(keep, chosen)
    traced = time.perf_counter()

    original = model.eval()
    current = copy.deepcopy(model).eval()
    shared: Calibration | None = precomputed
    if precomputed is not None:
        missing = [g.name for g in chosen if g.name not in precomputed.units]
        if missing:
            raise InvalidParameterError(
                f"The Calibration given to {OWNER} has no statistics for groups {missing}; "
                "calibrate with the same groups (or pass the batches)."
            )
    elif batches is not None and (not sequential or budget == "global"):
        shared = stream_statistics(original, batches, chosen)
    if budget == "global":
        fractions = allocate_global_budget(original, chosen, shared, fractions[chosen[0].name], ridge=ridge)
    if sequential:
        shared = None
    calibrated = time.perf_counter()

    tensors: dict[str, torch.Tensor] = {}
    group_plans: list[GroupPlan] = []
    cut_rows: dict[str, np.ndarray] = {}  # module -> original output rows still present
    for step, group in enumerate(chosen):
        if progress is not None:
            progress(group.name, step, len(chosen))
        stats = shared
        if batches is not None and sequential:
            stats = stream_statistics(current, batches, [group], reference=original, output_rows=cut_rows)
        plan = _plan_group(
            current, group, _n_keep(fractions[group.name], group.size), select, method, fold, stats,
            generator, dict(method_params or {}), ridge, tensors,
        )
        group_plans.append(plan)
        apply_group(current, plan, tensors)
        for member in [*group.producers]:
            rows = cut_rows.get(member.module, np.arange(member.columns.max() + 1))
            keep_mask = np.ones(rows.size, dtype=bool)
            keep_mask[member.columns[plan.dropped].reshape(-1)] = False
            cut_rows[member.module] = rows[keep_mask]
    finished = time.perf_counter()
    if progress is not None:
        progress("done", len(chosen), len(chosen))
    return ReductionPlan(
        groups=group_plans,
        method=method,
        fold=fold,
        parameters={
            "keep": dict(keep) if isinstance(keep, Mapping) else keep,
            "budget": budget,
            "keep_per_group": fractions,
            "groups": groups,
            "skipped_groups": skipped,
            "method_params": dict(method_params or {}),
            "sequential": sequential,
            "random_state": random_state,
            "ridge": ridge,
            "calibration_batches": (
                precomputed.n_batches if precomputed is not None else 0 if batches is None else len(batches)
            ),
        },
        fingerprint={"architecture": architecture_fingerprint(model), "weights": weights_fingerprint(model)},
        tensors=tensors,
        timings={
            "trace_s": traced - started,
            "calibrate_s": calibrated - traced,
            "plan_s": finished - calibrated,
            "total_s": finished - started,
        },
    )


def _plan_group(
    current: nn.Module,
    group: UnitGroup,
    n_keep: int,
    select,
    method: str,
    fold: str,
    calibration: Calibration | None,
    generator: np.random.Generator,
    params: dict[str, Any],
    ridge: float,
    tensors: dict[str, torch.Tensor],
) -> GroupPlan:
    modules = dict(current.named_modules())
    incoming = incoming_weights(current, group)
    outgoing = outgoing_weights(current, group)
    unit_stats = calibration.units.get(group.name) if calibration is not None else None

    # Exact duplicates are merged first whatever the method: they cost nothing.
    duplicate_of = np.arange(group.size) if group.residual else exact_duplicates(incoming, group.homogeneous)
    unique = np.flatnonzero(duplicate_of == np.arange(group.size))
    context = SelectionContext(
        group=group,
        n_keep=min(n_keep, unique.size),
        incoming=incoming[unique],
        outgoing=outgoing[unique],
        stats=_restrict(unit_stats, unique),
        homogeneous=group.homogeneous,
        random_state=generator,
        params=params,
    )
    selection: Selection = select(context)
    selection.validate(unique.size)
    assignment = np.full(group.size, -1, dtype=np.int64)
    local = selection.assignment
    assignment[unique] = np.where(local >= 0, unique[np.clip(local, 0, None)], -1)
    duplicates = np.flatnonzero(duplicate_of != np.arange(group.size))
    assignment[duplicates] = assignment[duplicate_of[duplicates]]
    kept = np.sort(unique[selection.kept])
    scales = None if group.residual else merge_scales(incoming, assignment, group.homogeneous)
    # A plain drop still takes the free merges: duplicates whose representative stays.
    free = np.zeros(group.size, dtype=bool)
    free[duplicates] = assignment[duplicates] == duplicate_of[duplicates]

    compensation: dict[str, dict[str, str | None]] = {}
    errors = []
    for consumer in group.consumers:
        module = modules[consumer.module]
        stats = calibration.consumers.get(consumer.module) if calibration is not None else None
        use_scales = None
        if scales is not None and fold == "exact":
            use_scales = scales
        elif scales is not None and fold == "none":
            use_scales = np.where(free, scales, 0.0)
        update = fold_consumer(
            module, consumer, group, kept, assignment, fold, scales=use_scales, stats=stats, ridge=ridge
        )
        weight_key = f"{group.name}/{consumer.module}/weight"
        tensors[weight_key] = update.weight.contiguous()
        bias_key = None
        if update.bias is not None:
            bias_key = f"{group.name}/{consumer.module}/bias"
            tensors[bias_key] = update.bias.contiguous()
        compensation[consumer.module] = {"weight": weight_key, "bias": bias_key}
        if update.output_error is not None:
            errors.append(update.output_error)

    metrics: dict[str, Any] = {
        "units": group.size,
        "kept": int(kept.size),
        "exact_duplicates": int(duplicates.size),
        **{k: v for k, v in selection.info.items() if isinstance(v, (int, float, str, bool))},
    }
    if errors:
        metrics["output_error"] = float(np.mean(errors))
    if unit_stats is not None:
        covariance = unit_stats.covariance
        error = unit_reconstruction_error(covariance, kept)
        bound = svd_bound(covariance, kept.size)
        metrics["unit_error"] = error
        metrics["svd_bound"] = bound
        metrics["svd_ratio"] = error / bound if bound > 1e-12 else (1.0 if error <= 1e-12 else float("inf"))
    return GroupPlan(group=group, kept=kept, assignment=assignment, compensation=compensation, metrics=metrics, fold=fold)


def _restrict(stats, indices: np.ndarray):
    if stats is None or indices.size == stats.n_units:
        return stats
    from netgraph.calibrate.stats import UnitStats

    return UnitStats(stats.count, stats.total[indices], stats.gram[np.ix_(indices, indices)])
