"""netgraph: make trained neural networks smaller by treating them as neuron graphs.

The flow runs one way: ``NeuronGraph.from_model`` / ``calibrate`` → ``plan_reduction`` →
``apply_plan`` → ``save_reduced``. Heavy dependencies (graspologic, transformers) are
imported only inside the functions that need them, so ``import netgraph`` stays light.
"""

from netgraph.calibrate import Calibration, UnitStats, calibrate
from netgraph.errors import (
    CalibrationError,
    CheckpointError,
    InvalidParameterError,
    NetgraphError,
    PlanError,
    TrainingError,
    UnsupportedModelError,
)
from netgraph.graph import NeuronGraph, NeuronId, UnitGroup, find_unit_groups
from netgraph.reduce import ReductionPlan, apply_plan, load_reduced, plan_reduction, save_reduced
from netgraph.reduce.config import ReductionConfig
from netgraph.reduce.planning import plan_from_config
from netgraph.select import Selection, available_methods

__version__ = "0.1.0"

# Submodules and functions with heavier imports load on first use, keeping `import netgraph` light.
_LAZY_MODULES = {"analysis", "compress", "report", "train", "viz", "zoo"}
_LAZY_FUNCTIONS = {"finetune": "netgraph.train", "distill": "netgraph.train", "export_onnx": "netgraph.export"}


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"netgraph.{name}")
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(_LAZY_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'netgraph' has no attribute {name!r}")

__all__ = [
    "Calibration",
    "CalibrationError",
    "CheckpointError",
    "InvalidParameterError",
    "NetgraphError",
    "NeuronGraph",
    "NeuronId",
    "PlanError",
    "ReductionConfig",
    "ReductionPlan",
    "Selection",
    "TrainingError",
    "UnitGroup",
    "UnitStats",
    "UnsupportedModelError",
    "__version__",
    "apply_plan",
    "available_methods",
    "calibrate",
    "distill",
    "export_onnx",
    "finetune",
    "find_unit_groups",
    "load_reduced",
    "plan_from_config",
    "plan_reduction",
    "save_reduced",
]
