"""plan.json + model.safetensors: round trips, checksums, schema validation, mismatches."""

import json
import re
import os

import pytest
import torch

from netgraph import CheckpointError, PlanError, ReductionPlan, apply_plan, load_reduced, plan_reduction, save_reduced
from netgraph.errors import InvalidParameterError
from netgraph.reduce.integrity import dumps_checked, loads_checked


@pytest.fixture
def cnn_plan(tiny_cnn, image_batches):
    return plan_reduction(tiny_cnn, image_batches[0], keep=0.5, calibration=image_batches, random_state=0)


@pytest.fixture
def saved(tiny_cnn, cnn_plan, tmp_path):
    folder = tmp_path / "out"
    save_reduced(apply_plan(tiny_cnn, cnn_plan), cnn_plan, folder)
    return folder


def _rewrite(path, change, *, checksum=True):
    """Edit a saved plan's fields; with ``checksum`` the file is re-signed (a crafted, consistent file)."""
    data, _ = loads_checked(path.read_bytes(), str(path))
    data = change(data)
    path.write_bytes(dumps_checked(data) if checksum else json.dumps(data).encode())


def test_saved_plan_reproduces_the_same_model(tiny_cnn, image_batches, cnn_plan, tmp_path):
    path = cnn_plan.save(tmp_path / "plan.json")
    loaded = ReductionPlan.load(path)
    x = image_batches[2]
    with torch.no_grad():
        assert torch.equal(apply_plan(tiny_cnn, loaded)(x), apply_plan(tiny_cnn, cnn_plan)(x))
    record = json.loads(path.read_text())
    assert record["groups"][0]["group"]["name"] == "conv1"
    assert record["checksum"].startswith("sha256:")
    assert set(record["files"]) == {"plan.json.safetensors"}


def test_save_and_load_reduced_round_trip(tiny_cnn, image_batches, cnn_plan, saved):
    assert sorted(p.name for p in saved.iterdir()) == ["model.safetensors", "plan.json"]
    fresh = type(tiny_cnn)()  # random weights: only the architecture matters
    loaded = load_reduced(fresh, saved)
    with torch.no_grad():
        assert torch.equal(loaded(image_batches[0]), apply_plan(tiny_cnn, cnn_plan)(image_batches[0]))
    assert fresh.conv1.out_channels == 6  # the fresh model is not modified
    record = json.loads((saved / "plan.json").read_text())
    assert record["files"]["model.safetensors"]["bytes"] == (saved / "model.safetensors").stat().st_size


def test_missing_and_corrupt_files_are_named(tiny_cnn, cnn_plan, saved, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        ReductionPlan.load(tmp_path / "nope.json")
    path = cnn_plan.save(tmp_path / "plan.json")
    path.write_text(path.read_text()[:100])
    with pytest.raises(CheckpointError, match="changed or damaged"):
        ReductionPlan.load(path)
    (saved / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_reduced(tiny_cnn, saved)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_reduced(tiny_cnn, tmp_path / "missing")


def test_flipped_bytes_in_the_weights_are_detected(tiny_cnn, saved):
    """Issue 9: 16 flipped bytes in the tensor data used to load without complaint."""
    path = saved / "model.safetensors"
    data = bytearray(path.read_bytes())
    for offset in range(len(data) - 16, len(data)):  # the end of the file is tensor data
        data[offset] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="model.safetensors.*SHA-256"):
        load_reduced(tiny_cnn, saved)


def test_a_value_that_still_parses_is_detected(tiny_cnn, saved):
    path = saved / "plan.json"
    text = path.read_text()
    assert '"kept": [' in text
    path.write_text(text.replace('"method"', '"methoD"', 1) if '"method"' in text else text.replace('"fold"', '"folD"', 1))
    with pytest.raises(CheckpointError, match="changed or damaged"):
        load_reduced(tiny_cnn, saved)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: {**d, "version": "abc"}, "version"),
        (lambda d: {**d, "version": 0}, "version"),
        (lambda d: {**d, "version": True}, "version"),
        (lambda d: {**d, "groups": 5}, "groups"),
        (lambda d: {**d, "groups": [{**d["groups"][0], "group": {**d["groups"][0]["group"], "size": 99}}]}, "groups[0]"),
        (lambda d: {**d, "groups": [{**d["groups"][0], "kept": [0, 0]}]}, "groups[0].kept"),
        (lambda d: {**d, "groups": [{**d["groups"][0], "kept": [1000]}]}, "groups[0].kept[0]"),
        (lambda d: {**d, "groups": [{**d["groups"][0], "assignment": [0]}]}, "groups[0].assignment"),
        (lambda d: {**d, "fingerprint": {"architecture": 5}}, "fingerprint.architecture"),
        (lambda d: {**d, "files": {"model.safetensors": {"sha256": "x", "bytes": 1}}}, "files.model.safetensors.sha256"),
        (lambda d: {**d, "files": {"../evil": {"sha256": "0" * 64, "bytes": 1}}}, "files.../evil"),
    ],
)
def test_malformed_plans_are_checkpoint_errors_naming_the_field(tiny_cnn, saved, change, field):
    _rewrite(saved / "plan.json", change)
    with pytest.raises(CheckpointError, match="at " + re.escape(repr(field)[:-1])):
        load_reduced(tiny_cnn, saved)


