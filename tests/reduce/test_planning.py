"""plan_reduction's parameters: every bad value gets a specific, named error."""

import pytest
import torch

from netgraph import InvalidParameterError, PlanError, plan_reduction


@pytest.mark.parametrize("keep", [0, 1.5, -0.1, "half", True])
def test_keep_out_of_range(tiny_mlp, keep):
    with pytest.raises(InvalidParameterError, match="'keep' parameter of plan_reduction must be a float in \\(0, 1\\]"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), keep=keep, fold="exact")


def test_keep_per_group(tiny_mlp):
    plan = plan_reduction(tiny_mlp, torch.randn(2, 10), keep={"0": 0.25}, fold="exact")
    assert [p.kept.size for p in plan.groups] == [6, 16]
    with pytest.raises(InvalidParameterError, match="not being reduced"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), keep={"nope": 0.5}, fold="exact")


def test_unknown_method_and_fold(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), method="best", fold="exact")
    with pytest.raises(InvalidParameterError, match="'fold' parameter"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), fold="glue")


def test_groups_pattern_that_matches_nothing(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="matches no unit group"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), groups="conv", fold="exact")
    with pytest.raises(InvalidParameterError, match="unknown groups"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), groups=["fc9"], fold="exact")


def test_groups_regex_selects(tiny_mlp):
    plan = plan_reduction(tiny_mlp, torch.randn(2, 10), groups="^2$", fold="exact")
    assert [p.group.name for p in plan.groups] == ["2"]


def test_lstsq_needs_calibration(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="needs calibration data"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), fold="lstsq")


def test_empty_calibration(tiny_mlp):
    with pytest.raises(InvalidParameterError, match="empty"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), calibration=[])


def test_nan_weights(tiny_mlp):
    with torch.no_grad():
        tiny_mlp[2].weight[0, 0] = float("nan")
    with pytest.raises(InvalidParameterError, match="NaN or Inf values in '2.weight'"):
        plan_reduction(tiny_mlp, torch.randn(2, 10), fold="exact")


def test_unfoldable_group_named_explicitly():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2)).eval()
    with pytest.raises(PlanError, match="LayerNorm"):
        plan_reduction(model, torch.randn(2, 4), groups=["0"], fold="exact")


def test_same_seed_same_plan(tiny_mlp, mlp_batches):
    first = plan_reduction(tiny_mlp, mlp_batches[0], method="random", calibration=mlp_batches, random_state=3)
    second = plan_reduction(tiny_mlp, mlp_batches[0], method="random", calibration=mlp_batches, random_state=3)
    assert [p.kept.tolist() for p in first.groups] == [p.kept.tolist() for p in second.groups]
    for key, tensor in first.tensors.items():
        assert torch.equal(tensor, second.tensors[key])


# ------------------------------------------------------------------ ReductionConfig and format 2


def test_config_is_frozen_normalised_and_round_trips():
    import dataclasses

    from netgraph import ReductionConfig

    params = {"max_iter": 3}
    config = ReductionConfig(keep={"0": 0.5}, groups=["0"], method_params=params, random_state=4)
    params["max_iter"] = 99
    assert config.method_params == {"max_iter": 3}  # a copy, not the caller's dict
    assert config.groups == ("0",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.keep = 0.1
    assert ReductionConfig.from_dict(config.to_dict()) == config
    with pytest.raises(PlanError, match="unknown fields \\['kep'\\]"):
        ReductionConfig.from_dict({**config.to_dict(), "kep": 0.5})
    with pytest.raises(PlanError, match="newer than this netgraph"):
        ReductionConfig.from_dict({**config.to_dict(), "version": 99})


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"ridge": -1.0}, "ridge"),
        ({"random_state": "seven"}, "random_state"),
        ({"method_params": [1, 2]}, "method_params"),
        ({"groups": 3}, "groups"),
        ({"sequential": "yes"}, "sequential"),
        ({"budget": "world"}, "budget"),
    ],
)
def test_config_refuses_bad_values_before_tracing(tiny_mlp, arguments, parameter):
    # The example input is wrong for the model: only a check made before tracing can name the parameter.
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter of plan_reduction"):
        plan_reduction(tiny_mlp, "not a tensor", fold="exact", **arguments)


