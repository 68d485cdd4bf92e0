"""What every selection method receives and returns, and the name → method registry.

A method decides *which* units of one group to keep and, for each dropped unit, which
kept unit absorbs it. It never touches a model: folding (``reduce/fold.py``) turns the
Selection into new consumer weights, so any method combines with any fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from netgraph.errors import InvalidParameterError

if TYPE_CHECKING:
    from netgraph.calibrate.stats import UnitStats
    from netgraph.graph.groups import UnitGroup

__all__ = ["Selection", "SelectionContext", "register_method", "get_method", "available_methods"]


@dataclass(frozen=True)
class Selection:
    """Which units of one group stay, and where the others go.

    Attributes
    ----------
    kept : ndarray of int, sorted ascending
        Indices (into the group's units) of the units that stay.
    assignment : ndarray of int, shape (n_units,)
        For every unit, the unit it is merged into: itself for kept units, a kept unit
        for merged units, ``-1`` for units that are simply dropped.
    scores : ndarray of float or None
        Optional per-unit importance the method computed (higher = more worth keeping).
    info : dict
        Method-specific facts worth reporting (number of blocks, objective value, ...).
    """

    kept: np.ndarray
    assignment: np.ndarray
    scores: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_kept(cls, kept, n_units: int, *, scores=None, info=None) -> "Selection":
        """A selection that keeps ``kept`` and simply drops the rest."""
        kept = np.unique(np.asarray(kept, dtype=np.int64))
        assignment = np.full(n_units, -1, dtype=np.int64)
        assignment[kept] = kept
        return cls(kept=kept, assignment=assignment, scores=scores, info=dict(info or {}))

    @classmethod
    def from_assignment(cls, assignment, *, scores=None, info=None) -> "Selection":
        """A selection from a unit → representative map (representatives map to themselves)."""
        assignment = np.asarray(assignment, dtype=np.int64)
        kept = np.flatnonzero(assignment == np.arange(assignment.size))
        return cls(kept=kept, assignment=assignment, scores=scores, info=dict(info or {}))

    @property
    def dropped(self) -> np.ndarray:
        mask = np.ones(self.assignment.size, dtype=bool)
        mask[self.kept] = False
        return np.flatnonzero(mask)

    def validate(self, n_units: int) -> None:
        """Check the invariants every fold relies on."""
        if self.assignment.shape != (n_units,):
            raise InvalidParameterError(f"Selection covers {self.assignment.shape} units, the group has {n_units}.")
        if self.kept.size == 0:
            raise InvalidParameterError("A selection must keep at least one unit.")
        if not np.all(self.assignment[self.kept] == self.kept):
            raise InvalidParameterError("Every kept unit must be assigned to itself.")
        targets = self.assignment[self.assignment >= 0]
        if not np.isin(targets, self.kept).all():
            raise InvalidParameterError("Dropped units may only be merged into kept units.")


@dataclass
class SelectionContext:
    """Everything a method may read about one group; data-driven fields may be None.

    Attributes
    ----------
    group : UnitGroup
        The group being reduced (name, size, producers, consumers).
    n_keep : int
        How many units to keep (already validated, 1 <= n_keep <= group.size).
    incoming : ndarray, shape (n_units, fan_in + 1)
        Each unit's effective incoming weights with its bias as the last column, with any
        following BatchNorm folded in (scale gamma / sqrt(var + eps)). For convolutions the
        kernel is flattened. For multi-producer (residual) groups the producers' rows are
        concatenated.
    outgoing : ndarray, shape (n_units, fan_out)
        Each unit's outgoing weights into all consumers, flattened (Linear columns,
        Conv kernel slices ``W[:, c]``), concatenated over consumers.
    stats : UnitStats or None
        Activation statistics of the units (count, mean, Gram) when calibration was given.
    homogeneous : bool
        Whether the path from a unit's pre-activation to its consumers is positively
        homogeneous (ReLU-like), so ``h_p = lambda h_k`` whenever the incoming weights are
        proportional with lambda > 0.
    random_state : numpy Generator
        The only source of randomness a method may use.
    params : dict
        Method-specific keyword arguments passed through ``plan_reduction(method_params=)``.
    """

    group: "UnitGroup"
    n_keep: int
    incoming: np.ndarray
    outgoing: np.ndarray
    stats: "UnitStats | None"
    homogeneous: bool
    random_state: np.random.Generator
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return self.incoming.shape[0]


SelectFunction = Callable[[SelectionContext], Selection]

_REGISTRY: dict[str, SelectFunction] = {}
_NEEDS_DATA: dict[str, bool] = {}


def register_method(name: str, *, needs_data: bool = False) -> Callable[[SelectFunction], SelectFunction]:
    """Register ``function(context) -> Selection`` under ``name``.

    ``needs_data`` marks methods that cannot run without calibration statistics.
    """

    def decorator(function: SelectFunction) -> SelectFunction:
        _REGISTRY[name] = function
        _NEEDS_DATA[name] = needs_data
        return function

    return decorator


def _load_builtin_methods() -> None:
    # Importing the package registers every built-in method exactly once.
    import netgraph.select.methods  # noqa: F401


def available_methods() -> list[str]:
    """Names of every registered selection method, sorted."""
    _load_builtin_methods()
    return sorted(_REGISTRY)


def method_needs_data(name: str) -> bool:
    _load_builtin_methods()
    return _NEEDS_DATA[name]


def get_method(name: str) -> SelectFunction:
    """The select function registered under ``name``; a clear error naming the choices otherwise."""
    _load_builtin_methods()
    if name not in _REGISTRY:
        raise InvalidParameterError.expected(
            "method", "plan_reduction", f"one of {', '.join(sorted(_REGISTRY))}", name
        )
    return _REGISTRY[name]
