import json

import pytest
import torch

from netgraph import CheckpointError, PlanError, ReductionPlan, apply_plan, load_reduced, plan_reduction, save_reduced


@pytest.fixture
def cnn_plan(tiny_cnn, image_batches):
    return plan_reduction(tiny_cnn, image_batches[0], keep=0.5, calibration=image_batches, random_state=0)


def test_saved_plan_reproduces_the_same_model(tiny_cnn, image_batches, cnn_plan, tmp_path):
    path = cnn_plan.save(tmp_path / "plan.json")
    loaded = ReductionPlan.load(path)
    x = image_batches[2]
    with torch.no_grad():
        assert torch.equal(apply_plan(tiny_cnn, loaded)(x), apply_plan(tiny_cnn, cnn_plan)(x))
    assert json.loads(path.read_text())["groups"][0]["group"]["name"] == "conv1"


def test_save_and_load_reduced_round_trip(tiny_cnn, image_batches, cnn_plan, tmp_path):
    reduced = apply_plan(tiny_cnn, cnn_plan)
    save_reduced(reduced, cnn_plan, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.safetensors", "plan.json"]
    fresh = type(tiny_cnn)()  # random weights: only the architecture matters
    loaded = load_reduced(fresh, tmp_path / "out")
    with torch.no_grad():
        assert torch.equal(loaded(image_batches[0]), reduced(image_batches[0]))
    assert fresh.conv1.out_channels == 6  # the fresh model is not modified


def test_missing_and_corrupt_files_are_named(tiny_cnn, cnn_plan, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        ReductionPlan.load(tmp_path / "nope.json")
    path = cnn_plan.save(tmp_path / "plan.json")
    path.write_text(path.read_text()[:100])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        ReductionPlan.load(path)
    reduced = apply_plan(tiny_cnn, cnn_plan)
    save_reduced(reduced, cnn_plan, tmp_path / "out")
    (tmp_path / "out" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_reduced(tiny_cnn, tmp_path / "out")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_reduced(tiny_cnn, tmp_path / "missing")


def test_load_reduced_refuses_another_architecture(tiny_cnn, tiny_mlp, cnn_plan, tmp_path):
    save_reduced(apply_plan(tiny_cnn, cnn_plan), cnn_plan, tmp_path / "out")
    with pytest.raises(PlanError, match="different architecture"):
        load_reduced(tiny_mlp, tmp_path / "out")


def test_not_a_plan_is_refused(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(PlanError, match="Not a netgraph plan"):
        ReductionPlan.load(path)