def test_plan_keeps_recipe_apart_from_diagnostics(tiny_mlp, mlp_batches):
    from netgraph import plan_from_config

    plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, method="random", calibration=mlp_batches,
                          random_state=2, method_params={})
    assert plan.config.method == plan.method == "random" and plan.config.fold == plan.fold == "lstsq"
    assert {"keep_per_group", "skipped_groups", "calibration_batches"} <= set(plan.diagnostics)
    assert plan.diagnostics["calibration_batches"] == len(mlp_batches)
    assert plan.parameters["budget"] == "group" and plan.parameters["keep_per_group"] == {"0": 0.5, "2": 0.5}
    replayed = plan_from_config(tiny_mlp, mlp_batches[0], plan.config, mlp_batches)
    assert [p.kept.tolist() for p in replayed.groups] == [p.kept.tolist() for p in plan.groups]
    for key, tensor in plan.tensors.items():
        assert torch.equal(tensor, replayed.tensors[key])


def test_precomputed_calibration_is_recorded_as_not_sequential(tiny_mlp, mlp_batches):
    from netgraph import calibrate

    plan = plan_reduction(tiny_mlp, mlp_batches[0], calibration=calibrate(tiny_mlp, mlp_batches))
    assert plan.config.sequential is False


def test_method_facts_are_nested_and_cannot_overwrite_core_metrics(tiny_mlp, mlp_batches):
    from netgraph.select import Selection, register_method, unregister_method

    @register_method("liar")
    def liar(context):
        return Selection.from_kept(range(context.n_keep), context.n_units, info={"kept": -5, "blocks": 2})

    try:
        plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, method="liar", fold="exact")
    finally:
        unregister_method("liar")
    metrics = plan.groups[0].metrics
    assert metrics["kept"] == plan.groups[0].kept.size > 0
    assert metrics["method"] == {"kept": -5, "blocks": 2}


def test_version_1_plan_is_read(tiny_mlp, mlp_batches, tmp_path):
    import json

    from netgraph import ReductionPlan, apply_plan

    plan = plan_reduction(tiny_mlp, mlp_batches[0], keep=0.5, method="magnitude", fold="exact")
    record = plan.to_dict()
    old = {key: value for key, value in record.items() if key not in ("config", "diagnostics")}
    old.update(version=1, method="magnitude", fold="exact", parameters=plan.parameters)
    for group in old["groups"]:
        facts = group["metrics"].pop("method")
        group["metrics"].update(facts, score_kind="magnitude")  # version 1 spliced method facts in
    plan.save(tmp_path / "new.json")
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "old.json.safetensors").write_bytes((tmp_path / "new.json.safetensors").read_bytes())
    loaded = ReductionPlan.load(tmp_path / "old.json")
    assert loaded.config == plan.config and loaded.diagnostics.items() <= plan.diagnostics.items()
    assert loaded.groups[0].metrics["method"]["score_kind"] == "magnitude"
    assert "score_kind" not in loaded.groups[0].metrics
    batch = mlp_batches[0]
    assert torch.equal(apply_plan(tiny_mlp, loaded)(batch), apply_plan(tiny_mlp, plan)(batch))
    assert loaded.to_dict()["version"] == 2


def test_method_params_are_checked_before_tracing(tiny_mlp):
    # An impossible example input: only a check made before tracing can name the parameter.
    with pytest.raises(InvalidParameterError, match="'max_blocks' parameter of the 'sbm' method"):
        plan_reduction(tiny_mlp, "not a tensor", method="sbm", fold="exact", method_params={"max_blocks": 0})
    with pytest.raises(InvalidParameterError, match="'n_clusters' parameter of the 'summarize' method"):
        plan_reduction(tiny_mlp, "not a tensor", method="summarize", fold="exact", method_params={"n_clusters": 3})
