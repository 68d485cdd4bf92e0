"""Held-out data inside a reduction: split the calibration data, score the plan on what it did not see.

``plan_reduction(..., holdout=0.2)`` keeps the last fifth of every calibration batch out
of selection and folding, applies the finished plan to a copy of the model and records
held-out fidelity in ``plan.diagnostics["fidelity"]`` beside the calibration fit (the
per-group output errors). With reference data it also scores the reduced model there and
records the specialisation check.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from netgraph.batches import batch_size
from netgraph.errors import InvalidParameterError
from netgraph.fidelity.domains import check_specialisation, mix_calibration
from netgraph.fidelity.score import measure_fidelity

__all__ = ["split_holdout", "MIN_HELD_OUT", "score_reduction", "plan_with_fidelity"]

MIN_HELD_OUT = 16  # fewer held-out samples give no meaningful fidelity (and 10 neighbours need 11)


def _rows(value: Any, start: int, stop: int | None) -> Any:
    if isinstance(value, torch.Tensor):
        return value[start:stop]
    if isinstance(value, dict):
        return {key: _rows(item, start, stop) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_rows(item, start, stop) for item in value)
    return value


def split_holdout(batches: Sequence[Any], fraction: float) -> tuple[list[Any], list[Any]]:
    """Split every batch into a calibration part and a held-out part (its last ``fraction`` of rows).

    Returns ``(calibration, held_out)``; ``held_out`` is empty when ``fraction`` is 0 or
    would hold out fewer than :data:`MIN_HELD_OUT` samples in all (then nothing is taken
    away from calibration). Taking rows from every batch, not whole batches, keeps both
    parts drawn from the same mixture however the batches were ordered.

    Examples
    --------
    >>> calibration, held_out = split_holdout([torch.zeros(50, 3), torch.zeros(50, 3)], 0.2)
    >>> [b.shape[0] for b in calibration], [b.shape[0] for b in held_out]
    ([40, 40], [10, 10])
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction < 1:
        raise InvalidParameterError.expected("holdout", "plan_reduction", "a float in [0, 1), e.g. 0.2", fraction)
    batches = list(batches)
    sizes = [batch_size(batch) for batch in batches]
    held = [int(round(fraction * size)) if size > 1 else 0 for size in sizes]
    if fraction == 0 or sum(held) < MIN_HELD_OUT:
        return batches, []
    calibration = [_rows(b, 0, size - n) for b, size, n in zip(batches, sizes, held)]
    held_out = [_rows(b, size - n, None) for b, size, n in zip(batches, sizes, held) if n > 0]
    return calibration, held_out


def score_reduction(
    original: nn.Module,
    reduced: nn.Module,
    held_out: Sequence[Any],
    reference: Sequence[Any] | None = None,
    *,
    labels: torch.Tensor | None = None,
    output_fn=None,
) -> dict[str, Any]:
    """Held-out fidelity, and with ``reference`` data the reference fidelity and specialisation check.

    Returns a JSON-ready dict: ``held_out`` (a :class:`~netgraph.fidelity.Fidelity` as
    dict), optionally ``reference`` and ``specialisation`` (with its one-sentence verdict).
    """
    result: dict[str, Any] = {}
    inside = measure_fidelity(original, reduced, held_out, labels=labels, output_fn=output_fn,
                              data="held-out part of the calibration data")
    result["held_out"] = inside.to_dict()
    if reference:
        outside = measure_fidelity(original, reduced, reference, output_fn=output_fn, kind=inside.kind,
                                   data="reference data")
        result["reference"] = outside.to_dict()
        result["specialisation"] = check_specialisation(inside, outside).to_dict()
    return result


def _is_precomputed(calibration: Any) -> bool:
    from netgraph.calibrate.calibrate import Calibration

    return isinstance(calibration, Calibration)


def plan_with_fidelity(
    plan_from_config,
    model: nn.Module,
    example_inputs: Any,
    config,
    calibration: Any,
    *,
    holdout: float,
    reference: Sequence[Any] | None,
    mix: float,
    progress=None,
):
    """``plan_reduction`` with a held-out split, optional reference data and mixing.

    The calibration batches lose their last ``holdout`` of rows to a held-out set; with
    ``mix > 0`` half of the reference batches are mixed into what is left (the other half
    is only scored, so reference fidelity is held out too). After planning, the plan is
    applied to a copy of ``model`` and ``plan.diagnostics["fidelity"]`` records held-out
    fidelity, reference fidelity and the specialisation check next to the calibration
    fit (mean per-group output error on the calibration data).
    """
    from netgraph.reduce.apply import apply_plan

    if isinstance(mix, bool) or not isinstance(mix, (int, float)) or not 0 <= mix <= 1:
        raise InvalidParameterError.expected("mix", "plan_reduction", "a float in [0, 1]", mix)
    if mix > 0 and reference is None:
        raise InvalidParameterError(
            "mix > 0 of plan_reduction needs reference data; pass reference=batches (e.g. the built-in text)."
        )
    if _is_precomputed(calibration) and (holdout or mix):
        raise InvalidParameterError(
            "holdout and mix of plan_reduction need calibration batches, not a precomputed Calibration; "
            "pass the batches or set holdout=0 and mix=0."
        )
    held_out: list[Any] = []
    if calibration is not None and not _is_precomputed(calibration):
        calibration, held_out = split_holdout(list(calibration), holdout)
    else:
        split_holdout([], holdout)  # checks the value
    reference_scored: list[Any] = list(reference) if reference is not None else []
    n_mixed = 0
    if mix > 0:
        if calibration is None:
            raise InvalidParameterError("mix > 0 of plan_reduction needs calibration batches to mix with.")
        if len(reference_scored) >= 2:
            half = len(reference_scored) // 2
            reference_mixed, reference_scored = reference_scored[:half], reference_scored[half:]
        else:
            reference_mixed, reference_scored = split_holdout(reference_scored, 0.5)
            reference_scored = reference_scored or []
        calibration = mix_calibration(calibration, reference_mixed, mix)
        n_mixed = round(mix * sum(batch_size(b) for b in calibration))
    plan = plan_from_config(model, example_inputs, config, calibration, progress=progress)
    record: dict[str, Any] = {"holdout": holdout, "mix": mix, "n_reference_mixed": n_mixed}
    errors = [g.metrics.get("output_error") for g in plan.groups if g.metrics.get("output_error") is not None]
    if errors:
        record["calibration_fit"] = {"output_error_mean": float(sum(errors) / len(errors))}
    if held_out or reference_scored:
        reduced = apply_plan(model, plan)
        if held_out:
            record.update(score_reduction(model, reduced, held_out, reference_scored or None))
        else:
            record["reference"] = measure_fidelity(model, reduced, reference_scored, data="reference data").to_dict()
    plan.diagnostics["fidelity"] = record
    return plan
