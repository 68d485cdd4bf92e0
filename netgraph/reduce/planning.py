"""plan_reduction: choose units group by group and fit their compensation.

The model is never modified: a working copy is cut group by group as the plan grows,
so each group is selected and compensated on the network as it will be after the
groups before it are reduced.

Three steps, each a function of its own: :func:`validate_inputs` (settings and data,
before any tracing), :func:`collect_statistics` (one pass over the calibration data and
the keep fraction of each group) and :func:`plan_group` (select, compensate and measure
one group). ``plan_reduction`` turns its keyword arguments into a
:class:`~netgraph.reduce.config.ReductionConfig` and runs :func:`plan_from_config`.
"""

from __future__ import annotations

import copy
import functools
import re
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn

from netgraph.calibrate.calibrate import Calibration, stream_statistics
from netgraph.errors import InvalidParameterError, PlanError, UnsupportedModelError
from netgraph.graph.groups import UnitGroup, find_unit_groups
from netgraph.graph.weights import incoming_weights, outgoing_weights
from netgraph.modes import eval_mode
from netgraph.reduce.apply import apply_group
from netgraph.reduce.budget import allocate_global_budget
from netgraph.reduce.config import ReductionConfig
from netgraph.reduce.duplicates import exact_duplicates, limit_duplicate_merges
from netgraph.reduce.guard import data_free_fold, refit_shortfall, thin_unit_statistics
from netgraph.reduce.fold import fold_consumer, merge_scales
from netgraph.reduce.metrics import svd_bound, unit_reconstruction_error
from netgraph.reduce.plan import GroupPlan, ReductionPlan, architecture_fingerprint, weights_fingerprint
from netgraph.select.base import SelectFunction, Selection, SelectionContext, get_method, method_needs_data

__all__ = [
    "plan_reduction",
    "plan_from_config",
    "validate_inputs",
    "collect_statistics",
    "plan_group",
    "select_groups",
    "check_finite_weights",
]

OWNER = "plan_reduction"
Progress = Callable[[str, int, int], None]


def check_finite_weights(model: nn.Module) -> None:
    """Refuse a model with NaN or Inf weights: every fit downstream would be NaN.

    A sum is finite only when every element is (NaN and Inf propagate), and reads the
    weights once with no boolean copy; only a non-finite sum (a bad weight, or an overflow
    of finite ones) is checked element by element.
    """
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor.sum()) and not torch.isfinite(tensor).all():
            raise InvalidParameterError(
                f"The model has NaN or Inf values in {name!r}; reduce a model with finite weights "
                "(re-train or reload the checkpoint)."
            )


def select_groups(
    all_groups: list[UnitGroup], groups: str | list[str] | None, fold: str = "lstsq"
) -> tuple[list[UnitGroup], list[str]]:
    """The groups to reduce, and the names of matched groups skipped as unfoldable.

    With ``fold="none"`` a group that can be cut but not compensated (a LayerNorm over its
    units) is reduced too, as Torch-Pruning would.
    """
    if groups is None:
        chosen = [g for g in all_groups if g.foldable or (fold == "none" and g.cuttable)]
        if not chosen:
            raise UnsupportedModelError(
                "Nothing in this model is reducible: "
                + "; ".join(f"{g.name}: {g.reason}" for g in all_groups)[:600]
                + (". " if all_groups else "no layer pair netgraph can cut was found. ")
                + "Try fold='none', or reduce attention heads with netgraph.transformer."
            )
        return chosen, [g.name for g in all_groups if g not in chosen]
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
        chosen = [g for g in matched if g.foldable or (fold == "none" and g.cuttable)]
        if not chosen:
            reasons = "; ".join(f"{g.name}: {g.reason}" for g in matched)
            raise PlanError(f"The 'groups' pattern {groups!r} matches only groups that cannot be reduced ({reasons}).")
        return chosen, [g.name for g in matched if g not in chosen]
    unknown = [name for name in groups if name not in names]
    if unknown:
        raise InvalidParameterError(
            f"The 'groups' parameter of {OWNER} names unknown groups {unknown}; groups are: {', '.join(names)}."
        )
    chosen = [g for g in all_groups if g.name in groups]
    for group in chosen:
        if not group.foldable and not (fold == "none" and group.cuttable):
            raise PlanError(f"Group {group.name!r} cannot be reduced: {group.reason}.")
    return chosen, []


