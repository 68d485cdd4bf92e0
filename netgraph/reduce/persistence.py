"""Saving and loading reduced models without pickle: ``plan.json`` + ``model.safetensors``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from torch import nn

from netgraph.errors import CheckpointError, PlanError
from netgraph.reduce.apply import apply_group
from netgraph.reduce.plan import ReductionPlan, architecture_fingerprint

__all__ = ["save_reduced", "load_reduced"]

PLAN_FILE = "plan.json"
WEIGHTS_FILE = "model.safetensors"


def save_reduced(model: nn.Module, plan: ReductionPlan, directory: str | os.PathLike) -> Path:
    """Write ``plan.json`` (structure and provenance) and ``model.safetensors`` into ``directory``.

    Both files are written to a temporary folder first and moved into place, so a failure
    never leaves a half-written pair.
    """
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory, prefix=".staging-"))
    try:
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        # safetensors refuses shared storage (tied weights); clone to be safe.
        state = {k: v.clone() for k, v in state.items()}
        save_file(state, str(staging / WEIGHTS_FILE))
        (staging / PLAN_FILE).write_text(json.dumps(plan.to_dict(structure_only=True), indent=1))
        for name in (WEIGHTS_FILE, PLAN_FILE):
            os.replace(staging / name, directory / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def load_reduced(original: nn.Module, directory: str | os.PathLike) -> nn.Module:
    """Rebuild a reduced model: replay the plan's shapes on ``original`` (a fresh copy of the
    original architecture, any weights) and load the saved weights. ``original`` is not modified."""
    import copy

    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"Reduced-model folder {str(directory)!r} does not exist.")
    plan = ReductionPlan.load(directory / PLAN_FILE)
    weights_path = directory / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointError(f"Weights file {str(weights_path)!r} is missing.")
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
        apply_group(reduced, group_plan, None)
    try:
        reduced.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise CheckpointError(f"Weights in {str(weights_path)!r} do not fit the plan's shapes: {first}.") from error
    return reduced.eval()
