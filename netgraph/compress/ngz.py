"""The ``.ngz`` file: a pruned, weight-shared, Huffman-coded model (format version 1).

Deep Compression stores a network as sparse indices + cluster indices + codebooks,
Huffman-coded. ``.ngz`` is netgraph's own container for exactly that. Decoding gives
back the stored tensors **bit for bit**; any truncation or change is detected by the
checksum and rejected with :class:`~netgraph.errors.CheckpointError`.

Layout (all integers little-endian)
-----------------------------------
======  =====  ==============================================================
offset  bytes  field
======  =====  ==============================================================
0       8      magic ``b"\\x89NGZ\\r\\n\\x1a\\n"`` (PNG-style: catches text-mode mangling)
8       2      format version, uint16 (this module writes and reads 1)
10      4      header length H, uint32
14      H      header, UTF-8 JSON (below)
14+H    P      payload: the streams, concatenated; P = ``header["payload_bytes"]``
14+H+P  32     SHA-256 of every preceding byte
======  =====  ==============================================================

Header
------
``{"format": "ngz", "version": 1, "payload_bytes": P, "huffman": bool,
"structure": {"lowrank": {...}}, "metadata": {...}, "tensors": [entry, ...]}``.
``structure.lowrank`` is the factorization spec (see :mod:`netgraph.compress.lowrank`)
when the model was factorized, so loading rebuilds that structure first. Every
``state_dict`` entry has one tensor entry ``{"name", "shape", "source_dtype",
"encoding", ...}``; a *stream* is ``{"offset", "bytes", "bits", "coding"}`` with offset
relative to the payload start and ``coding`` one of

* ``"huffman"``: canonical Huffman code, MSB-first; ``"lengths"[s]`` is the code
  length of symbol ``s`` (0: absent). Codes follow from the lengths: symbols sorted by
  (length, symbol) get consecutive codes, shifted left when the length grows;
* ``"fixed"``: ``"width"`` bits per symbol, MSB-first;
* ``"raw"``: little-endian array of ``"dtype"``.

Encodings (chosen per tensor; compressible = float32 weight of a Linear/Conv layer):

``raw``
    ``"data"`` stream of the tensor in ``"dtype"`` (float32, or float16 when asked for
    non-weight floats; integer buffers as they are). Biases, BatchNorm, dense weights.
``sparse-codebook``
    At least half zero and at most 256 distinct nonzero values. ``"codebook"``: the
    distinct nonzero values, ascending, as base64 of little-endian float32 (exact and
    4× shorter than decimal text). Nonzeros in row-major order
    become *entries*: a ``"gaps"`` stream (zeros skipped before the entry, at most
    ``2**index_bits - 1``) and a ``"values"`` stream (codebook index). A longer run of
    zeros inserts *filler* entries (gap ``2**index_bits - 1``, value symbol
    ``len(codebook)``) that only advance the position — Deep Compression's filler zero.
    ``"entries"`` counts entries including fillers.
``sparse-float``
    As ``sparse-codebook`` but values are raw float32 (a filler's value is +0.0).
``dense-codebook``
    No gaps; one codebook index per element (zero may be a codebook value).

A weight is "zero" when its float32 bits are all zero, so ``-0.0`` survives as a value.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from netgraph.compress._checks import WEIGHT_LAYERS, check_int
from netgraph.compress.huffman import CanonicalCode, pack_fixed_width, unpack_fixed_width
from netgraph.compress.lowrank import (
    SPEC_ATTRIBUTE,
    apply_factorization_spec,
    factorization_spec,
)
from netgraph.atomic import atomic_write_bytes
from netgraph.errors import CheckpointError, InvalidParameterError

__all__ = ["MAGIC", "VERSION", "encode_ngz", "decode_ngz", "save_ngz", "load_ngz", "read_ngz", "ngz_size_report"]

MAGIC = b"\x89NGZ\r\n\x1a\n"
VERSION = 1
_PREFIX = struct.Struct("<8sHI")
_DIGEST = 32
_MAX_CODEBOOK = 256
_DTYPES = {
    "float32": torch.float32, "float16": torch.float16, "float64": torch.float64, "bfloat16": torch.bfloat16,
    "int64": torch.int64, "int32": torch.int32, "int16": torch.int16, "int8": torch.int8,
    "uint8": torch.uint8, "bool": torch.bool,
}
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}


class _Payload:
    """Collects streams and hands back their header descriptions."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes, bits: int, **description) -> dict:
        entry = {"offset": self.size, "bytes": len(data), "bits": bits, **description}
        self.parts.append(data)
        self.size += len(data)
        return entry

    def symbols(self, symbols: np.ndarray, *, huffman: bool, width: int) -> dict:
        if huffman:
            code = CanonicalCode.from_symbols(symbols)
            data, bits = code.encode(symbols)
            lengths = [0] * (max(code.lengths) + 1)
            for symbol, length in code.lengths.items():
                lengths[symbol] = length
            return self.add(data, bits, coding="huffman", lengths=lengths)
        data, bits = pack_fixed_width(symbols, width)
        return self.add(data, bits, coding="fixed", width=width)

    def raw(self, tensor: torch.Tensor) -> dict:
        data = _tensor_bytes(tensor)
        return self.add(data, len(data) * 8, coding="raw", dtype=_DTYPE_NAMES[tensor.dtype])