def _keep_fractions(config: ReductionConfig, groups: list[UnitGroup]) -> dict[str, float]:
    """The keep fraction of every group being reduced; a per-group dict may name only those."""
    if isinstance(config.keep, dict):
        names = {g.name for g in groups}
        unknown = [name for name in config.keep if name not in names]
        if unknown:
            raise InvalidParameterError(
                f"The 'keep' parameter of {OWNER} names groups {unknown} that are not being reduced; "
                f"they are: {', '.join(sorted(names))}."
            )
    return {g.name: config.keep_fraction(g.name) for g in groups}


def _n_keep(fraction: float, size: int, round_to: int = 1) -> int:
    """Units kept of ``size``: the nearest multiple of ``round_to`` (never 0, never above
    ``size``); groups smaller than ``round_to`` keep the unrounded count."""
    n_keep = int(min(size, max(1, round(fraction * size))))
    if round_to > 1 and size >= round_to:
        n_keep = int(min(size, max(round_to, int(n_keep / round_to + 0.5) * round_to)))
    return n_keep


def _restores_training_mode(function):
    """The model is only read: evaluate it, then put back every submodule's mode whatever happens."""

    @functools.wraps(function)
    def wrapper(model: nn.Module, *args, **kwargs):
        with eval_mode(model):
            return function(model, *args, **kwargs)

    return wrapper


