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
from netgraph.reduce.config import ReductionConfig

__all__ = ["GroupPlan", "ReductionPlan", "architecture_fingerprint", "weights_fingerprint", "upgrade_version_1"]

PLAN_FORMAT = "netgraph-plan"
PLAN_VERSION = 2
"""Version 2 splits the recipe (``config``) from ``diagnostics`` and nests method facts
under ``metrics["method"]``; version 1 files are read through :func:`upgrade_version_1`."""
_DIAGNOSTICS = ("keep_per_group", "skipped_groups", "calibration_batches")


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


CORE_METRICS = ("units", "kept", "exact_duplicates", "output_error", "unit_error", "svd_bound", "svd_ratio")
"""Metrics the planner itself measures; a method's own facts sit under ``metrics["method"]``."""


@dataclass
class GroupPlan:
    """What happens to one group.

    ``compensation[module] = {"weight": key, "bias": key-or-None}`` names tensors in the
    plan's tensor store: the consumer's new weights over the kept input columns.
    ``metrics`` holds the planner's measurements (:data:`CORE_METRICS`; reconstruction
    errors only with calibration data) and, under ``"method"``, what the selection method
    reported, so a method can never overwrite a core metric.
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

    The *recipe* (``config``) is kept apart from what planning measured (``diagnostics``,
    ``timings``, per-group ``metrics``): ``plan_from_config(model, inputs, plan.config,
    calibration)`` replays the plan from the recipe alone.

    Attributes
    ----------
    groups : list of GroupPlan
        In the order they must be applied.
    config : ReductionConfig
        Every setting the plan was made with.
    fingerprint : dict
        ``architecture`` and ``weights`` SHA-256 of the model the plan was made for.
    tensors : dict of str -> Tensor
        Compensation weights, saved in a companion safetensors file.
    timings : dict of str -> float
        Seconds spent tracing, calibrating and planning.
    diagnostics : dict
        ``keep_per_group`` (the fractions used, e.g. chosen by the global budget),
        ``skipped_groups`` (matched groups that cannot be reduced) and
        ``calibration_batches``.
    """

    groups: list[GroupPlan]
    config: ReductionConfig
    fingerprint: dict[str, str]
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        """The selection method's name (``config.method``)."""
        return self.config.method

    @property
    def fold(self) -> str:
        """How dropped units were compensated (``config.fold``)."""
        return self.config.fold

    @property
    def parameters(self) -> dict[str, Any]:
        """The settings and diagnostics in one flat dict, as plan format 1 stored them (read-only view)."""
        recipe = self.config.to_dict()
        recipe.pop("version")
        return {**recipe, **self.diagnostics}

    # --- summaries ---------------------------------------------------------------------
    def group_plan(self, name: str) -> GroupPlan:
        for plan in self.groups:
            if plan.group.name == name:
                return plan
        raise KeyError(name)

    def summary(self):
        """One row per group: units before/after and errors, as a printable table.

        Returns a :class:`~netgraph.report.summary_table.SummaryTable`: a list of row dicts
        (the data behind it; ``pandas.DataFrame(plan.summary())`` works) whose ``print``
        shows group, units, kept, keep fraction and the reconstruction errors.
        """
        from netgraph.report.summary_table import SummaryTable

        rows = []
        for p in self.groups:
            row = {"group": p.group.name, "units": p.group.size, "kept": int(p.kept.size), **p.metrics}
            row["keep"] = round(int(p.kept.size) / max(p.group.size, 1), 3)
            rows.append(row)
        preferred = ["group", "units", "kept", "keep", "exact_duplicates", "output_error", "unit_error", "svd_bound",
                     "svd_ratio"]
        columns = [c for c in preferred if any(c in row for row in rows)]
        return SummaryTable(rows, columns, title=f"Plan: method {self.method}, fold {self.fold}")

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
            "config": self.config.to_dict(),
            "diagnostics": self.diagnostics,
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
            if int(data.get("version", 0)) < 2:
                data = upgrade_version_1(data)
            groups = [GroupPlan.from_dict(g) for g in data["groups"]]
            return cls(
                groups=groups,
                config=ReductionConfig.from_dict(data["config"]),
                fingerprint=data["fingerprint"],
                tensors=dict(tensors or {}),
                timings=data.get("timings", {}),
                diagnostics=data.get("diagnostics", {}),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, PlanError):
                raise
            raise PlanError(f"Malformed plan: {type(error).__name__}: {error}.") from error

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path`` (JSON) and, when the plan carries tensors, ``path`` + ``.safetensors``."""
        from safetensors.torch import save_file

        from netgraph.atomic import atomic_write_bytes
        from netgraph.reduce.integrity import FILES_KEY, dumps_checked, file_record

        path = Path(path)
        record = self.to_dict()
        if self.tensors:
            tensors = {k: v.detach().contiguous() for k, v in self.tensors.items()}
            atomic_write(_tensor_path(path), lambda tmp: save_file(tensors, str(tmp)))
            # The plan records the tensor file's SHA-256 (and its own): see reduce/integrity.py.
            record[FILES_KEY] = {_tensor_path(path).name: file_record(_tensor_path(path))}
        atomic_write_bytes(path, dumps_checked(record, default=_json_default))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ReductionPlan":
        """Read a plan written by :meth:`save` (no pickle involved)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from netgraph.errors import InvalidParameterError
        from netgraph.reduce.integrity import FILES_KEY, loads_checked, verify_files
        from netgraph.reduce.schema import validate_plan_record

        path = Path(path)
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "does not exist"
            raise CheckpointError(f"Plan file {str(path)!r} {what}; give the path of a plan.json.")
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise CheckpointError(f"Plan file {str(path)!r} cannot be read: {error}.") from error
        # Checksum, then every field, then the companion files: all before any tensor is read.
        data, checked = loads_checked(raw, str(path))
        validate_plan_record(data, str(path), checked=checked)
        verify_files(data.get(FILES_KEY, {}), path.parent, str(path))
        tensors = {}
        keys = [key for g in data["groups"] for entry in g.get("compensation", {}).values()
                for key in (entry.get("weight"), entry.get("bias")) if key is not None]
        if keys:
            tensor_path = _tensor_path(path)
            if not tensor_path.is_file():
                raise CheckpointError(f"The plan's tensor file {str(tensor_path)!r} is missing; keep it beside the plan.")
            try:
                tensors = load_file(str(tensor_path))
            except (SafetensorError, OSError, ValueError) as error:
                raise CheckpointError(f"The plan's tensor file {str(tensor_path)!r} is corrupt: {error}.") from error
            absent = [key for key in keys if key not in tensors]
            if absent:
                raise CheckpointError(
                    f"The plan's tensor file {str(tensor_path)!r} lacks {absent[0]!r} named in 'compensation'; "
                    "keep the plan and its tensor file of the same run together."
                )
        try:
            return cls.from_dict(data, tensors)
        except (PlanError, InvalidParameterError) as error:
            raise CheckpointError(f"Plan file {str(path)!r} is invalid: {error}") from error


