"""Every architecture family people bring, end to end: groups, data-free and calibrated
plans, apply, forward, fewer parameters, save/load (tests/coverage/families.py builds them).

A family may have groups netgraph cannot map (attention internals, grouped convolutions,
a channel shuffle): those are skipped with a reason and the rest still reduces.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch

from netgraph import apply_plan, plan_reduction
from netgraph.graph.groups import find_unit_groups
from netgraph.reduce.persistence import load_reduced, save_reduced



def _load_families():
    """families.py by path: tests are not a package (pytest runs with --import-mode=importlib)."""
    name = "netgraph_coverage_families"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("families.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


families = _load_families()

FAST = ["resnet_basic", "densenet", "squeezenet", "mobilenetv2", "vgg", "conv1d", "conv3d", "gpt2", "llama_gqa"]
SLOW = [name for name in families.FAMILIES if name not in FAST]
MODES = [("magnitude", "none", False), ("magnitude", "exact", False), ("activation", "lstsq", True)]


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _reduce_end_to_end(name: str, method: str, fold: str, calibrated: bool, tmp_path) -> None:
    model, kind = families.build(name)
    example = families.inputs(kind)
    batches = [families.inputs(kind, 8, seed=seed) for seed in range(1, 3)] if calibrated else None
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # an empty reduction must not happen here
        plan = plan_reduction(
            model, example, keep=0.5, method=method, fold=fold, calibration=batches, sequential=False, random_state=0
        )
    assert plan.groups, f"{name}: nothing planned"
    assert any(p.dropped.size for p in plan.groups)
    skipped = plan.diagnostics["skipped_groups"]
    assert set(plan.diagnostics["skipped_reasons"]) == set(skipped)
    assert all(plan.diagnostics["skipped_reasons"].values())
    reduced = apply_plan(model, plan)
    assert _params(reduced) < _params(model)
    with torch.no_grad():
        original_out, reduced_out = model(example), reduced(example)
    assert reduced_out.shape == original_out.shape and torch.isfinite(reduced_out).all()
    save_reduced(reduced, plan, tmp_path / "reduced")
    loaded = load_reduced(model, tmp_path / "reduced")
    with torch.no_grad():
        torch.testing.assert_close(loaded(example), reduced_out)


@pytest.mark.parametrize("method, fold, calibrated", MODES)
@pytest.mark.parametrize("name", FAST)
def test_family_reduces_end_to_end(name, method, fold, calibrated, tmp_path):
    _reduce_end_to_end(name, method, fold, calibrated, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("method, fold, calibrated", MODES)
@pytest.mark.parametrize("name", SLOW)
def test_family_reduces_end_to_end_slow(name, method, fold, calibrated, tmp_path):
    _reduce_end_to_end(name, method, fold, calibrated, tmp_path)


@pytest.mark.parametrize("name", sorted(families.FAMILIES))
def test_group_finder_finishes_fast_and_explains_what_it_skips(name):
    model, kind = families.build(name)
    started = time.process_time()  # CPU time: a loaded CI machine must not fail this
    groups = find_unit_groups(model, families.inputs(kind))
    assert time.process_time() - started < 30  # GQA used to loop for minutes
    assert groups
    for group in groups:
        assert group.foldable or group.reason, group.name
        assert group.cuttable or not group.foldable


def test_gpt2_is_never_a_silent_no_op():
    """transformers' Conv1D (weight stored transposed) is a layer netgraph cuts."""
    model, kind = families.build("gpt2")
    example = families.inputs(kind)
    plan = plan_reduction(model, example, keep=0.5, fold="exact")
    names = [p.group.name for p in plan.groups]
    assert any(name.endswith("mlp.c_fc") for name in names)
    reduced = apply_plan(model, plan)
    fc = dict(reduced.named_modules())["model.transformer.h.0.mlp.c_fc"]
    assert fc.weight.shape == (32, 64) and fc.nf == 64  # 128 units -> 64, (in, out) layout kept
    assert _params(reduced) < _params(model)


def test_swiglu_units_reduce_and_fold():
    """Llama's gate and up projections write the same units; down reads them."""
    model, kind = families.build("llama_gqa")
    example = families.inputs(kind)
    groups = find_unit_groups(model, example)
    ffn = next(g for g in groups if any(m.module == "model.model.layers.0.mlp.gate_proj" for m in g.producers))
    assert {m.module.rsplit(".", 1)[-1] for m in ffn.producers} == {"gate_proj", "up_proj"}
    assert [m.module.rsplit(".", 1)[-1] for m in ffn.consumers] == ["down_proj"]
    assert ffn.foldable
    batches = [families.inputs(kind, 8, seed=seed) for seed in range(1, 4)]
    full = plan_reduction(model, example, keep=1.0, fold="lstsq", calibration=batches, sequential=False)
    assert not any(p.dropped.size for p in full.groups)
    plan = plan_reduction(model, example, keep=0.75, method="activation", fold="lstsq", calibration=batches)
    none = plan_reduction(model, example, keep=0.75, method="activation", fold="none", calibration=batches)
    with torch.no_grad():
        target = model(example)
        fitted = (apply_plan(model, plan)(example) - target).norm()
        dropped = (apply_plan(model, none)(example) - target).norm()
    assert fitted < dropped  # the least-squares fold compensates part of the loss


def test_attention_layers_are_skipped_with_their_reason_and_the_rest_reduces():
    model, kind = families.build("vit")
    plan = plan_reduction(model, families.inputs(kind), keep=0.5, fold="exact")
    assert [p.group.name for p in plan.groups] == ["blocks.0.mlp.0", "blocks.1.mlp.0"]
    reasons = plan.diagnostics["skipped_reasons"]
    assert any("attention layer blocks.0.attn" in reason for reason in reasons.values())


@pytest.mark.parametrize("name", FAST + ["mixer", "shufflenetv2", "resnext"])
def test_neuron_graph_builds_on_every_family(name):
    from netgraph.graph.neuron_graph import NeuronGraph

    model, kind = families.build(name)
    graph = NeuronGraph.from_model(model, families.inputs(kind), include_unfoldable=True)
    assert graph.adjacency.shape[0] == len(graph.node_ids) > 0
    assert all(graph.incoming(g.name).shape[0] == g.size for g in graph.groups)


def test_layer_scale_and_layernorm_stream_is_cut_by_fold_none(tmp_path):
    """ConvNeXt's residual stream (depthwise convs, channels-last LayerNorms, layer-scale
    vectors) cannot be compensated but can be cut: fold='none' reduces it as Torch-Pruning
    does; the folds that compensate leave it alone."""
    model, kind = families.build("convnext")
    example = families.inputs(kind)
    compensated = plan_reduction(model, example, keep=0.5, fold="exact")
    assert "2.pwconv2" in compensated.diagnostics["skipped_groups"]
    plan = plan_reduction(model, example, keep=0.5, fold="none")
    stream = next(p for p in plan.groups if p.group.name == "2.pwconv2")
    assert any(m.kind == "parameter" and m.attribute == "gamma" for m in stream.group.norms)
    reduced = apply_plan(model, plan)
    assert reduced[1].gamma.shape == (8,) and reduced[1].norm.normalized_shape == (8,) and reduced[1].dwconv.groups == 8
    assert _params(reduced) < 0.4 * _params(model)
    save_reduced(reduced, plan, tmp_path / "convnext")
    with torch.no_grad():
        torch.testing.assert_close(load_reduced(model, tmp_path / "convnext")(example), reduced(example))
