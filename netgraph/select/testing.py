"""Conformance checks every selection method passes: ``check_method(name_or_spec)``.

Like scikit-learn's ``check_estimator``, the checks run a method on realistic contexts
(small MLPs traced by netgraph, with and without activation statistics) and test the
contract the planner relies on, so a third-party method that passes them works wherever
a built-in one does. Run it in the method's own test suite::

    from netgraph.select.testing import check_method

    def test_my_method():
        check_method("my-method")

Each check raises :class:`MethodCheckError` (an ``AssertionError``) naming itself and what
went wrong; :func:`check_method` returns the names of the checks that ran.
"""

from __future__ import annotations

import json
from typing import Callable

import numpy as np

from netgraph.errors import InvalidParameterError, NetgraphError
from netgraph.select.base import MethodSpec, Selection, SelectionContext, method_spec

__all__ = ["check_method", "MethodCheckError", "make_context", "CHECKS"]

# (units, kept) pairs the checks run; small enough to take well under a second per method.
_SIZES = ((1, 1), (2, 1), (7, 3), (24, 1), (24, 9), (24, 24))


class MethodCheckError(AssertionError):
    """A selection method broke one of the conformance checks."""


def make_context(
    n_units: int,
    n_keep: int,
    *,
    homogeneous: bool = True,
    with_stats: bool = True,
    params: dict | None = None,
    seed: int = 0,
    duplicates: bool = False,
) -> SelectionContext:
    """A context for one hidden layer of a small random MLP ``5 → n_units → 3``.

    ``homogeneous`` picks ReLU (True) or tanh (False); ``duplicates`` repeats three
    distinct units across the layer, the case where fewer distinct units exist than are kept.
    """
    import torch
    from torch import nn

    from netgraph.calibrate.stats import UnitStats
    from netgraph.graph.groups import find_unit_groups
    from netgraph.graph.weights import incoming_weights, outgoing_weights

    generator = torch.Generator().manual_seed(seed)
    activation = nn.ReLU() if homogeneous else nn.Tanh()
    model = nn.Sequential(nn.Linear(5, n_units), activation, nn.Linear(n_units, 3)).double().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
        if duplicates:
            source = np.arange(n_units) % min(3, n_units)
            model[0].weight.copy_(model[0].weight[source])
            model[0].bias.copy_(model[0].bias[source])
    inputs = torch.randn(64, 5, generator=generator, dtype=torch.float64)
    group = find_unit_groups(model, inputs[:2])[0]
    stats = None
    if with_stats:
        stats = UnitStats.empty(n_units)
        with torch.no_grad():
            stats.update(model[1](model[0](inputs)))
    return SelectionContext(
        group=group,
        n_keep=n_keep,
        incoming=incoming_weights(model, group),
        outgoing=outgoing_weights(model, group),
        stats=stats,
        homogeneous=group.homogeneous,
        random_state=np.random.default_rng(seed),
        params=dict(params or {}),
    )


def _fail(check: str, spec: MethodSpec, problem: str) -> MethodCheckError:
    return MethodCheckError(f"check_method: {check} failed for method {spec.name!r}: {problem}")


def _contexts(spec: MethodSpec):
    for with_stats in (True,) if spec.needs_data else (False, True):
        for homogeneous in (True, False):
            for n_units, n_keep in _SIZES:
                yield make_context(n_units, n_keep, homogeneous=homogeneous, with_stats=with_stats, seed=n_units)


def _run(spec: MethodSpec, context: SelectionContext, check: str) -> Selection:
    try:
        selection = spec(context)
    except Exception as error:  # noqa: BLE001 - any exception is a broken contract, reported with its context
        raise _fail(
            check, spec,
            f"raised {type(error).__name__}: {error} (units={context.n_units}, n_keep={context.n_keep}, "
            f"homogeneous={context.homogeneous}, stats={context.stats is not None})",
        ) from error
    if not isinstance(selection, Selection):
        raise _fail(check, spec, f"returned {type(selection).__name__}, not a Selection")
    return selection


def check_declaration(spec: MethodSpec) -> None:
    """Name, docstring and parameter declarations are usable by the CLI, docs and reports."""
    if not spec.description:
        raise _fail("check_declaration", spec, "the select function has no docstring (its first line is the help)")
    names = [p.name for p in spec.params]
    if len(set(names)) != len(names):
        raise _fail("check_declaration", spec, f"parameters declared twice: {names}")
    defaults = spec.validate_params({})
    try:
        json.dumps(defaults)
    except TypeError as error:
        raise _fail("check_declaration", spec, f"defaults are not JSON values (plans save them): {error}") from error


def check_unknown_parameter_refused(spec: MethodSpec) -> None:
    """An undeclared ``method_params`` name fails with a message naming it."""
    try:
        spec.validate_params({"no_such_parameter": 1})
    except InvalidParameterError as error:
        if "'no_such_parameter'" not in str(error):
            raise _fail("check_unknown_parameter_refused", spec, f"the message does not name it: {error}") from error
        return
    raise _fail("check_unknown_parameter_refused", spec, "an unknown parameter was accepted")