def upgrade_version_1(data: dict[str, Any]) -> dict[str, Any]:
    """A version-1 plan record in the version-2 layout (the input is not modified).

    Version 1 kept ``method``, ``fold`` and a flat ``parameters`` dict at the top and spliced
    method facts into each group's metrics next to the core metrics.
    """
    parameters = dict(data.get("parameters", {}))
    config = {key: parameters[key] for key in _CONFIG_KEYS_V1 if key in parameters}
    config["method"] = data["method"]
    config["fold"] = data["fold"]
    groups = []
    for entry in data["groups"]:
        entry = dict(entry)
        metrics = dict(entry.get("metrics", {}))
        method_facts = {key: metrics.pop(key) for key in list(metrics) if key not in CORE_METRICS}
        if method_facts:
            metrics["method"] = method_facts
        entry["metrics"] = metrics
        groups.append(entry)
    return {
        **{key: value for key, value in data.items() if key not in ("method", "fold", "parameters")},
        "version": PLAN_VERSION,
        "config": config,
        "diagnostics": {key: parameters[key] for key in _DIAGNOSTICS if key in parameters},
        "groups": groups,
    }


_CONFIG_KEYS_V1 = ("keep", "groups", "sequential", "random_state", "method_params", "budget", "ridge")


def _tensor_path(path: Path) -> Path:
    return path.with_name(path.name + ".safetensors")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Cannot serialise {type(value).__name__} to JSON.")
