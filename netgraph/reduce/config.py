"""ReductionConfig: the replayable recipe of a reduction, frozen, validated and versioned.

``plan_reduction`` turns its keyword arguments into one ``ReductionConfig`` before it
looks at the model, so a bad value fails at once with a named error; the plan saves the
config next to its diagnostics, and ``ReductionConfig.from_dict(plan_config)`` gives the
exact settings back to replay it (with the same model and calibration data).

Only settings live here: facts measured while planning (per-group keep fractions chosen by
the global budget, skipped groups, calibration size) are the plan's diagnostics.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping

from netgraph.errors import InvalidParameterError, PlanError
from netgraph.reduce.fold import FOLDS

__all__ = ["ReductionConfig", "CONFIG_VERSION", "BUDGETS"]

CONFIG_VERSION = 1
BUDGETS = ("group", "global")
OWNER = "plan_reduction"


def _check_fraction(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < float(value) <= 1):
        raise InvalidParameterError.expected(label, OWNER, "a float in (0, 1]", value)
    return float(value)


@dataclass(frozen=True)
class ReductionConfig:
    """Every setting of ``plan_reduction`` that decides the plan (see its docstring).

    Attributes
    ----------
    keep : float or dict {group name: fraction}
        Fraction of units kept per group, in (0, 1].
    method : str
        Name of a registered selection method (checked against the registry when planning,
        so a saved plan of a third-party method still loads without it).
    fold : {"none", "exact", "lstsq"}
    groups : regex, tuple of names or None
    sequential : bool
    random_state : int or None
    method_params : dict
        Keyword arguments of the method.
    budget : {"group", "global"}
    ridge : float >= 0
    round_to : int >= 1
        Kept counts are rounded to a multiple of this (e.g. 8): CPU kernels are fastest on
        such widths. 1 leaves them as the keep fraction gives them.
    version : int
        Format version of this record; :meth:`from_dict` refuses newer ones.

    Examples
    --------
    >>> config = ReductionConfig(keep=0.25, method="magnitude", fold="exact")
    >>> ReductionConfig.from_dict(config.to_dict()) == config
    True
    >>> ReductionConfig(keep=2.0)
    Traceback (most recent call last):
    ...
    netgraph.errors.InvalidParameterError: The 'keep' parameter of plan_reduction must be a float in (0, 1]. Got 2.0 instead.
    """

    keep: float | Mapping[str, float] = 0.5
    method: str = "magnitude"
    fold: str = "lstsq"
    groups: str | tuple[str, ...] | None = None
    sequential: bool = True
    random_state: int | None = None
    method_params: Mapping[str, Any] = field(default_factory=dict)
    budget: str = "group"
    ridge: float = 1e-6
    round_to: int = 1
    version: int = CONFIG_VERSION

    def __post_init__(self) -> None:
        # The order of the checks is the order a user reads the signature in.
        if self.fold not in FOLDS:
            raise InvalidParameterError.expected("fold", OWNER, f"one of {', '.join(FOLDS)}", self.fold)
        if not isinstance(self.method, str) or not self.method:
            raise InvalidParameterError.expected("method", OWNER, "the name of a registered method", self.method)
        if not isinstance(self.sequential, bool):
            raise InvalidParameterError.expected("sequential", OWNER, "a bool", self.sequential)
        if self.budget not in BUDGETS:
            raise InvalidParameterError.expected("budget", OWNER, "'group' or 'global'", self.budget)
        if isinstance(self.ridge, bool) or not (isinstance(self.ridge, numbers.Real) and self.ridge >= 0):
            raise InvalidParameterError.expected("ridge", OWNER, "a non-negative float", self.ridge)
        if isinstance(self.keep, Mapping):
            keep: float | dict[str, float] = {
                str(name): _check_fraction(value, f"keep[{name!r}]") for name, value in self.keep.items()
            }
        else:
            keep = _check_fraction(self.keep, "keep")
        if isinstance(self.round_to, bool) or not isinstance(self.round_to, numbers.Integral) or self.round_to < 1:
            raise InvalidParameterError.expected("round_to", OWNER, "an int >= 1 (e.g. 8)", self.round_to)
        if self.budget == "global" and isinstance(keep, dict):
            raise InvalidParameterError(
                f"budget='global' of {OWNER} needs a single float keep; pass keep=<fraction>."
            )
        groups = self.groups
        if groups is not None and not isinstance(groups, str):
            if not isinstance(groups, (list, tuple)) or not all(isinstance(g, str) for g in groups):
                raise InvalidParameterError.expected(
                    "groups", OWNER, "a regular expression, a list of group names or None", groups
                )
            groups = tuple(groups)
        random_state = self.random_state
        if random_state is not None:
            if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral) or random_state < 0:
                raise InvalidParameterError.expected("random_state", OWNER, "a non-negative int or None", random_state)
            random_state = int(random_state)
        if self.method_params is None:
            params: dict[str, Any] = {}
        elif isinstance(self.method_params, Mapping) and all(isinstance(k, str) for k in self.method_params):
            params = dict(self.method_params)
        else:
            raise InvalidParameterError.expected(
                "method_params", OWNER, "a dict of keyword arguments or None", self.method_params
            )
        if not isinstance(self.version, int) or self.version > CONFIG_VERSION:
            raise PlanError(
                f"ReductionConfig version {self.version!r} is newer than this netgraph understands "
                f"({CONFIG_VERSION}); upgrade netgraph."
            )
        # Normalised copies: the config never aliases a caller's dict or list.
        object.__setattr__(self, "keep", keep)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "random_state", random_state)
        object.__setattr__(self, "method_params", params)
        object.__setattr__(self, "ridge", float(self.ridge))
        object.__setattr__(self, "round_to", int(self.round_to))

    def keep_fraction(self, group: str) -> float:
        """The keep fraction asked for ``group`` (1.0 for groups a per-group dict leaves out)."""
        if isinstance(self.keep, Mapping):
            return float(self.keep.get(group, 1.0))
        return float(self.keep)

    def replace(self, **changes: Any) -> "ReductionConfig":
        """A copy with ``changes`` applied and validated again."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the groups tuple becomes a list)."""
        return {
            "version": self.version,
            "keep": dict(self.keep) if isinstance(self.keep, Mapping) else self.keep,
            "method": self.method,
            "fold": self.fold,
            "groups": list(self.groups) if isinstance(self.groups, tuple) else self.groups,
            "sequential": self.sequential,
            "random_state": self.random_state,
            "method_params": dict(self.method_params),
            "budget": self.budget,
            "ridge": self.ridge,
            "round_to": self.round_to,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ReductionConfig":
        """Rebuild a config from :meth:`to_dict`; only known fields are read, unknown ones refused."""
        if not isinstance(data, Mapping):
            raise PlanError(f"A ReductionConfig record must be a JSON object, got {type(data).__name__}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PlanError(
                f"The ReductionConfig record has unknown fields {unknown}; it was written by a newer "
                "netgraph or edited by hand."
            )
        return cls(**dict(data))
