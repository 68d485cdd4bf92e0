"""The reduction plan: pure data (JSON + a companion safetensors file), never pickle.

A plan says, for each unit group in order, which units stay and what each consumer
layer's weights become. Applying it to a fresh copy of the original architecture
reproduces the smaller architecture exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from netgraph.atomic import atomic_write
from netgraph.errors import CheckpointError, PlanError
from netgraph.graph.groups import UnitGroup

__all__ = ["GroupPlan", "ReductionPlan", "architecture_fingerprint", "weights_fingerprint"]

PLAN_FORMAT = "netgraph-plan"
PLAN_VERSION = 1


def architecture_fingerprint(model: nn.Module) -> str:
    """SHA-256 of every module's name, class and parameter/buffer shapes."""
    digest = hashlib.sha256()
    for name, module in model.named_modules():
        digest.update(f"{name}:{type(module).__name__};".encode())
        for pname, tensor in list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False)):
            digest.update(f"{pname}{tuple(tensor.shape)};".encode())
    return digest.hexdigest()


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 of every parameter's values: a plan's compensation fits these weights only."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@dataclass
class GroupPlan:
    """What happens to one group.

    ``compensation[module] = {"weight": key, "bias": key-or-None}`` names tensors in the
    plan's tensor store: the consumer's new weights over the kept input columns.
    ``metrics`` holds reconstruction errors on calibration data (absent when data-free).
    """

    group: UnitGroup
    kept: np.ndarray
    assignment: np.ndarray
    compensation: dict[str, dict[str, str | None]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    fold: str = "none"

    @property
    def dropped(self) -> np.ndarray:
        return np.setdiff1d(np.arange(self.group.size), self.kept)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group.to_dict(),
            "kept": self.kept.tolist(),
            "assignment": self.assignment.tolist(),
            "compensation": self.compensation,
            "metrics": self.metrics,
            "fold": self.fold,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GroupPlan":
        return cls(
            group=UnitGroup.from_dict(data["group"]),
            kept=np.asarray(data["kept"], dtype=np.int64),
            assignment=np.asarray(data["assignment"], dtype=np.int64),
            compensation=data.get("compensation", {}),
            metrics=data.get("metrics", {}),
            fold=data.get("fold", "none"),
        )


@dataclass
class ReductionPlan:
    """A complete, replayable description of a reduction.

    Attributes
    ----------
    groups : list of GroupPlan
        In the order they must be applied.
    method, fold : str
        How units were chosen and compensated.
    parameters : dict
        keep, groups pattern, method parameters, sequential, random_state, calibration size.
    fingerprint : dict
        ``architecture`` and ``weights`` SHA-256 of the model the plan was made for.
    tensors : dict of str -> Tensor
        Compensation weights, saved in a companion safetensors file.
    """

    groups: list[GroupPlan]
    method: str
    fold: str
    parameters: dict[str, Any]
    fingerprint: dict[str, str]
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    # --- summaries ---------------------------------------------------------------------
    def group_plan(self, name: str) -> GroupPlan:
        for plan in self.groups:
            if plan.group.name == name:
                return plan
        raise KeyError(name)

    def summary(self) -> list[dict[str, Any]]:
        """One row per group: units before/after and errors (for reports and tables)."""
        return [
            {"group": p.group.name, "units": p.group.size, "kept": int(p.kept.size), **p.metrics}
            for p in self.groups
        ]

    # --- serialisation -----------------------------------------------------------------
    def to_dict(self, *, structure_only: bool = False) -> dict[str, Any]:
        groups = []
        for plan in self.groups:
            entry = plan.to_dict()
            if structure_only:
                entry["compensation"] = {}
            groups.append(entry)
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "method": self.method,
            "fold": self.fold,
            "parameters": self.parameters,
            "fingerprint": self.fingerprint,
            "timings": self.timings,
            "groups": groups,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], tensors: dict[str, torch.Tensor] | None = None) -> "ReductionPlan":
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise PlanError("Not a netgraph plan: the 'format' field is missing or wrong.")
        if int(data.get("version", 0)) > PLAN_VERSION:
            raise PlanError(f"Plan version {data['version']} is newer than this netgraph understands ({PLAN_VERSION}).")
        try:
            groups = [GroupPlan.from_dict(g) for g in data["groups"]]
            return cls(
                groups=groups,
                method=data["method"],
                fold=data["fold"],
                parameters=data.get("parameters", {}),
                fingerprint=data["fingerprint"],
                tensors=dict(tensors or {}),
                timings=data.get("timings", {}),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PlanError(f"Malformed plan: {type(error).__name__}: {error}.") from error

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path`` (JSON) and, when the plan carries tensors, ``path`` + ``.safetensors``."""
        from safetensors.torch import save_file

        path = Path(path)
        if self.tensors:
            tensors = {k: v.detach().contiguous() for k, v in self.tensors.items()}
            atomic_write(_tensor_path(path), lambda tmp: save_file(tensors, str(tmp)))
        text = json.dumps(self.to_dict(), indent=1, default=_json_default)
        atomic_write(path, lambda tmp: tmp.write_text(text))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ReductionPlan":
        """Read a plan written by :meth:`save` (no pickle involved)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"Plan file {str(path)!r} does not exist.")
        try:
            data = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CheckpointError(f"Plan file {str(path)!r} is not valid JSON ({error}); it may be truncated.") from error
        tensors = {}
        needs_tensors = any(g.get("compensation") for g in data.get("groups", []) if isinstance(g, dict))
        if needs_tensors:
            tensor_path = _tensor_path(path)
            if not tensor_path.is_file():
                raise CheckpointError(f"The plan's tensor file {str(tensor_path)!r} is missing.")
            try:
                tensors = load_file(str(tensor_path))
            except (SafetensorError, OSError, ValueError) as error:
                raise CheckpointError(f"The plan's tensor file {str(tensor_path)!r} is corrupt: {error}.") from error
        return cls.from_dict(data, tensors)


def _tensor_path(path: Path) -> Path:
    return path.with_name(path.name + ".safetensors")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Cannot serialise {type(value).__name__} to JSON.")
