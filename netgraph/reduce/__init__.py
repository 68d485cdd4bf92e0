"""From a Selection to a smaller model: folding, plans, rebuilding, persistence."""

from netgraph.reduce.apply import apply_plan
from netgraph.reduce.fold import FOLDS
from netgraph.reduce.persistence import load_reduced, save_reduced
from netgraph.reduce.plan import GroupPlan, ReductionPlan
from netgraph.reduce.planning import plan_reduction

__all__ = ["FOLDS", "GroupPlan", "ReductionPlan", "apply_plan", "load_reduced", "plan_reduction", "save_reduced"]
