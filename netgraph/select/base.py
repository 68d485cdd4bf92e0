"""What every selection method receives and returns, and the name → method registry.

A method decides *which* units of one group to keep and, for each dropped unit, which
kept unit absorbs it. It never touches a model: folding (``reduce/fold.py``) turns the
Selection into new consumer weights, so any method combines with any fold.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from netgraph.errors import InvalidParameterError
from netgraph.select.catalog import BUILTIN_METHODS, ENTRY_POINT_GROUP, PLUGIN_ENVIRONMENT, plugin_modules
from netgraph.select.params import Param, validate_params

if TYPE_CHECKING:
    from netgraph.calibrate.stats import UnitStats
    from netgraph.graph.groups import UnitGroup

__all__ = [
    "Selection",
    "SelectionContext",
    "MethodSpec",
    "register_method",
    "unregister_method",
    "get_method",
    "method_spec",
    "method_needs_data",
    "nested_methods",
    "available_methods",
]


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
        The method's keyword arguments from ``plan_reduction(method_params=)``, validated
        against its declared parameters and completed with their defaults.
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


@dataclass(frozen=True)
class MethodSpec:
    """A registered selection method and the facts the rest of netgraph reads about it.

    Attributes
    ----------
    name : str
    select : callable(SelectionContext) -> Selection
        The method itself; receives ``context.params`` validated and completed with defaults.
    params : tuple of Param
        Declared parameters (``netgraph.select.params``); anything else is refused.
    needs_data : bool
        The method cannot run without calibration statistics.
    nested : bool
        Kept sets grow by inclusion as ``n_keep`` grows (one ranking serves every keep
        fraction), so analysis can draw its whole error curve from one ordering.
    """

    name: str
    select: SelectFunction
    params: tuple[Param, ...] = ()
    needs_data: bool = False
    nested: bool = False

    @property
    def owner(self) -> str:
        return f"the {self.name!r} method"

    @property
    def description(self) -> str:
        """The first line of the select function's docstring."""
        return (self.select.__doc__ or "").strip().splitlines()[0] if self.select.__doc__ else ""

    def validate_params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """``params`` checked against the declaration and completed with defaults."""
        return validate_params(params, self.params, self.owner)

    def __call__(self, context: SelectionContext) -> Selection:
        """Validate ``context.params``, then run the method on a context carrying the full set."""
        validated = self.validate_params(context.params)
        return self.select(dataclasses.replace(context, params=validated))


_REGISTRY: dict[str, MethodSpec] = {}
_LOADED: list[bool] = []


def register_method(
    name: str,
    *,
    needs_data: bool = False,
    params: Iterable[Param] = (),
    nested: bool = False,
) -> Callable[[SelectFunction], SelectFunction]:
    """Register ``function(context) -> Selection`` under ``name`` (a decorator).

    Parameters
    ----------
    name : str
        What users pass as ``method=`` and ``--method``.
    needs_data : bool
        The method cannot run without calibration statistics.
    params : iterable of Param
        Its parameters (``netgraph.select.params``); ``method_params`` is checked against
        them before the model is traced.
    nested : bool
        Kept sets grow by inclusion as ``n_keep`` grows.

    Registering a different function under a taken name is an error (unregister first).

    Examples
    --------
    >>> import numpy as np
    >>> from netgraph.select import Selection, register_method, unregister_method
    >>> from netgraph.select.params import positive_int
    >>> @register_method("first-units", params=[positive_int("offset", 1)])
    ... def first_units(context):
    ...     "Keep the first n_keep units."
    ...     return Selection.from_kept(np.arange(context.n_keep), context.n_units)
    >>> "first-units" in available_methods()
    True
    >>> unregister_method("first-units")
    """
    declared = tuple(params)
    if not isinstance(name, str) or not name or name != name.strip():
        raise InvalidParameterError.expected("name", "register_method", "a non-empty method name", name)
    for param in declared:
        if not isinstance(param, Param):
            raise InvalidParameterError.expected("params", "register_method", "Param objects", param)
        if not param.check(param.default):
            raise InvalidParameterError(
                f"The default {param.default!r} of parameter {param.name!r} of method {name!r} is not "
                f"{param.constraint}; fix the declaration."
            )

    def decorator(function: SelectFunction) -> SelectFunction:
        existing = _REGISTRY.get(name)
        # The same function defined again (a reloaded module) may take its name back.
        same = existing is not None and (existing.select.__module__, existing.select.__qualname__) == (
            function.__module__, function.__qualname__
        )
        if existing is not None and not same:
            raise InvalidParameterError(
                f"A selection method named {name!r} is already registered ({existing.select.__module__}); "
                "choose another name or call unregister_method first."
            )
        _REGISTRY[name] = MethodSpec(name, function, declared, bool(needs_data), bool(nested))
        return function

    return decorator


def unregister_method(name: str) -> None:
    """Remove a registered method (for tests and interactive sessions)."""
    _REGISTRY.pop(name, None)


def _load_methods() -> None:
    """Import the built-in methods and the plug-ins once (see ``netgraph.select.catalog``)."""
    if _LOADED:
        return
    _LOADED.append(True)
    for module in sorted(set(BUILTIN_METHODS.values())):
        importlib.import_module(module)
    wrong = sorted(name for name, module in BUILTIN_METHODS.items() if name not in _REGISTRY)
    if wrong:
        raise RuntimeError(f"Built-in methods {wrong} are listed in netgraph.select.catalog but not registered.")
    for module in plugin_modules():
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - any failure of a plug-in is reported the same way
            _LOADED.clear()
            raise InvalidParameterError(
                f"The selection-method plug-in {module!r} cannot be imported ({type(error).__name__}: {error}); "
                f"fix it or remove it from {PLUGIN_ENVIRONMENT} / the {ENTRY_POINT_GROUP!r} entry points."
            ) from error


def available_methods() -> list[str]:
    """Names of every registered selection method, sorted."""
    _load_methods()
    return sorted(_REGISTRY)


def method_spec(name: str) -> MethodSpec:
    """The :class:`MethodSpec` registered under ``name``; a clear error naming the choices otherwise."""
    _load_methods()
    if name not in _REGISTRY:
        raise InvalidParameterError.expected(
            "method", "plan_reduction", f"one of {', '.join(sorted(_REGISTRY))}", name
        )
    return _REGISTRY[name]


def method_needs_data(name: str) -> bool:
    """Whether the method ``name`` needs calibration statistics."""
    return method_spec(name).needs_data


def nested_methods() -> frozenset[str]:
    """Names of the methods whose kept sets are nested (see :class:`MethodSpec`)."""
    _load_methods()
    return frozenset(name for name, spec in _REGISTRY.items() if spec.nested)


def get_method(name: str) -> MethodSpec:
    """The method registered under ``name``, callable as ``method(context) -> Selection``
    (parameters are validated on each call)."""
    return method_spec(name)
