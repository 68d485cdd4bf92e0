import hashlib
import json
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from netgraph.compress import (
    compressed_size,
    decode_ngz,
    encode_ngz,
    load_ngz,
    lowrank_factorize,
    prune_magnitude,
    quantize_weights,
    save_ngz,
)
from netgraph.compress.ngz import MAGIC, _sparse_entries
from netgraph.errors import CheckpointError, InvalidParameterError


def _bits(tensor):
    return tensor.view(torch.int32) if tensor.dtype == torch.float32 else tensor


def _assert_bit_exact(decoded, model):
    state = model.state_dict()
    assert set(decoded) == set(state)
    for name, tensor in state.items():
        assert decoded[name].dtype == tensor.dtype and decoded[name].shape == tensor.shape
        assert torch.equal(_bits(decoded[name]), _bits(tensor)), name


@pytest.fixture
def compressed_cnn(tiny_cnn):
    tiny_cnn(torch.randn(8, 3, 8, 8))  # non-trivial BatchNorm statistics
    prune_magnitude(tiny_cnn, 0.8)
    quantize_weights(tiny_cnn, 4)
    return tiny_cnn


@pytest.mark.parametrize("huffman", [True, False])
@pytest.mark.parametrize("index_bits", [None, 2])
def test_encode_decode_bit_exact(compressed_cnn, huffman, index_bits):
    data = encode_ngz(compressed_cnn, huffman=huffman, index_bits=index_bits)
    decoded, header = decode_ngz(data)
    _assert_bit_exact(decoded, compressed_cnn)
    encodings = {e["name"]: e["encoding"] for e in header["tensors"]}
    assert encodings["0.weight"] == "sparse-codebook" and encodings["0.bias"] == "raw"


def test_fillers_used_for_long_gaps():
    weight = torch.zeros(1, 100)
    weight[0, 0], weight[0, 99] = 1.0, -2.0
    gaps, owner, positions = _sparse_entries(weight.numpy().ravel().view(np.uint32), 3)
    # 98 zeros between the two, max gap 7: 98 // 8 = 12 fillers, then gap 98 - 96 = 2
    assert gaps.tolist() == [0] + [7] * 12 + [2]
    assert owner.tolist() == [0] + [-1] * 12 + [1]
    model = nn.Sequential(nn.Linear(100, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(weight)
    decoded, header = decode_ngz(encode_ngz(model, index_bits=3, huffman=False))
    assert torch.equal(decoded["0.weight"], weight)
    assert header["tensors"][0]["entries"] == 14


def test_pruned_only_and_dense_models_round_trip():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 4))
    _assert_bit_exact(decode_ngz(encode_ngz(model))[0], model)  # dense: raw
    prune_magnitude(model, 0.9)
    with torch.no_grad():
        model[0].weight[0, :3] = -0.0  # negative zeros must survive too
    decoded, header = decode_ngz(encode_ngz(model))
    _assert_bit_exact(decoded, model)
    assert {e["encoding"] for e in header["tensors"]} >= {"sparse-float"}


