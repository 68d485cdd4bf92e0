"""Canonical Huffman coding of small integer alphabets.

Deep Compression (Han et al., 2016, section 4) Huffman-codes two streams per layer: the
cluster index of every stored weight and the relative (gap) index between stored
weights. Both alphabets are small (at most a few hundred symbols) and heavily skewed, so
an optimal prefix code saves 20-30 % over fixed-width packing.

Codes here are *canonical*: only the code length of each symbol has to be stored, the
codes themselves follow from sorting symbols by (length, symbol) and counting upwards.
That keeps the table in a file header tiny and makes decoding table-driven.

Example
-------
>>> import numpy as np
>>> lengths = huffman_code_lengths({0: 8, 1: 4, 2: 2, 3: 2})
>>> lengths
{0: 1, 1: 2, 2: 3, 3: 3}
>>> code = CanonicalCode(lengths)
>>> data, nbits = code.encode(np.array([0, 1, 2, 3, 0]))
>>> code.decode(data, 5).tolist()
[0, 1, 2, 3, 0]
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_right
from collections.abc import Mapping

import numpy as np

from netgraph.errors import CheckpointError, InvalidParameterError

__all__ = [
    "huffman_code_lengths",
    "CanonicalCode",
    "pack_fixed_width",
    "unpack_fixed_width",
    "expected_code_length",
]


def huffman_code_lengths(frequencies: Mapping[int, float]) -> dict[int, int]:
    """Optimal prefix-code lengths (Huffman's algorithm) for symbol frequencies.

    Parameters
    ----------
    frequencies : mapping of int to float
        Count or probability of each symbol; symbols with frequency 0 get no code.

    Returns
    -------
    dict of int to int
        Code length in bits of every symbol with a positive frequency. A single symbol
        gets length 1 (a prefix code needs at least one bit per symbol).
    """
    items = [(float(f), int(s)) for s, f in frequencies.items() if f > 0]
    if any(f < 0 or not np.isfinite(f) for f, _ in items):
        raise InvalidParameterError.expected(
            "frequencies", "huffman_code_lengths", "finite and non-negative", frequencies
        )
    if not items:
        return {}
    if len(items) == 1:
        return {items[0][1]: 1}
    # Each heap entry carries the symbols of its subtree; merging adds one bit to all of
    # them. The counter breaks ties deterministically so equal inputs give equal codes.
    counter = itertools.count()
    heap = [(f, next(counter), [s]) for f, s in sorted(items, key=lambda t: t[1])]
    heapq.heapify(heap)
    lengths = {s: 0 for _, s in items}
    while len(heap) > 1:
        f1, _, s1 = heapq.heappop(heap)
        f2, _, s2 = heapq.heappop(heap)
        for s in s1:
            lengths[s] += 1
        for s in s2:
            lengths[s] += 1
        heapq.heappush(heap, (f1 + f2, next(counter), s1 + s2))
    return lengths


def expected_code_length(lengths: Mapping[int, int], frequencies: Mapping[int, float]) -> float:
    """Average bits per symbol of a code under a distribution (frequencies are normalised)."""
    total = float(sum(frequencies.values()))
    return sum(frequencies[s] * lengths[s] for s in frequencies if frequencies[s] > 0) / total


class CanonicalCode:
    """A canonical prefix code rebuilt from code lengths alone.

    Parameters
    ----------
    lengths : mapping of int to int
        Code length of every symbol that may occur; must satisfy Kraft's inequality.
    """

    def __init__(self, lengths: Mapping[int, int]) -> None:
        if not lengths:
            raise InvalidParameterError.expected("lengths", "CanonicalCode", "a non-empty mapping", lengths)
        if any(int(n) < 1 for n in lengths.values()):
            raise InvalidParameterError.expected("lengths", "CanonicalCode", "positive code lengths", lengths)
        order = sorted((int(n), int(s)) for s, n in lengths.items())
        self.max_length = order[-1][0]
        kraft = sum(2.0 ** (self.max_length - n) for n, _ in order)
        if kraft > 2.0**self.max_length:
            raise InvalidParameterError.expected(
                "lengths", "CanonicalCode", "lengths satisfying Kraft's inequality", dict(lengths)
            )
        self.symbols = [s for _, s in order]
        self.lengths = {s: n for n, s in order}
        codes: dict[int, int] = {}
        code = 0
        previous = order[0][0]
        for n, s in order:
            code <<= n - previous
            previous = n
            codes[s] = code
            code += 1
        self.codes = codes
        # Left-justified codes are increasing in canonical order, so a window of
        # max_length bits is decoded by one bisection.
        self._left_justified = [codes[s] << (self.max_length - self.lengths[s]) for s in self.symbols]
        self._symbol_lengths = [self.lengths[s] for s in self.symbols]

    @classmethod
    def from_symbols(cls, symbols: np.ndarray) -> "CanonicalCode":
        """Build the optimal code for the empirical distribution of ``symbols``."""
        values, counts = np.unique(np.asarray(symbols, dtype=np.int64), return_counts=True)
        if values.size == 0:
            return cls({0: 1})
        return cls(huffman_code_lengths(dict(zip(values.tolist(), counts.tolist()))))

    def encode(self, symbols: np.ndarray) -> tuple[bytes, int]:
        """Encode symbols MSB-first; returns the bytes and the exact number of bits."""
        symbols = np.asarray(symbols, dtype=np.int64).ravel()
        if symbols.size == 0:
            return b"", 0
        table_symbols = np.array(sorted(self.codes), dtype=np.int64)
        positions = np.searchsorted(table_symbols, symbols)
        positions = np.clip(positions, 0, table_symbols.size - 1)
        if not np.array_equal(table_symbols[positions], symbols):
            raise InvalidParameterError.expected(
                "symbols", "CanonicalCode.encode", "symbols that have a code", "unknown symbols"
            )
        code_of = np.array([self.codes[s] for s in table_symbols.tolist()], dtype=np.uint64)
        length_of = np.array([self.lengths[s] for s in table_symbols.tolist()], dtype=np.int64)
        return _pack_codes(code_of[positions], length_of[positions])

    def decode(self, data: bytes, count: int) -> np.ndarray:
        """Decode ``count`` symbols from ``data``; raise CheckpointError if it runs out."""
        out = np.empty(count, dtype=np.int64)
        if count == 0:
            return out
        max_length = self.max_length
        window_bytes = (max_length + 14) // 8
        buffer = bytes(data) + bytes(window_bytes)
        total_bits = len(data) * 8
        mask = (1 << max_length) - 1
        left = self._left_justified
        lengths = self._symbol_lengths
        symbols = self.symbols
        position = 0
        from_bytes = int.from_bytes
        for i in range(count):
            byte = position >> 3
            chunk = from_bytes(buffer[byte : byte + window_bytes], "big")
            window = (chunk >> (window_bytes * 8 - (position & 7) - max_length)) & mask
            k = bisect_right(left, window) - 1
            if k < 0:
                raise CheckpointError("Huffman stream holds a bit pattern that is no code word.")
            out[i] = symbols[k]
            position += lengths[k]
        if position > total_bits:
            raise CheckpointError("Huffman stream ended before all symbols were decoded (truncated data).")
        return out

    def table(self) -> list[list[int]]:
        """The code as ``[[symbol, length], ...]`` for a file header."""
        return [[s, self.lengths[s]] for s in self.symbols]


def _pack_codes(codes: np.ndarray, lengths: np.ndarray) -> tuple[bytes, int]:
    """Concatenate variable-length codes MSB-first into bytes."""
    total = int(lengths.sum())
    if total == 0:
        return b"", 0
    # One entry per output bit: which code it belongs to and its place in that code.
    # Code lengths stay far below 64 bits (a length L needs more than Fibonacci(L)
    # symbols), so uint64 shifts suffice; memory is O(total bits), not O(n * max length).
    owner = np.repeat(np.arange(codes.size), lengths)
    starts = np.cumsum(lengths) - lengths
    offset = np.arange(total) - np.repeat(starts, lengths)
    shift = (lengths[owner] - 1 - offset).astype(np.uint64)
    stream = ((codes[owner] >> shift) & np.uint64(1)).astype(np.uint8)
    return np.packbits(stream).tobytes(), total


def pack_fixed_width(values: np.ndarray, width: int) -> tuple[bytes, int]:
    """Pack non-negative integers in ``width`` bits each, MSB-first."""
    values = np.asarray(values, dtype=np.uint64).ravel()
    if width < 1 or width > 63:
        raise InvalidParameterError.expected("width", "pack_fixed_width", "an int in [1, 63]", width)
    if values.size and int(values.max()) >= (1 << width):
        raise InvalidParameterError.expected("values", "pack_fixed_width", f"below 2**{width}", int(values.max()))
    return _pack_codes(values, np.full(values.size, width, dtype=np.int64))


def unpack_fixed_width(data: bytes, count: int, width: int) -> np.ndarray:
    """Inverse of :func:`pack_fixed_width`."""
    if count * width > len(data) * 8:
        raise CheckpointError("Fixed-width stream is shorter than its declared length (truncated data).")
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[: count * width].reshape(count, width)
    weights = (np.uint64(1) << np.arange(width - 1, -1, -1, dtype=np.uint64))
    return (bits.astype(np.uint64) * weights).sum(axis=1).astype(np.int64)
