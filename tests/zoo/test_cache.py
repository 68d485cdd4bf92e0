import json

import torch

from netgraph.zoo import cache_root, load_model
from netgraph.zoo.cache import file_sha256, load_cached_state, save_cached_state


def _messages():
    log: list[str] = []
    return log, log.append


def test_first_load_trains_then_second_load_uses_cache(tmp_path, quick_recipe):
    log, progress = _messages()
    first = load_model(quick_recipe, cache_dir=tmp_path, progress=progress)
    assert any("training" in line for line in log)
    weights = tmp_path / "zoo" / f"{quick_recipe}.safetensors"
    sidecar = json.loads((tmp_path / "zoo" / f"{quick_recipe}.json").read_text())
    assert sidecar["sha256"] == file_sha256(weights)
    assert sidecar["key"]["name"] == quick_recipe

    log.clear()
    second = load_model(quick_recipe, cache_dir=tmp_path, progress=progress)
    assert any("loaded from" in line for line in log)
    assert not any("training" in line for line in log)
    assert not second.training
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name
    # atomic writes leave no temporary files behind
    assert sorted(p.name for p in (tmp_path / "zoo").iterdir()) == [f"{quick_recipe}.json", f"{quick_recipe}.safetensors"]


def test_corrupt_weights_are_rebuilt_not_trusted(tmp_path, quick_recipe):
    reference = load_model(quick_recipe, cache_dir=tmp_path)
    weights = tmp_path / "zoo" / f"{quick_recipe}.safetensors"
    data = bytearray(weights.read_bytes())
    data[-8:] = b"\xff" * 8  # flip the last bytes: same size, different content
    weights.write_bytes(bytes(data))

    log, progress = _messages()
    rebuilt = load_model(quick_recipe, cache_dir=tmp_path, progress=progress)
    assert any("training" in line for line in log)
    assert torch.equal(rebuilt.fc3.weight, reference.fc3.weight)  # deterministic retrain
    sidecar = json.loads((tmp_path / "zoo" / f"{quick_recipe}.json").read_text())
    assert sidecar["sha256"] == file_sha256(weights)


def test_truncated_and_missing_sidecar_entries_are_rebuilt(tmp_path, quick_recipe):
    load_model(quick_recipe, cache_dir=tmp_path)
    weights = tmp_path / "zoo" / f"{quick_recipe}.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    log, progress = _messages()
    load_model(quick_recipe, cache_dir=tmp_path, progress=progress)
    assert any("training" in line for line in log)

    (tmp_path / "zoo" / f"{quick_recipe}.json").unlink()
    log.clear()
    load_model(quick_recipe, cache_dir=tmp_path, progress=progress)
    assert any("training" in line for line in log)


def test_key_mismatch_is_a_miss(tmp_path):
    state = {"w": torch.arange(6.0).reshape(2, 3)}
    save_cached_state(tmp_path, "entry", {"version": 1}, state)
    loaded = load_cached_state(tmp_path, "entry", {"version": 1})
    assert torch.equal(loaded["w"], state["w"])
    assert load_cached_state(tmp_path, "entry", {"version": 2}) is None
    assert load_cached_state(tmp_path, "absent", {"version": 1}) is None
    (tmp_path / "entry.json").write_text("{not json")
    assert load_cached_state(tmp_path, "entry", {"version": 1}) is None


def test_cache_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("NETGRAPH_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env" / "zoo"
    assert cache_root(tmp_path / "arg") == tmp_path / "arg" / "zoo"
    monkeypatch.delenv("NETGRAPH_CACHE_DIR")
    assert cache_root().name == "zoo"


def test_retrain_overwrites_cache(tmp_path, quick_recipe):
    load_model(quick_recipe, cache_dir=tmp_path)
    log, progress = _messages()
    load_model(quick_recipe, cache_dir=tmp_path, retrain=True, progress=progress)
    assert any("training" in line for line in log)