def test_a_list_at_top_level_is_refused(tiny_cnn, saved):
    (saved / "plan.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="not an object"):
        load_reduced(tiny_cnn, saved)


def test_newer_versions_ask_for_an_upgrade(tiny_cnn, saved):
    _rewrite(saved / "plan.json", lambda d: {**d, "version": 99})
    with pytest.raises(CheckpointError, match="upgrade netgraph"):
        load_reduced(tiny_cnn, saved)


def test_plans_without_checksum_still_load_but_with_a_fixed_layout(tiny_cnn, image_batches, cnn_plan, saved):
    _rewrite(saved / "plan.json", lambda d: {k: v for k, v in d.items() if k != "files"}, checksum=False)
    reduced = load_reduced(tiny_cnn, saved)
    with torch.no_grad():
        assert torch.equal(reduced(image_batches[0]), apply_plan(tiny_cnn, cnn_plan)(image_batches[0]))
    _rewrite(saved / "plan.json", lambda d: {**d, "checksuM": "sha256:00"}, checksum=False)
    with pytest.raises(CheckpointError, match="unknown field"):
        load_reduced(tiny_cnn, saved)


def test_weights_of_another_run_are_refused(tiny_cnn, image_batches, tmp_path, saved):
    other_plan = plan_reduction(tiny_cnn, image_batches[0], keep=0.25, calibration=image_batches)
    save_reduced(apply_plan(tiny_cnn, other_plan), other_plan, tmp_path / "other")
    os.replace(tmp_path / "other" / "model.safetensors", saved / "model.safetensors")
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_reduced(tiny_cnn, saved)


def test_shape_mismatch_names_the_tensors(tiny_cnn, image_batches, tmp_path, saved):
    other_plan = plan_reduction(tiny_cnn, image_batches[0], keep=0.25, calibration=image_batches)
    save_reduced(apply_plan(tiny_cnn, other_plan), other_plan, tmp_path / "other")
    os.replace(tmp_path / "other" / "model.safetensors", saved / "model.safetensors")
    _rewrite(saved / "plan.json", lambda d: {k: v for k, v in d.items() if k != "files"})  # consistent but mixed
    with pytest.raises(CheckpointError, match=r"wrong shape.*conv1\.weight"):
        load_reduced(tiny_cnn, saved)


def test_load_reduced_refuses_another_architecture(tiny_mlp, saved):
    with pytest.raises(PlanError, match="different architecture"):
        load_reduced(tiny_mlp, saved)


def test_not_a_plan_is_refused(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(CheckpointError, match="not a netgraph plan"):
        ReductionPlan.load(path)


def test_save_reduced_refuses_a_plan_for_another_model(tiny_cnn, tiny_mlp, cnn_plan, tmp_path):
    with pytest.raises(PlanError, match="does not have"):
        save_reduced(tiny_mlp, cnn_plan, tmp_path / "x")
    with pytest.raises(PlanError, match="apply_plan"):
        save_reduced(tiny_cnn, cnn_plan, tmp_path / "y")  # the unreduced original
    with pytest.raises(InvalidParameterError, match="ReductionPlan"):
        save_reduced(tiny_cnn, None, tmp_path / "z")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_saved_files_follow_the_umask(tiny_cnn, cnn_plan, tmp_path):
    previous = os.umask(0o022)
    try:
        save_reduced(apply_plan(tiny_cnn, cnn_plan), cnn_plan, tmp_path / "out")
    finally:
        os.umask(previous)
    for name in ("plan.json", "model.safetensors"):
        assert (tmp_path / "out" / name).stat().st_mode & 0o777 == 0o644