def _tensor_bytes(tensor: torch.Tensor) -> bytes:
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    if flat.numel() == 0:
        return b""
    return flat.view(torch.uint8).numpy().tobytes()


def _bits_width(symbol_count: int) -> int:
    return max(1, math.ceil(math.log2(max(symbol_count, 1))))


def _sparse_entries(flat_bits: np.ndarray, index_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaps per entry, the nonzero index of each entry (-1 for fillers), nonzero positions."""
    positions = np.flatnonzero(flat_bits != 0)
    gaps = np.diff(positions, prepend=-1) - 1
    longest = (1 << index_bits) - 1
    fillers = gaps // (longest + 1)
    remainder = gaps - fillers * (longest + 1)
    per_nonzero = fillers + 1
    total = int(per_nonzero.sum())
    entry_gaps = np.full(total, longest, dtype=np.int64)
    owner = np.full(total, -1, dtype=np.int64)
    last = np.cumsum(per_nonzero) - 1  # the real entry comes after its fillers
    entry_gaps[last] = remainder
    owner[last] = np.arange(positions.size)
    return entry_gaps, owner, positions


def _compressible_names(model: nn.Module) -> set[str]:
    names = set()
    for module_name, module in model.named_modules():
        if isinstance(module, WEIGHT_LAYERS):
            names.add(f"{module_name}.weight" if module_name else "weight")
    return names


def _encode_weight(name: str, tensor: torch.Tensor, payload: _Payload, huffman: bool, index_bits: int) -> dict | None:
    """Header entry of a compressed float32 weight, or None to store it raw."""
    flat = tensor.detach().cpu().contiguous().reshape(-1).numpy()
    if flat.size == 0 or not np.isfinite(flat).all():
        return None
    bits = flat.view(np.uint32)
    # -0.0 counts as zero for the choice but is stored as a value, to stay bit-exact
    sparse = float((flat == 0).mean()) >= 0.5
    nonzero_bits = bits[bits != 0] if sparse else bits
    distinct = np.unique(nonzero_bits)
    entry: dict = {"name": name}
    if distinct.size <= _MAX_CODEBOOK:
        # sort by value so the codebook reads naturally; -0.0 and 0.0 stay distinct
        codebook_bits = distinct[np.argsort(distinct.view(np.float32), kind="stable")]
        codebook = codebook_bits.view(np.float32)
        lookup = {int(b): i for i, b in enumerate(codebook_bits.tolist())}
        entry["codebook"] = base64.b64encode(codebook.astype("<f4").tobytes()).decode("ascii")
        if sparse:
            entry_gaps, owner, positions = _sparse_entries(bits, index_bits)
            symbol_of_nonzero = np.array([lookup[int(b)] for b in bits[positions].tolist()], dtype=np.int64)
            symbols = np.where(owner >= 0, symbol_of_nonzero[np.maximum(owner, 0)] if owner.size else owner, len(codebook))
            has_fillers = bool((owner < 0).any())
            entry.update(encoding="sparse-codebook", index_bits=index_bits, entries=int(owner.size),
                         nonzero=int(positions.size))
            entry["gaps"] = payload.symbols(entry_gaps, huffman=huffman, width=index_bits)
            entry["values"] = payload.symbols(
                symbols, huffman=huffman, width=_bits_width(len(codebook) + int(has_fillers))
            )
        else:
            symbols = np.array([lookup[int(b)] for b in bits.tolist()], dtype=np.int64)
            entry.update(encoding="dense-codebook")
            entry["values"] = payload.symbols(symbols, huffman=huffman, width=_bits_width(len(codebook)))
        return entry
    if not sparse:
        return None
    entry_gaps, owner, positions = _sparse_entries(bits, index_bits)
    values = np.zeros(owner.size, dtype=np.float32)
    values[owner >= 0] = flat[positions]
    entry.update(encoding="sparse-float", index_bits=index_bits, entries=int(owner.size), nonzero=int(positions.size))
    entry["gaps"] = payload.symbols(entry_gaps, huffman=huffman, width=index_bits)
    entry["values"] = payload.raw(torch.from_numpy(values))
    return entry


def encode_ngz(
    model: nn.Module,
    *,
    huffman: bool = True,
    index_bits: int | Mapping[str, int] | None = None,
    raw_dtype: str = "float32",
    metadata: Mapping | None = None,
) -> bytes:
    """Encode a model's ``state_dict`` as ``.ngz`` bytes.

    Parameters
    ----------
    model : nn.Module
        Typically pruned (:func:`~netgraph.compress.sparsity.prune_magnitude`) and
        weight-shared (:func:`~netgraph.compress.quantize.quantize_weights`); any model
        works, dense float weights are simply stored raw.
    huffman : bool
        Huffman-code the gap and codebook-index streams (else fixed-width packing).
    index_bits : int in [1, 16] or mapping of parameter name to int, optional
        Width of the relative sparse index; default 8 for conv and 5 for Linear
        weights, as in Deep Compression.
    raw_dtype : {"float32", "float16"}
        Storage of floating tensors that are not compressed weights (biases, BN).
        ``float16`` is lossy for them; compressed weights are always exact.
    metadata : mapping, optional
        JSON-serialisable information stored in the header.
    """
    owner = "encode_ngz"
    if raw_dtype not in ("float32", "float16"):
        raise InvalidParameterError.expected("raw_dtype", owner, "'float32' or 'float16'", raw_dtype)
    if not isinstance(huffman, bool):
        raise InvalidParameterError.expected("huffman", owner, "a bool", huffman)
    if isinstance(index_bits, Mapping):
        for value in index_bits.values():
            check_int(value, "index_bits", owner, 1, 16)
    elif index_bits is not None:
        check_int(index_bits, "index_bits", owner, 1, 16)
    conv_weights = {
        f"{n}.weight" if n else "weight" for n, m in model.named_modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d))
    }
    compressible = _compressible_names(model)
    payload = _Payload()
    entries = []
    for name, tensor in model.state_dict().items():
        if tensor.dtype not in _DTYPE_NAMES:
            raise InvalidParameterError.expected("model", owner, "tensors of a supported dtype", f"{name}: {tensor.dtype}")
        entry = None
        if name in compressible and tensor.dtype == torch.float32:
            if isinstance(index_bits, Mapping):
                width = index_bits.get(name, 8 if name in conv_weights else 5)
            else:
                width = index_bits if index_bits is not None else (8 if name in conv_weights else 5)
            entry = _encode_weight(name, tensor, payload, huffman, width)
        if entry is None:
            stored = tensor.detach()
            if torch.is_floating_point(stored) and name not in compressible:
                stored = stored.to(_DTYPES[raw_dtype])
            entry = {"name": name, "encoding": "raw", "data": payload.raw(stored)}
        entry["shape"] = list(tensor.shape)
        entry["source_dtype"] = _DTYPE_NAMES[tensor.dtype]
        entries.append(entry)
    header = {
        "format": "ngz",
        "version": VERSION,
        "payload_bytes": payload.size,
        "huffman": huffman,
        "structure": {"lowrank": factorization_spec(model)},
        "metadata": dict(metadata or {}),
        "tensors": entries,
    }
    header_bytes = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    body = _PREFIX.pack(MAGIC, VERSION, len(header_bytes)) + header_bytes + b"".join(payload.parts)
    return body + hashlib.sha256(body).digest()


def _read_stream(payload: bytes, stream: Mapping, count: int) -> np.ndarray | bytes:
    start, length = int(stream["offset"]), int(stream["bytes"])
    if start < 0 or length < 0 or start + length > len(payload):
        raise CheckpointError("A stream of the .ngz file lies outside its payload.")
    data = payload[start : start + length]
    coding = stream["coding"]
    if coding == "huffman":
        code = CanonicalCode({s: int(n) for s, n in enumerate(stream["lengths"]) if int(n) > 0})
        return code.decode(data, count)
    if coding == "fixed":
        return unpack_fixed_width(data, count, int(stream["width"]))
    if coding == "raw":
        return data
    raise CheckpointError(f"Unknown stream coding {coding!r} in the .ngz file.")


def _raw_tensor(data: bytes, dtype_name: str, count: int) -> torch.Tensor:
    dtype = _DTYPES.get(dtype_name)
    if dtype is None:
        raise CheckpointError(f"Unknown dtype {dtype_name!r} in the .ngz file.")
    size = torch.empty(0, dtype=dtype).element_size()
    if len(data) != count * size:
        raise CheckpointError("A raw tensor of the .ngz file has the wrong number of bytes.")
    if count == 0:
        return torch.empty(0, dtype=dtype)
    return torch.frombuffer(bytearray(data), dtype=dtype).clone()


_MAX_DIMS = 8
_MAX_TENSOR_ELEMENTS = 1 << 31
_MAX_FILE_ELEMENTS = 1 << 32


def _stream_bits(stream: Mapping) -> int:
    return 8 * max(int(stream["bytes"]), 0)


def _checked_sizes(entry: Mapping) -> tuple[list[int], int]:
    """The entry's shape and element count, refused before any allocation when they cannot
    be true: a header whose digest was recomputed could otherwise ask for terabytes."""
    shape = entry["shape"]
    if not isinstance(shape, list) or len(shape) > _MAX_DIMS or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d for d in shape
    ):
        raise CheckpointError(f"The .ngz header gives tensor {entry.get('name')!r} an impossible shape {shape!r}.")
    count = math.prod(shape)
    if count > _MAX_TENSOR_ELEMENTS:
        raise CheckpointError(
            f"The .ngz header gives tensor {entry.get('name')!r} {count:,} elements, more than netgraph ever writes; "
            "the file is damaged or crafted."
        )
    encoding = entry["encoding"]
    if encoding == "raw":
        needed = count  # at least one bit per element; the exact byte count is checked on reading
        available = _stream_bits(entry["data"])
    elif encoding == "dense-codebook":
        needed, available = count, _stream_bits(entry["values"])
    else:
        index_bits = entry.get("index_bits")
        if not isinstance(index_bits, int) or isinstance(index_bits, bool) or not 1 <= index_bits <= 16:
            raise CheckpointError(f"The .ngz header gives tensor {entry.get('name')!r} bad index_bits {index_bits!r}.")
        needed = int(entry["entries"])
        available = min(_stream_bits(entry["gaps"]), _stream_bits(entry["values"]))
        if needed < 0:
            raise CheckpointError(f"The .ngz header gives tensor {entry.get('name')!r} a negative entry count.")
    if needed > available:
        raise CheckpointError(
            f"The .ngz header promises {needed:,} symbols for tensor {entry.get('name')!r} in only "
            f"{available:,} bits of payload; the file is damaged or crafted."
        )
    return shape, count


def _decode_entry(entry: Mapping, payload: bytes) -> torch.Tensor:
    shape, count = _checked_sizes(entry)
    encoding = entry["encoding"]
    source = _DTYPES.get(entry["source_dtype"])
    if source is None:
        raise CheckpointError(f"Unknown dtype {entry['source_dtype']!r} in the .ngz file.")
    if encoding == "raw":
        stream = entry["data"]
        tensor = _raw_tensor(_read_stream(payload, stream, count), stream["dtype"], count)
        return tensor.to(source).reshape(shape)
    codebook = np.frombuffer(base64.b64decode(entry.get("codebook", ""), validate=True), dtype="<f4").astype(np.float32)
    if encoding == "dense-codebook":
        symbols = _read_stream(payload, entry["values"], count)
        if symbols.size and (symbols.min() < 0 or symbols.max() >= codebook.size):
            raise CheckpointError("A codebook index of the .ngz file is out of range.")
        return torch.from_numpy(codebook[symbols].copy()).reshape(shape)
    if encoding not in ("sparse-codebook", "sparse-float"):
        raise CheckpointError(f"Unknown tensor encoding {encoding!r} in the .ngz file.")
    entries = int(entry["entries"])
    gaps = _read_stream(payload, entry["gaps"], entries)
    positions = np.cumsum(gaps + 1) - 1
    if encoding == "sparse-codebook":
        symbols = _read_stream(payload, entry["values"], entries)
        if symbols.size and (symbols.min() < 0 or symbols.max() > codebook.size):
            raise CheckpointError("A codebook index of the .ngz file is out of range.")
        real = symbols < codebook.size
        values = codebook[symbols[real]]
    else:
        raw = _raw_tensor(_read_stream(payload, entry["values"], entries), "float32", entries).numpy()
        real = raw.view(np.uint32) != 0
        values = raw[real]
    positions = positions[real]
    if positions.size != int(entry["nonzero"]) or (positions.size and positions[-1] >= count):
        raise CheckpointError("Sparse indices of the .ngz file do not fit the tensor shape.")
    flat = np.zeros(count, dtype=np.float32)
    flat[positions] = values
    return torch.from_numpy(flat).reshape(shape)


def decode_ngz(data: bytes) -> tuple[dict[str, torch.Tensor], dict]:
    """Check and decode ``.ngz`` bytes into ``(state_dict, header)``."""
    data = bytes(data)
    if len(data) < _PREFIX.size + _DIGEST:
        raise CheckpointError(f"Not an .ngz file: only {len(data)} bytes.")
    magic, version, header_length = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise CheckpointError("Not an .ngz file: wrong magic bytes.")
    body, digest = data[:-_DIGEST], data[-_DIGEST:]
    if hashlib.sha256(body).digest() != digest:
        raise CheckpointError("The .ngz file is truncated or corrupted: SHA-256 checksum mismatch.")
    if version != VERSION:
        raise CheckpointError(f"The .ngz file has format version {version}; this netgraph reads version {VERSION}.")
    header_end = _PREFIX.size + header_length
    try:
        header = json.loads(body[_PREFIX.size : header_end].decode("utf-8"))
        payload = body[header_end:]
        if header.get("format") != "ngz" or int(header["payload_bytes"]) != len(payload):
            raise CheckpointError("The .ngz header does not match the file's payload.")
        total = sum(_checked_sizes(entry)[1] for entry in header["tensors"])
        if total > _MAX_FILE_ELEMENTS:
            raise CheckpointError(f"The .ngz header describes {total:,} elements in all; the file is damaged or crafted.")
        tensors = {entry["name"]: _decode_entry(entry, payload) for entry in header["tensors"]}
    except CheckpointError:
        raise
    except MemoryError as error:
        raise CheckpointError("The .ngz file describes tensors too large for this machine's memory.") from error
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError, OverflowError) as error:
        raise CheckpointError(f"The .ngz file has a malformed header: {type(error).__name__}: {error}") from error
    return tensors, header


def read_ngz(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Read and decode an ``.ngz`` file into ``(state_dict, header)``."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CheckpointError(f"Cannot read {path}: {error}") from error
    return decode_ngz(data)


def ngz_size_report(data: bytes) -> dict:
    """Sizes in bytes: total, header, and payload per tensor (from encoded bytes)."""
    tensors, header = decode_ngz(data)
    per_tensor = {}
    for entry in header["tensors"]:
        streams = [entry[k] for k in ("data", "gaps", "values") if k in entry]
        per_tensor[entry["name"]] = {"encoding": entry["encoding"], "bytes": sum(int(s["bytes"]) for s in streams)}
    dense = sum(t.numel() * 4 if torch.is_floating_point(t) else t.numel() * t.element_size() for t in tensors.values())
    header_bytes = len(data) - _PREFIX.size - _DIGEST - int(header["payload_bytes"])
    return {
        "total_bytes": len(data),
        "header_bytes": header_bytes,
        "payload_bytes": int(header["payload_bytes"]),
        "dense_float32_bytes": dense,
        "compression_ratio": dense / len(data),
        "tensors": per_tensor,
    }


def save_ngz(model: nn.Module, path: str | os.PathLike, **options) -> dict:
    """Encode ``model`` (see :func:`encode_ngz` for options) and write it atomically.

    Returns the size report (bytes) of :func:`ngz_size_report`.
    """
    data = encode_ngz(model, **options)
    atomic_write_bytes(Path(path), data)
    return ngz_size_report(data)


def load_ngz(template: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load an ``.ngz`` file into a copy of ``template`` (the original architecture).

    A low-rank structure recorded in the file is rebuilt first. Raises CheckpointError
    when the file is damaged or does not fit the template.
    """
    tensors, header = read_ngz(path)
    spec = (header.get("structure") or {}).get("lowrank") or {}
    model = apply_factorization_spec(template, spec) if spec else copy.deepcopy(template)
    if not spec and hasattr(model, SPEC_ATTRIBUTE):
        delattr(model, SPEC_ATTRIBUTE)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path} does not fit the given model: {error}") from error
    return model