@settings(deadline=None, max_examples=25)
@given(
    rows=st.integers(1, 12),
    columns=st.integers(1, 40),
    sparsity=st.floats(0.0, 0.99),
    bits=st.integers(1, 6),
    index_bits=st.integers(1, 6),
    huffman=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_round_trip_property(rows, columns, sparsity, bits, index_bits, huffman, seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(columns, rows), nn.ReLU(), nn.Linear(rows, 3))
    prune_magnitude(model, sparsity)
    quantize_weights(model, bits)
    _assert_bit_exact(decode_ngz(encode_ngz(model, huffman=huffman, index_bits=index_bits))[0], model)


def test_file_layout(compressed_cnn, tmp_path):
    path = tmp_path / "model.ngz"
    report = save_ngz(compressed_cnn, path, metadata={"note": "test"})
    data = path.read_bytes()
    assert data[:8] == MAGIC
    version, header_length = struct.unpack_from("<HI", data, 8)
    assert version == 1
    header = json.loads(data[14 : 14 + header_length])
    assert header["metadata"] == {"note": "test"}
    assert len(data) == 14 + header_length + header["payload_bytes"] + 32
    assert hashlib.sha256(data[:-32]).digest() == data[-32:]
    assert report["total_bytes"] == len(data)
    assert compressed_size(compressed_cnn)["total_bytes"] == len(encode_ngz(compressed_cnn))
    loaded = load_ngz(compressed_cnn, path)
    _assert_bit_exact(loaded.state_dict(), compressed_cnn)


def test_huffman_payload_is_smaller_than_fixed_width(compressed_cnn):
    def payload(huffman):
        return decode_ngz(encode_ngz(compressed_cnn, huffman=huffman))[1]["payload_bytes"]

    assert payload(True) < payload(False)


@pytest.mark.parametrize("cut", [1, 31, 32, 100, 10_000])
def test_truncated_file_rejected(compressed_cnn, tmp_path, cut):
    data = encode_ngz(compressed_cnn)
    path = tmp_path / "cut.ngz"
    path.write_bytes(data[: max(len(data) - cut, 0)])
    with pytest.raises(CheckpointError):
        load_ngz(compressed_cnn, path)


@pytest.mark.parametrize("position", [0, 9, 20, -40, -1])
def test_tampered_file_rejected(compressed_cnn, position):
    data = bytearray(encode_ngz(compressed_cnn))
    data[position] ^= 0x01
    with pytest.raises(CheckpointError):
        decode_ngz(bytes(data))


def test_resealed_garbage_header_rejected(compressed_cnn):
    data = encode_ngz(compressed_cnn)
    header_length = struct.unpack_from("<I", data, 10)[0]
    header = json.loads(data[14 : 14 + header_length])
    header["tensors"][0]["entries"] += 5
    new_header = json.dumps(header).encode()
    body = data[:8] + struct.pack("<HI", 1, len(new_header)) + new_header + data[14 + header_length : -32]
    with pytest.raises(CheckpointError):
        decode_ngz(body + hashlib.sha256(body).digest())


def test_missing_file_and_wrong_template(compressed_cnn, tiny_mlp, tmp_path):
    with pytest.raises(CheckpointError):
        load_ngz(compressed_cnn, tmp_path / "absent.ngz")
    save_ngz(compressed_cnn, tmp_path / "cnn.ngz")
    with pytest.raises(CheckpointError):
        load_ngz(tiny_mlp, tmp_path / "cnn.ngz")


def test_factorized_model_round_trips_through_ngz(tiny_mlp, tmp_path):
    result = lowrank_factorize(tiny_mlp, rank=4)
    prune_magnitude(result.model, 0.5)
    quantize_weights(result.model, 3)
    save_ngz(result.model, tmp_path / "f.ngz")
    loaded = load_ngz(tiny_mlp, tmp_path / "f.ngz")
    x = torch.randn(5, 20)
    assert torch.equal(loaded(x), result.model(x))


def test_bad_options_named(compressed_cnn):
    with pytest.raises(InvalidParameterError, match="'raw_dtype'"):
        encode_ngz(compressed_cnn, raw_dtype="int8")
    with pytest.raises(InvalidParameterError, match="'index_bits'"):
        encode_ngz(compressed_cnn, index_bits=0)


def test_float16_raw_storage_shrinks_biases(compressed_cnn):
    small, _ = decode_ngz(encode_ngz(compressed_cnn, raw_dtype="float16"))
    assert torch.equal(_bits(small["0.weight"]), _bits(compressed_cnn.state_dict()["0.weight"]))
    assert torch.allclose(small["0.bias"], compressed_cnn[0].bias.detach(), atol=1e-3)


def _reseal(data: bytes, change) -> bytes:
    header_length = struct.unpack_from("<I", data, 10)[0]
    header = json.loads(data[14 : 14 + header_length])
    change(header)
    new_header = json.dumps(header).encode()
    body = data[:8] + struct.pack("<HI", 1, len(new_header)) + new_header + data[14 + header_length : -32]
    return body + hashlib.sha256(body).digest()


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h["tensors"][0].update(shape=[1_000_000, 1_000_000]),  # issue 9: tried to allocate 3.6 TiB
        lambda h: h["tensors"][0].update(shape=[-4, 3]),
        lambda h: h["tensors"][0].update(shape=[2.5]),
        lambda h: h["tensors"][0].update(shape=[1] * 20),
        lambda h: [t.update(shape=[65_536, 65_536]) for t in h["tensors"]],
        lambda h: [t.update(entries=10**12) for t in h["tensors"] if "entries" in t],
        lambda h: [t.update(index_bits=40) for t in h["tensors"] if "index_bits" in t],
    ],
)
def test_crafted_sizes_are_refused_before_allocating(compressed_cnn, change):
    import time

    started = time.perf_counter()
    with pytest.raises(CheckpointError):
        decode_ngz(_reseal(encode_ngz(compressed_cnn), change))
    assert time.perf_counter() - started < 2.0
