"""Declared method parameters: each a name, a default and a constraint, checked in one place.

A method lists its parameters when it is registered (``register_method(...,
params=[...])``); ``plan_reduction`` checks ``method_params`` against them before it traces
the model, so a typo fails at once with the standard message, and the method itself reads
``context.params`` already validated and completed with defaults — scikit-learn's
``_parameter_constraints`` idea, as data.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from netgraph.errors import InvalidParameterError

__all__ = [
    "Param",
    "validate_params",
    "positive_int",
    "optional_positive_int",
    "positive_number",
    "choice",
    "SOURCE",
    "SOURCE_CHOICES",
]


@dataclass(frozen=True)
class Param:
    """One declared parameter of a method.

    Attributes
    ----------
    name : str
    default : Any
        Used when ``method_params`` does not name the parameter; must satisfy ``check``.
    check : callable(value) -> bool
    constraint : str
        What ``check`` accepts, in words ("a positive integer"), for the error message.
    doc : str
        One line for help texts and the docs.
    """

    name: str
    default: Any
    check: Callable[[Any], bool]
    constraint: str
    doc: str = ""


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(name: str, default: int, doc: str = "") -> Param:
    """An integer ≥ 1."""
    return Param(name, default, lambda v: _is_int(v) and v >= 1, "a positive integer", doc)


def optional_positive_int(name: str, default: int | None = None, doc: str = "") -> Param:
    """None or an integer ≥ 1."""
    return Param(name, default, lambda v: v is None or (_is_int(v) and v >= 1), "None or a positive integer", doc)


def positive_number(name: str, default: float, doc: str = "") -> Param:
    """A real number > 0."""
    return Param(
        name, default, lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool) and v > 0,
        "a positive number", doc,
    )


def choice(name: str, default: str, choices: Iterable[str], doc: str = "") -> Param:
    """One of a few strings."""
    options = tuple(choices)
    return Param(
        name, default, lambda v: isinstance(v, str) and v in options, f"one of {', '.join(map(repr, options))}", doc
    )


SOURCE_CHOICES = ("auto", "weights", "activations")
SOURCE = choice(
    "source", "auto", SOURCE_CHOICES,
    "What unit profiles compare: activation statistics when given ('auto'), or the weights.",
)


def validate_params(params: Mapping[str, Any] | None, declared: Iterable[Param], owner: str) -> dict[str, Any]:
    """``params`` checked against ``declared`` and completed with defaults.

    Raises
    ------
    InvalidParameterError
        For an undeclared name or a value outside its constraint, naming the parameter.

    Examples
    --------
    >>> validate_params({"n_init": 3}, [positive_int("n_init", 10), SOURCE], "the 'x' method")
    {'n_init': 3, 'source': 'auto'}
    """
    declared = tuple(declared)
    given = dict(params or {})
    names = [p.name for p in declared]
    unknown = sorted(set(given) - set(names))
    if unknown:
        accepted = ", ".join(sorted(names)) or "none"
        raise InvalidParameterError.expected(
            unknown[0], owner, f"one of the accepted parameters ({accepted})", given[unknown[0]]
        )
    values = {}
    for param in declared:
        value = given.get(param.name, param.default)
        if not param.check(value):
            raise InvalidParameterError.expected(param.name, owner, param.constraint, value)
        values[param.name] = value
    return values
