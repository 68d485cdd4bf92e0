"""netgraph: make trained neural networks smaller by treating them as neuron graphs.

The flow runs one way: ``NeuronGraph.from_model`` / ``calibrate`` → ``plan_reduction`` →
``apply_plan`` → ``save_reduced`` (docs/DESIGN.md draws it). Every public name loads on
first use, so ``import netgraph`` (and ``import netgraph.select.catalog``, which the
command line reads for ``--help``) imports neither torch nor anything else heavy.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

# Public name → module that defines it. Submodules (netgraph.analysis, ...) load on access too.
_EXPORTS = {
    "Calibration": "netgraph.calibrate",
    "UnitStats": "netgraph.calibrate",
    "CalibrationError": "netgraph.errors",
    "CheckpointError": "netgraph.errors",
    "InvalidParameterError": "netgraph.errors",
    "NetgraphError": "netgraph.errors",
    "PlanError": "netgraph.errors",
    "TrainingError": "netgraph.errors",
    "UnsupportedModelError": "netgraph.errors",
    "NeuronGraph": "netgraph.graph",
    "NeuronId": "netgraph.graph",
    "UnitGroup": "netgraph.graph",
    "find_unit_groups": "netgraph.graph",
    "ReductionPlan": "netgraph.reduce",
    "apply_plan": "netgraph.reduce",
    "load_reduced": "netgraph.reduce",
    "plan_reduction": "netgraph.reduce",
    "save_reduced": "netgraph.reduce",
    "ReductionConfig": "netgraph.reduce.config",
    "plan_from_config": "netgraph.reduce.planning",
    "Selection": "netgraph.select",
    "available_methods": "netgraph.select",
    "finetune": "netgraph.train",
    "distill": "netgraph.train",
    "export_onnx": "netgraph.export",
    "reduce_transformer": "netgraph.transformer",
}

__all__ = sorted([*_EXPORTS, "calibrate", "__version__"])


class _Package(types.ModuleType):
    """``netgraph.calibrate`` is the function, although a subpackage has the same name.

    Importing ``netgraph.calibrate.*`` sets the package attribute ``calibrate`` to the
    subpackage; this property keeps the public function there instead (as the eager
    ``from netgraph.calibrate import calibrate`` of earlier versions did).
    """

    @property
    def calibrate(self):
        return importlib.import_module("netgraph.calibrate").calibrate

    @calibrate.setter
    def calibrate(self, value) -> None:  # the import system records the subpackage here
        pass


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    else:
        try:
            value = importlib.import_module(f"netgraph.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"netgraph.{name}":
                raise
            raise AttributeError(f"module 'netgraph' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
