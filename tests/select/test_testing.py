"""check_method: every built-in passes, and each check catches the contract it guards."""

import numpy as np
import pytest

from netgraph.select import Selection, available_methods, register_method, unregister_method
from netgraph.select.catalog import BUILTIN_METHODS
from netgraph.select.testing import MethodCheckError, check_method


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(BUILTIN_METHODS))
def test_every_builtin_method_passes(method):
    assert "check_plans_a_model" in check_method(method)


def _register(name, function, **kwargs):
    register_method(name, **kwargs)(function)
    return name


def _broken(name, function, match, **kwargs):
    _register(name, function, **kwargs)
    try:
        with pytest.raises(MethodCheckError, match=match):
            check_method(name)
    finally:
        unregister_method(name)


def test_keeping_too_few_is_caught():
    def too_few(context):
        "Keep one unit less."
        return Selection.from_kept(np.arange(max(context.n_keep - 1, 1)), context.n_units)

    _broken("too-few", too_few, "check_keeps_exactly_n_keep.*asked for")


def test_writing_into_the_context_is_caught():
    def vandal(context):
        "Scale the inputs in place."
        context.incoming *= 2
        return Selection.from_kept(np.arange(context.n_keep), context.n_units)

    _broken("vandal", vandal, "check_inputs_unchanged")


def test_a_false_nested_claim_is_caught():
    def alternating(context):
        "Odd n_keep keeps the last units."
        kept = np.arange(context.n_keep) if context.n_keep % 2 == 0 else np.arange(context.n_units)[-context.n_keep:]
        return Selection.from_kept(kept, context.n_units)

    _broken("alternating", alternating, "check_nested", nested=True)


def test_hidden_randomness_is_caught():
    generator = np.random.default_rng()

    def unseeded(context):
        "Draw from a private generator."
        return Selection.from_kept(generator.choice(context.n_units, context.n_keep, replace=False), context.n_units)

    _broken("unseeded", unseeded, "check_deterministic")


def test_a_missing_docstring_is_caught():
    def silent(context):
        return Selection.from_kept(np.arange(context.n_keep), context.n_units)

    _broken("silent", silent, "check_declaration.*docstring")


def test_registry_refuses_a_taken_name_and_a_bad_default():
    from netgraph.errors import InvalidParameterError
    from netgraph.select.params import positive_int

    def other(context):
        "Another magnitude."

    with pytest.raises(InvalidParameterError, match="already registered"):
        register_method("magnitude")(other)
    with pytest.raises(InvalidParameterError, match="default 0 of parameter 'k'"):
        register_method("bad-default", params=[positive_int("k", 0)])
    assert "bad-default" not in available_methods()


def test_nested_flags_match_what_the_analysis_report_assumes():
    # The analysis report draws one error curve per nested method from a single ordering;
    # its list must be the registry's (until it reads nested_methods() itself).
    from netgraph.analysis.run import NESTED_METHODS
    from netgraph.select import nested_methods

    assert nested_methods() >= set(NESTED_METHODS)
    assert {"magnitude", "activation", "submodular"} <= nested_methods()
