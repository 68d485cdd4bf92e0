"""Corrupt every saved artefact at random: each change ends in a NetgraphError, never in a
wrong model or another exception.

The fast suite runs a few hundred trials; the slow case runs 1,000 bit flips per artefact
(``pytest tests/fuzz -m slow``), the figure reported for issue 9.
"""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netgraph import load_reduced
from netgraph.compress.ngz import decode_ngz
from netgraph.errors import NetgraphError
from netgraph.reduce.integrity import dumps_checked, loads_checked


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _flip(data: bytes, position: int, bit: int) -> bytes:
    changed = bytearray(data)
    changed[position % len(changed)] ^= 1 << bit
    return bytes(changed)


def _load_folder(folder, plan: bytes, weights: bytes):
    from torch import nn

    (folder / "plan.json").write_bytes(plan)
    (folder / "model.safetensors").write_bytes(weights)
    # The architecture of tests/fuzz/conftest.py's make_mlp (any weights will do).
    original = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    return load_reduced(original, folder)


def _assert_refused(action) -> str:
    with pytest.raises(NetgraphError) as caught:
        action()
    message = str(caught.value)
    assert message and "\n" not in message.strip()
    return message


# --------------------------------------------------------------------------- bit flips

def _check_flip(artefacts, tmp_path, which: str, position: int, bit: int) -> None:
    if which == "ngz":
        _assert_refused(lambda: decode_ngz(_flip(artefacts["ngz"], position, bit)))
        return
    plan, weights = artefacts["plan"], artefacts["weights"]
    if which == "plan":
        plan = _flip(plan, position, bit)
    else:
        weights = _flip(weights, position, bit)
    _assert_refused(lambda: _load_folder(tmp_path, plan, weights))


@FAST
@given(which=st.sampled_from(["plan", "weights", "ngz"]), position=st.integers(0, 10**7), bit=st.integers(0, 7))
def test_every_bit_flip_is_detected(artefacts, tmp_path, which, position, bit):
    _check_flip(artefacts, tmp_path, which, position, bit)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["plan", "weights", "ngz"])
def test_thousand_bit_flips_per_artefact_are_all_detected(artefacts, tmp_path, which):
    """1,000 flips at uniformly random bytes and bits of each artefact: all 1,000 refused."""
    import numpy as np

    generator = np.random.default_rng({"plan": 1, "weights": 2, "ngz": 3}[which])
    size = len(artefacts[which])
    detected = 0
    for position, bit in zip(generator.integers(0, size, 1000), generator.integers(0, 8, 1000)):
        _check_flip(artefacts, tmp_path, which, int(position), int(bit))
        detected += 1
    assert detected == 1000


@FAST
@given(which=st.sampled_from(["saved_plan", "plan_tensors"]), position=st.integers(0, 10**7), bit=st.integers(0, 7))
def test_bit_flips_in_a_saved_plan_and_its_tensors_are_detected(artefacts, tmp_path, which, position, bit):
    from netgraph import ReductionPlan

    files = {"saved_plan": artefacts["saved_plan"], "plan_tensors": artefacts["plan_tensors"]}
    files[which] = _flip(files[which], position, bit)
    (tmp_path / "plan.json").write_bytes(files["saved_plan"])
    (tmp_path / "plan.json.safetensors").write_bytes(files["plan_tensors"])
    _assert_refused(lambda: ReductionPlan.load(tmp_path / "plan.json"))


# --------------------------------------------------------------------------- truncation

@FAST
@given(which=st.sampled_from(["plan", "weights", "ngz"]), keep=st.floats(0.0, 0.9999))
def test_truncation_is_detected(artefacts, tmp_path, which, keep):
    data = artefacts[which]
    cut = data[: int(len(data) * keep)]
    if which == "ngz":
        _assert_refused(lambda: decode_ngz(cut))
    elif which == "plan":
        _assert_refused(lambda: _load_folder(tmp_path, cut, artefacts["weights"]))
    else:
        _assert_refused(lambda: _load_folder(tmp_path, artefacts["plan"], cut))


# ------------------------------------------------------- type changes, resealed (crafted)

_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
    st.text(max_size=5), st.lists(st.integers(-3, 30), max_size=4), st.just({}), st.just({"a": 1}),
)


def _leaf_paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*prefix, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*prefix, index))
    yield prefix


def _replace(record, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(record) if isinstance(record, dict) else list(record)
    copy[head] = _replace(record[head], rest, value)
    return copy


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=_VALUES)
def test_resealed_type_changes_are_refused_or_harmless(artefacts, tmp_path, data, value):
    """A crafted plan with a valid checksum: the schema refuses it, or the model is unchanged."""
    record, _ = loads_checked(artefacts["plan"], "plan.json")
    paths = sorted(_leaf_paths(record), key=repr)
    path = data.draw(st.sampled_from(paths))
    changed = _replace(record, path, value)
    try:
        model = _load_folder(tmp_path, dumps_checked(changed) if isinstance(changed, dict) else json.dumps(changed).encode(),
                             artefacts["weights"])
    except NetgraphError as error:
        assert "\n" not in str(error).strip()
        return
    with torch.no_grad():
        torch.testing.assert_close(model(artefacts["probe"]), artefacts["expected"])


@FAST
@given(index=st.integers(0, 50), field=st.sampled_from(["shape", "entries", "index_bits", "bytes", "offset"]),
       value=st.one_of(st.integers(-(2**62), 2**62), st.lists(st.integers(-5, 2**40), max_size=6), st.none(),
                       st.text(max_size=3)))
def test_crafted_ngz_headers_are_refused_or_decoded_cleanly(artefacts, index, field, value):
    import hashlib
    import struct

    data = artefacts["ngz"]
    length = struct.unpack_from("<I", data, 10)[0]
    header = json.loads(data[14 : 14 + length])
    entry = header["tensors"][index % len(header["tensors"])]
    target = entry
    if field in ("bytes", "offset"):
        streams = [v for v in entry.values() if isinstance(v, dict) and "offset" in v]
        target = streams[0]
    target[field] = value
    new_header = json.dumps(header).encode()
    body = data[:8] + struct.pack("<HI", 1, len(new_header)) + new_header + data[14 + length : -32]
    try:
        tensors, _ = decode_ngz(body + hashlib.sha256(body).digest())
    except NetgraphError as error:
        assert "\n" not in str(error).strip()
        return
    reference, _ = decode_ngz(data)
    assert set(tensors) == set(reference)
