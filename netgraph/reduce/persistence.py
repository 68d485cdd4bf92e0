"""Saving and loading reduced models without pickle: ``plan.json`` + ``model.safetensors``.

``plan.json`` records the SHA-256 and size of ``model.safetensors`` and carries a checksum
of its own bytes (:mod:`netgraph.reduce.integrity`), and it is validated field by field
(:mod:`netgraph.reduce.schema`) before any model is touched: a damaged, truncated or
mixed-up pair is refused with a :class:`~netgraph.errors.CheckpointError` instead of
loading weights that are silently wrong.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

from torch import nn

from netgraph.atomic import atomic_write, atomic_write_bytes
from netgraph.errors import CheckpointError, InvalidParameterError, PlanError
from netgraph.reduce.apply import apply_group
from netgraph.reduce.integrity import FILES_KEY, dumps_checked, file_record, json_default
from netgraph.reduce.plan import ReductionPlan, architecture_fingerprint

__all__ = ["save_reduced", "load_reduced", "PLAN_FILE", "WEIGHTS_FILE"]

PLAN_FILE = "plan.json"
WEIGHTS_FILE = "model.safetensors"


def _module_width(module: nn.Module) -> int | None:
    for attribute in ("out_features", "out_channels", "num_features"):
        if isinstance(getattr(module, attribute, None), int):
            return getattr(module, attribute)
    return None


def _check_plan_fits(model: nn.Module, plan: ReductionPlan) -> None:
    """Refuse a plan that cannot describe ``model`` (another model, or the unreduced one)."""
    modules = dict(model.named_modules())
    for group_plan in plan.groups:
        group = group_plan.group
        for member in (*group.producers, *group.norms, *group.consumers):
            if member.module not in modules:
                raise PlanError(
                    f"The plan names layer {member.module!r} (group {group.name!r}), which the model to save "
                    "does not have; save the model the plan was applied to (apply_plan(original, plan))."
                )
        kept = int(group_plan.kept.size)
        for member in group.producers:
            width = _module_width(modules[member.module])
            simple = member.columns.ndim <= 1 or member.columns.shape[-1] == 1
            if width is None or not simple:
                continue
            if width < kept or (kept < group.size and width == group.size and int(member.columns.max()) + 1 == group.size):
                raise PlanError(
                    f"Layer {member.module!r} has {width} outputs but the plan keeps {kept} of {group.size} "
                    f"units of group {group.name!r}; save the model made by apply_plan(original, plan) with that plan."
                )


def save_reduced(model: nn.Module, plan: ReductionPlan, directory: str | os.PathLike) -> Path:
    """Write ``model.safetensors`` and ``plan.json`` (structure, provenance, checksums) into ``directory``.

    The weights are written first, then the plan, which records their SHA-256; each file
    appears in one rename. A run that dies between the two leaves new weights beside an
    old plan, which :func:`load_reduced` refuses (checksum mismatch) rather than
    mixing them. To replace a whole output folder at once, write into
    :func:`netgraph.report.staged_directory`, as the CLI does.

    Raises
    ------
    InvalidParameterError
        When ``model`` is not a module or ``plan`` not a :class:`ReductionPlan`.
    PlanError
        When the plan does not describe ``model`` (another model, or the unreduced original).
    """
    from safetensors.torch import save_file

    if not isinstance(model, nn.Module):
        raise InvalidParameterError.expected("model", "save_reduced", "a torch.nn.Module", type(model).__name__)
    if not isinstance(plan, ReductionPlan):
        raise InvalidParameterError.expected("plan", "save_reduced", "a ReductionPlan", type(plan).__name__)
    _check_plan_fits(model, plan)
    directory = Path(directory)
    # safetensors refuses shared storage (tied weights): clone every tensor.
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    weights_path = directory / WEIGHTS_FILE
    atomic_write(weights_path, lambda temporary: save_file(state, str(temporary)))
    record = plan.to_dict(structure_only=True)
    record[FILES_KEY] = {WEIGHTS_FILE: file_record(weights_path)}
    atomic_write_bytes(directory / PLAN_FILE, dumps_checked(record, default=json_default))
    return directory


def _state_mismatch(expected: dict, state: dict) -> str:
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
              if k in state and tuple(state[k].shape) != tuple(v.shape)]
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape (saved vs plan)", shapes)):
        if items:
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            parts.append(f"{label}: {', '.join(items[:3])}{more}")
    return "; ".join(parts) or "tensors differ"


def load_reduced(original: nn.Module, directory: str | os.PathLike) -> nn.Module:
    """Rebuild a reduced model: replay the plan's shapes on ``original`` (a fresh copy of the
    original architecture, any weights) and load the saved weights. ``original`` is not modified.

    The plan's checksum, its fields and the SHA-256 of ``model.safetensors`` are checked
    before ``original`` is copied.

    Raises
    ------
    CheckpointError
        A file is missing, damaged, changed after saving, or does not fit the plan.
    PlanError
        The plan was made for another architecture.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not isinstance(original, nn.Module):
        raise InvalidParameterError.expected("original", "load_reduced", "a torch.nn.Module", type(original).__name__)
    directory = Path(directory)
    if not directory.is_dir():
        what = "is a file, not a folder" if directory.exists() else "does not exist"
        raise CheckpointError(f"Reduced-model folder {str(directory)!r} {what}; give the folder holding plan.json.")
    plan = ReductionPlan.load(directory / PLAN_FILE)  # verifies checksums of every listed file
    weights_path = directory / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointError(f"Weights file {str(weights_path)!r} is missing; copy it back next to plan.json.")
    if plan.fingerprint.get("architecture") != architecture_fingerprint(original):
        raise PlanError(
            f"The plan in {str(directory)!r} was made for a different architecture; "
            "pass a fresh instance of the model it was reduced from."
        )
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"Weights file {str(weights_path)!r} is corrupt: {error}.") from error
    reduced = copy.deepcopy(original)
    for group_plan in plan.groups:
        try:
            apply_group(reduced, group_plan, None)
        except (IndexError, KeyError, ValueError, TypeError, RuntimeError) as error:
            raise CheckpointError(
                f"The plan in {str(directory)!r} does not replay on this model (group {group_plan.group.name!r}: "
                f"{type(error).__name__}: {error}); pass a fresh instance of the model it was reduced from."
            ) from error
    expected = reduced.state_dict()
    if set(expected) != set(state) or any(tuple(state[k].shape) != tuple(v.shape) for k, v in expected.items()):
        raise CheckpointError(
            f"Weights in {str(weights_path)!r} do not fit the plan's shapes ({_state_mismatch(expected, state)}); "
            "keep plan.json and model.safetensors of the same run together."
        )
    reduced.load_state_dict(state, strict=True)
    return reduced.eval()