def plan_reduction(
    model: nn.Module,
    example_inputs: Any,
    keep: float | dict[str, float] = 0.5,
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
    round_to: int = 1,
    holdout: float = 0.0,
    reference: Iterable[Any] | None = None,
    mix: float = 0.0,
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
    method_params : dict, optional
        Keyword arguments of the method.
    budget : {"group", "global"}
        ``"group"`` keeps ``keep`` of every group; ``"global"`` keeps ``keep`` of all units
        together and shares them across groups by their measured error curves
        (``netgraph.reduce.budget``; needs calibration and a float ``keep``).
    ridge : float
        Relative ridge of the least-squares refits.
    progress : callable(group name, step, n_groups), optional
        Called before each group and once with ``"done"``.
    round_to : int
        Round each group's kept count to the nearest multiple of this (e.g. 8; never 0 and
        never above the group's size): odd widths run slowly on CPU kernels.
    holdout : float in [0, 1)
        Share of every calibration batch kept out of selection and folding; the finished
        plan is scored there and ``plan.diagnostics["fidelity"]`` records held-out fidelity
        (cosine and retrieval agreement for encoders, agreement and accuracy for
        classifiers) beside the calibration fit (``netgraph.fidelity``). 0.2 is a good
        choice; 0 (the default) keeps every sample for calibration.
    reference : iterable of batches, optional
        Other data (for text models, e.g. the built-in general text): the reduced model is
        scored there too and the record says whether it is specialised to the calibration
        data (``netgraph.fidelity.check_specialisation``).
    mix : float in [0, 1]
        Share of the calibration set replaced by reference data (half of ``reference``;
        the other half is only scored), so units are chosen and folded for both domains.

    Returns
    -------
    ReductionPlan
        Its ``config`` is the :class:`~netgraph.reduce.config.ReductionConfig` built from
        these arguments.

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
    config = ReductionConfig(
        keep=keep,
        method=method,
        fold=fold,
        groups=groups,
        sequential=sequential,
        random_state=random_state,
        method_params=method_params,
        budget=budget,
        ridge=ridge,
        round_to=round_to,
    )
    if holdout or reference is not None or mix:
        from netgraph.fidelity.holdout import plan_with_fidelity

        return plan_with_fidelity(plan_from_config, model, example_inputs, config, calibration, holdout=holdout,
                                  reference=reference, mix=mix, progress=progress)
    return plan_from_config(model, example_inputs, config, calibration, progress=progress)


@dataclass(frozen=True)
class PlanningInputs:
    """What :func:`validate_inputs` accepted: the method, the data and the effective config.

    ``config`` records what is actually done: ``sequential`` is False when a precomputed
    Calibration was given, because its statistics describe the original network only.
    """

    config: ReductionConfig
    select: SelectFunction
    batches: list[Any] | None
    precomputed: Calibration | None

    @property
    def calibration_batches(self) -> int:
        if self.precomputed is not None:
            return self.precomputed.n_batches
        return 0 if self.batches is None else len(self.batches)


def validate_inputs(model: nn.Module, config: ReductionConfig, calibration: Iterable[Any] | None) -> PlanningInputs:
    """Check everything that can be checked before tracing: the method, the data, the weights."""
    select = get_method(config.method)
    # A typo in method_params fails here, before tracing and calibration.
    select.validate_params(config.method_params)
    if config.budget == "global" and calibration is None:
        raise InvalidParameterError(
            f"budget='global' of {OWNER} needs calibration data and a single float keep; "
            "pass calibration=batches and keep=<fraction>."
        )
    precomputed = calibration if isinstance(calibration, Calibration) else None
    if precomputed is not None and config.sequential:
        config = config.replace(sequential=False)
    batches = None if calibration is None or precomputed is not None else list(calibration)
    if batches is not None and not batches:
        raise InvalidParameterError(f"The 'calibration' data of {OWNER} is empty; give at least one batch or None.")
    if batches is None and precomputed is None and config.fold == "lstsq":
        raise InvalidParameterError(
            f"fold='lstsq' of {OWNER} needs calibration data; pass calibration=batches or use fold='exact' (data-free)."
        )
    if batches is None and precomputed is None and method_needs_data(config.method):
        raise InvalidParameterError(
            f"method={config.method!r} of {OWNER} needs calibration data; pass calibration=batches."
        )
    check_finite_weights(model)
    return PlanningInputs(config=config, select=select, batches=batches, precomputed=precomputed)


@dataclass(frozen=True)
class PlanningStatistics:
    """What :func:`collect_statistics` measured before any group is cut.

    ``shared`` holds statistics of the original network for every group (None when the
    plan is data-free or refits sequentially); ``fractions`` the keep fraction per group.
    """

    shared: Calibration | None
    fractions: dict[str, float]


def collect_statistics(model: nn.Module, chosen: list[UnitGroup], inputs: PlanningInputs) -> PlanningStatistics:
    """One pass over the calibration data when a shared pass is needed, and the budget."""
    config = inputs.config
    fractions = _keep_fractions(config, chosen)
    shared = inputs.precomputed
    if shared is not None:
        missing = [g.name for g in chosen if g.name not in shared.units]
        if missing:
            raise InvalidParameterError(
                f"The Calibration given to {OWNER} has no statistics for groups {missing}; "
                "calibrate with the same groups (or pass the batches)."
            )
    elif inputs.batches is not None and (not config.sequential or config.budget == "global"):
        shared = stream_statistics(model, inputs.batches, chosen)
    if config.budget == "global":
        fractions = allocate_global_budget(model, chosen, shared, fractions[chosen[0].name], ridge=config.ridge)
    if config.sequential:
        shared = None
    return PlanningStatistics(shared=shared, fractions=fractions)


@_restores_training_mode
def plan_from_config(
    model: nn.Module,
    example_inputs: Any,
    config: ReductionConfig,
    calibration: Iterable[Any] | None = None,
    *,
    progress: Progress | None = None,
) -> ReductionPlan:
    """Plan a reduction from a :class:`~netgraph.reduce.config.ReductionConfig`.

    ``plan_from_config(model, inputs, plan.config, batches)`` replays a saved plan's recipe;
    the other parameters are those of :func:`plan_reduction`.
    """
    started = time.perf_counter()
    inputs = validate_inputs(model, config, calibration)
    config = inputs.config
    all_groups = find_unit_groups(model, example_inputs)
    chosen, skipped = select_groups(all_groups, config.groups, config.fold)
    traced = time.perf_counter()

    original = model.eval()
    statistics = collect_statistics(original, chosen, inputs)
    calibrated = time.perf_counter()

    generator = np.random.default_rng(config.random_state)
    current = copy.deepcopy(model).eval()
    tensors: dict[str, torch.Tensor] = {}
    group_plans: list[GroupPlan] = []
    cut_rows: dict[str, np.ndarray] = {}  # module -> original output rows still present
    for step, group in enumerate(chosen):
        if progress is not None:
            progress(group.name, step, len(chosen))
        stats = statistics.shared
        if inputs.batches is not None and config.sequential:
            stats = stream_statistics(current, inputs.batches, [group], reference=original, output_rows=cut_rows)
        plan, group_tensors = plan_group(
            current,
            group,
            _n_keep(statistics.fractions[group.name], group.size, config.round_to),
            inputs.select,
            config,
            calibration=stats,
            generator=generator,
        )
        group_plans.append(plan)
        tensors.update(group_tensors)
        apply_group(current, plan, tensors)
        cut_rows.update(_rows_left(cut_rows, group, plan))
    finished = time.perf_counter()
    if chosen and not any(plan.dropped.size for plan in group_plans):
        warnings.warn(
            f"plan_reduction removes no unit from the {len(chosen)} reducible groups (keep={config.keep!r}); "
            "lower keep to make the model smaller.",
            UserWarning,
            stacklevel=3,
        )
    if progress is not None:
        progress("done", len(chosen), len(chosen))
    return ReductionPlan(
        groups=group_plans,
        config=config,
        fingerprint={"architecture": architecture_fingerprint(model), "weights": weights_fingerprint(model)},
        tensors=tensors,
        timings={
            "trace_s": traced - started,
            "calibrate_s": calibrated - traced,
            "plan_s": finished - calibrated,
            "total_s": finished - started,
        },
        diagnostics={
            "keep_per_group": statistics.fractions,
            "skipped_groups": skipped,
            "skipped_reasons": {g.name: g.reason for g in all_groups if g.name in skipped},
            "calibration_batches": inputs.calibration_batches,
        },
    )


def _rows_left(cut_rows: dict[str, np.ndarray], group: UnitGroup, plan: GroupPlan) -> dict[str, np.ndarray]:
    """The original output rows each producer of ``group`` still has once the plan is applied."""
    left = {}
    for member in group.producers:
        rows = cut_rows.get(member.module, np.arange(member.columns.max() + 1))
        keep_mask = np.ones(rows.size, dtype=bool)
        keep_mask[member.columns[plan.dropped].reshape(-1)] = False
        left[member.module] = rows[keep_mask]
    return left


@dataclass(frozen=True)
class _Choice:
    """One group's selection mapped back onto all its units (exact duplicates included)."""

    kept: np.ndarray
    assignment: np.ndarray
    scales: np.ndarray | None  # merge scale of each unit into its target (None for residual groups)
    free: np.ndarray  # exact duplicates whose representative stays: merged even by fold="none"
    n_duplicates: int
    info: dict[str, Any]


def plan_group(
    current: nn.Module,
    group: UnitGroup,
    n_keep: int,
    select: SelectFunction,
    config: ReductionConfig,
    *,
    calibration: Calibration | None,
    generator: np.random.Generator,
) -> tuple[GroupPlan, dict[str, torch.Tensor]]:
    """Select, compensate and measure one group of the (partly reduced) ``current`` network.

    Returns the group's plan and the compensation tensors it names.
    """
    incoming = incoming_weights(current, group)
    unit_stats = calibration.units.get(group.name) if calibration is not None else None
    choice = _choose_units(
        current, group, n_keep, select=select, config=config, incoming=incoming, unit_stats=unit_stats,
        generator=generator,
    )
    compensation, tensors, errors, fallbacks = _compensate(current, group, choice, config, calibration)
    metrics = _group_metrics(group, choice, errors, unit_stats)
    if thin_unit_statistics(unit_stats, group.size):
        metrics["calibration_warning"] = thin_unit_statistics(unit_stats, group.size)
    if fallbacks:
        metrics["fallback"] = fallbacks
    plan = GroupPlan(
        group=group,
        kept=choice.kept,
        assignment=choice.assignment,
        compensation=compensation,
        metrics=metrics,
        fold=config.fold,
    )
    return plan, tensors


def _choose_units(
    current: nn.Module,
    group: UnitGroup,
    n_keep: int,
    *,
    select: SelectFunction,
    config: ReductionConfig,
    incoming: np.ndarray,
    unit_stats,
    generator: np.random.Generator,
) -> _Choice:
    # Exact duplicates are merged first whatever the method: they cost nothing.
    duplicate_of = np.arange(group.size) if group.residual else exact_duplicates(incoming, group.homogeneous)
    duplicate_of = limit_duplicate_merges(duplicate_of, n_keep)  # merging never collapses a group (guard.py)
    unique = np.flatnonzero(duplicate_of == np.arange(group.size))
    context = SelectionContext(
        group=group,
        n_keep=min(n_keep, unique.size),
        incoming=incoming[unique],
        outgoing=outgoing_weights(current, group)[unique],
        stats=_restrict(unit_stats, unique),
        homogeneous=group.homogeneous,
        random_state=generator,
        params=dict(config.method_params),
    )
    selection: Selection = select(context)
    selection.validate(unique.size)
    assignment = np.full(group.size, -1, dtype=np.int64)
    local = selection.assignment
    assignment[unique] = np.where(local >= 0, unique[np.clip(local, 0, None)], -1)
    duplicates = np.flatnonzero(duplicate_of != np.arange(group.size))
    assignment[duplicates] = assignment[duplicate_of[duplicates]]
    # A plain drop still takes the free merges: duplicates whose representative stays.
    free = np.zeros(group.size, dtype=bool)
    free[duplicates] = assignment[duplicates] == duplicate_of[duplicates]
    return _Choice(
        kept=np.sort(unique[selection.kept]),
        assignment=assignment,
        scales=None if group.residual else merge_scales(incoming, assignment, group.homogeneous),
        free=free,
        n_duplicates=int(duplicates.size),
        info=selection.info,
    )


def _compensate(
    current: nn.Module,
    group: UnitGroup,
    choice: _Choice,
    config: ReductionConfig,
    calibration: Calibration | None,
) -> tuple[dict[str, dict[str, str | None]], dict[str, torch.Tensor], list[float], dict[str, str]]:
    """Each consumer's new weights: the compensation table, its tensors, the output errors and,
    per consumer, why a least-squares fold fell back to a plain drop (memory budget)."""
    modules = dict(current.named_modules())
    compensation: dict[str, dict[str, str | None]] = {}
    tensors: dict[str, torch.Tensor] = {}
    errors: list[float] = []
    fallbacks: dict[str, str] = {}
    scales = None  # lstsq refits the weights instead of adding merged units' columns
    if choice.scales is not None and config.fold == "exact":
        scales = choice.scales
    elif choice.scales is not None and config.fold == "none":
        scales = np.where(choice.free, choice.scales, 0.0)
    for consumer in group.consumers:
        stats = calibration.consumers.get(consumer.module) if calibration is not None else None
        fold, fold_scales = config.fold, scales
        shortfall = refit_shortfall(stats, choice.kept.size, group.size) if fold == "lstsq" else None
        if shortfall:  # too few rows to refit: the data-free fold, said in the plan (guard.py)
            fold = data_free_fold(choice.scales)
            fold_scales = choice.scales if fold == "exact" else None
        update = fold_consumer(
            modules[consumer.module], consumer, group, choice.kept, choice.assignment, fold,
            scales=fold_scales, stats=None if shortfall else stats, ridge=config.ridge,
        )
        if shortfall:
            fallbacks[consumer.module] = shortfall
        weight_key = f"{group.name}/{consumer.module}/weight"
        tensors[weight_key] = update.weight.contiguous()
        bias_key = None
        if update.bias is not None:
            bias_key = f"{group.name}/{consumer.module}/bias"
            tensors[bias_key] = update.bias.contiguous()
        compensation[consumer.module] = {"weight": weight_key, "bias": bias_key}
        if update.output_error is not None:
            errors.append(update.output_error)
        if update.fallback:
            fallbacks[consumer.module] = update.fallback
    return compensation, tensors, errors, fallbacks


def _group_metrics(group: UnitGroup, choice: _Choice, errors: list[float], unit_stats) -> dict[str, Any]:
    """The planner's measurements (``CORE_METRICS``) and the method's own facts under ``"method"``."""
    metrics: dict[str, Any] = {
        "units": group.size,
        "kept": int(choice.kept.size),
        "exact_duplicates": choice.n_duplicates,
    }
    if errors:
        metrics["output_error"] = float(np.mean(errors))
    if unit_stats is not None:
        covariance = unit_stats.covariance
        error = unit_reconstruction_error(covariance, choice.kept)
        bound = svd_bound(covariance, choice.kept.size)
        metrics["unit_error"] = error
        metrics["svd_bound"] = bound
        metrics["svd_ratio"] = error / bound if bound > 1e-12 else (1.0 if error <= 1e-12 else float("inf"))
    metrics["method"] = {k: v for k, v in choice.info.items() if isinstance(v, (int, float, str, bool))}
    return metrics


def _restrict(stats, indices: np.ndarray):
    if stats is None or indices.size == stats.n_units:
        return stats
    from netgraph.calibrate.stats import UnitStats

    return UnitStats(stats.count, stats.total[indices], stats.gram[np.ix_(indices, indices)])
