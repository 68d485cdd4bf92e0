import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netgraph.compress.huffman import (
    CanonicalCode,
    expected_code_length,
    huffman_code_lengths,
    pack_fixed_width,
    unpack_fixed_width,
)
from netgraph.errors import CheckpointError, InvalidParameterError


def test_dyadic_distribution_gets_exact_minus_log2_p():
    probabilities = {0: 1 / 2, 1: 1 / 4, 2: 1 / 8, 3: 1 / 16, 4: 1 / 32, 5: 1 / 32}
    lengths = huffman_code_lengths(probabilities)
    for symbol, p in probabilities.items():
        assert lengths[symbol] == -math.log2(p)
    entropy = -sum(p * math.log2(p) for p in probabilities.values())
    assert expected_code_length(lengths, probabilities) == pytest.approx(entropy)


def _brute_force_optimum(frequencies):
    """Smallest expected length over all length vectors satisfying Kraft (small alphabets)."""
    symbols = list(frequencies)
    best = math.inf
    for lengths in itertools.product(range(1, len(symbols)), repeat=len(symbols)):
        if sum(2.0**-n for n in lengths) <= 1:
            best = min(best, sum(frequencies[s] * n for s, n in zip(symbols, lengths)))
    return best / sum(frequencies.values())


@pytest.mark.parametrize(
    "frequencies",
    [{0: 5, 1: 1, 2: 1, 3: 1}, {0: 40, 1: 30, 2: 15, 3: 10, 4: 5}, {0: 1, 1: 1, 2: 1, 3: 1, 4: 1}, {7: 3, 9: 3, 11: 2}],
)
def test_code_lengths_match_brute_force_optimum(frequencies):
    lengths = huffman_code_lengths(frequencies)
    assert expected_code_length(lengths, frequencies) == pytest.approx(_brute_force_optimum(frequencies))


def test_canonical_codes_are_prefix_free_and_canonical():
    code = CanonicalCode({0: 2, 1: 1, 2: 3, 3: 3})
    words = {s: format(c, f"0{code.lengths[s]}b") for s, c in code.codes.items()}
    assert words == {1: "0", 0: "10", 2: "110", 3: "111"}
    for a, b in itertools.permutations(words.values(), 2):
        assert not b.startswith(a)


@settings(deadline=None, max_examples=40)
@given(st.lists(st.integers(0, 40), min_size=0, max_size=300))
def test_encode_decode_round_trip(symbols):
    symbols = np.array(symbols, dtype=np.int64)
    code = CanonicalCode.from_symbols(symbols)
    data, bits = code.encode(symbols)
    assert len(data) == (bits + 7) // 8
    assert np.array_equal(code.decode(data, symbols.size), symbols)


def test_single_symbol_and_truncation():
    code = CanonicalCode.from_symbols(np.zeros(10, dtype=np.int64))
    data, bits = code.encode(np.zeros(10, dtype=np.int64))
    assert bits == 10
    with pytest.raises(CheckpointError):
        code.decode(data[:1], 10)


def test_fixed_width_round_trip_and_errors():
    values = np.arange(50) % 32
    data, bits = pack_fixed_width(values, 5)
    assert bits == 250
    assert np.array_equal(unpack_fixed_width(data, 50, 5), values)
    with pytest.raises(InvalidParameterError, match="values"):
        pack_fixed_width(np.array([32]), 5)
    with pytest.raises(CheckpointError):
        unpack_fixed_width(data[:10], 50, 5)


def test_bad_lengths_rejected():
    with pytest.raises(InvalidParameterError, match="lengths"):
        CanonicalCode({0: 1, 1: 1, 2: 1})