def check_keeps_exactly_n_keep(spec: MethodSpec) -> None:
    """On every context the selection is valid and keeps exactly ``n_keep`` units."""
    for context in _contexts(spec):
        selection = _run(spec, context, "check_keeps_exactly_n_keep")
        try:
            selection.validate(context.n_units)
        except InvalidParameterError as error:
            raise _fail("check_keeps_exactly_n_keep", spec, f"invalid selection: {error}") from error
        if selection.kept.size != context.n_keep:
            raise _fail(
                "check_keeps_exactly_n_keep", spec,
                f"kept {selection.kept.size} of {context.n_units} units, asked for {context.n_keep}",
            )
        if np.any(np.diff(selection.kept) <= 0):
            raise _fail("check_keeps_exactly_n_keep", spec, "kept indices are not sorted and unique")


def check_duplicate_units(spec: MethodSpec) -> None:
    """Three distinct units repeated over 12: asking for 5 still keeps 5."""
    context = make_context(12, 5, with_stats=spec.needs_data, duplicates=True)
    selection = _run(spec, context, "check_duplicate_units")
    if selection.kept.size != 5:
        raise _fail("check_duplicate_units", spec, f"kept {selection.kept.size} units, asked for 5")


def check_deterministic(spec: MethodSpec) -> None:
    """The same seed gives the same selection; randomness comes only from ``context.random_state``."""
    first = _run(spec, make_context(24, 7, seed=3), "check_deterministic")
    second = _run(spec, make_context(24, 7, seed=3), "check_deterministic")
    if not np.array_equal(first.assignment, second.assignment):
        raise _fail("check_deterministic", spec, "two runs with the same seed differ")


def check_inputs_unchanged(spec: MethodSpec) -> None:
    """The method does not write into the context's arrays or statistics."""
    context = make_context(24, 7)
    before = [context.incoming.copy(), context.outgoing.copy(), context.stats.gram.copy(), context.stats.total.copy()]
    _run(spec, context, "check_inputs_unchanged")
    after = [context.incoming, context.outgoing, context.stats.gram, context.stats.total]
    if not all(np.array_equal(a, b) for a, b in zip(before, after)):
        raise _fail("check_inputs_unchanged", spec, "the context's arrays were modified")


def check_nested(spec: MethodSpec) -> None:
    """A method declared ``nested`` keeps growing sets as ``n_keep`` grows."""
    if not spec.nested:
        return
    previous: set[int] = set()
    for n_keep in range(1, 13):
        kept = set(_run(spec, make_context(12, n_keep, seed=5), "check_nested").kept.tolist())
        if not previous <= kept:
            raise _fail("check_nested", spec, f"the kept set for n_keep={n_keep} drops {sorted(previous - kept)}")
        previous = kept


def check_info_is_reportable(spec: MethodSpec) -> None:
    """``Selection.info`` is JSON (plans and reports store it) and ``scores``, if any, fit the units."""
    selection = _run(spec, make_context(24, 7), "check_info_is_reportable")
    try:
        json.dumps(selection.info)
    except TypeError as error:
        raise _fail("check_info_is_reportable", spec, f"info is not JSON: {error}") from error
    if selection.scores is not None and np.shape(selection.scores) != (24,):
        raise _fail("check_info_is_reportable", spec, f"scores have shape {np.shape(selection.scores)}, not (24,)")


def check_plans_a_model(spec: MethodSpec) -> None:
    """``plan_reduction`` with the method plans and applies on an MLP, and the result runs."""
    import torch
    from torch import nn

    from netgraph.reduce.apply import apply_plan
    from netgraph.reduce.planning import plan_reduction

    generator = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    batches = [torch.randn(32, 6, generator=generator) for _ in range(3)]
    try:
        plan = plan_reduction(
            model, batches[0], keep=0.5, method=spec.name, fold="lstsq" if spec.needs_data else "exact",
            calibration=batches if spec.needs_data else None, random_state=0,
        )
        reduced = apply_plan(model, plan)
    except NetgraphError as error:
        raise _fail("check_plans_a_model", spec, f"{type(error).__name__}: {error}") from error
    if [p.kept.size for p in plan.groups] != [8, 4] or reduced(batches[0]).shape != (32, 3):
        raise _fail("check_plans_a_model", spec, "the reduced model has the wrong sizes")


CHECKS: tuple[Callable[[MethodSpec], None], ...] = (
    check_declaration,
    check_unknown_parameter_refused,
    check_keeps_exactly_n_keep,
    check_duplicate_units,
    check_deterministic,
    check_inputs_unchanged,
    check_nested,
    check_info_is_reportable,
    check_plans_a_model,
)


def check_method(method: str | MethodSpec) -> list[str]:
    """Run every conformance check on a registered method (its name or its spec).

    Returns
    -------
    list of str
        The names of the checks that ran, in order.

    Raises
    ------
    MethodCheckError
        From the first check that fails, naming the check, the method and the problem.

    Examples
    --------
    >>> check_method("magnitude")[:2]
    ['check_declaration', 'check_unknown_parameter_refused']
    """
    spec = method if isinstance(method, MethodSpec) else method_spec(method)
    for check in CHECKS:
        check(spec)
    return [check.__name__ for check in CHECKS]
