"""Exact-duplicate detection by sorted projections finds what comparing every pair finds."""

from __future__ import annotations

import time

import numpy as np
import pytest

from netgraph.reduce.duplicates import exact_duplicates


def all_pairs_duplicates(incoming: np.ndarray, homogeneous: bool, tolerance: float = 1e-5) -> np.ndarray:
    """The former O(n² d) implementation, kept as the reference."""
    n = incoming.shape[0]
    norms = np.linalg.norm(incoming, axis=1)
    alive = norms > 0
    directions = np.zeros_like(incoming, dtype=np.float64)
    directions[alive] = incoming[alive] / norms[alive, None]
    representative = np.arange(n)
    threshold = 1.0 - tolerance**2 / 2
    cosine = directions @ directions.T
    for unit, row in enumerate(cosine):
        if not alive[unit]:
            continue
        matches = np.flatnonzero(row[:unit] > threshold)
        if not homogeneous:
            matches = matches[np.abs(norms[matches] - norms[unit]) <= tolerance * norms[unit]]
        if matches.size:
            representative[unit] = representative[matches[0]]
    return representative


def planted(seed: int, n: int = 300, d: int = 40, low_rank: bool = False) -> np.ndarray:
    """Random rows with exact copies, positively and negatively scaled copies, copies
    perturbed just above the tolerance, dead rows and runs of one repeated row."""
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((n, d))
    if low_rank:  # few input dimensions: projections crowd together
        rows = rng.standard_normal((n, 2)) @ rng.standard_normal((2, d))
    targets = rng.choice(n, size=n // 2, replace=False)
    sources = rng.integers(0, n, size=targets.size)
    for kind, (target, source) in zip(rng.integers(0, 5, size=targets.size), zip(targets, sources)):
        if kind == 0:
            rows[target] = rows[source]
        elif kind == 1:
            rows[target] = rows[source] * rng.uniform(0.1, 10.0)
        elif kind == 2:
            rows[target] = -rows[source]
        elif kind == 3:
            rows[target] = rows[source] + 1e-3 * rng.standard_normal(d) * np.linalg.norm(rows[source])
        else:
            rows[target] = 0.0
    rows[rng.choice(n, size=12, replace=False)] = rows[rng.integers(0, n)]  # one row many times
    return rows


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("homogeneous", [True, False])
def test_matches_all_pairs_comparison(seed, homogeneous):
    rows = planted(seed, low_rank=seed % 3 == 2)
    expected = all_pairs_duplicates(rows, homogeneous)
    found = exact_duplicates(rows, homogeneous)
    np.testing.assert_array_equal(found, expected)
    assert (expected != np.arange(rows.shape[0])).sum() > 20  # the planted copies are there to find


def test_scaled_copies_only_on_homogeneous_paths():
    rows = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -3.0]])
    assert exact_duplicates(rows, True).tolist() == [0, 0, 0, 3, 4]
    assert exact_duplicates(rows, False).tolist() == [0, 1, 0, 3, 4]


def test_float32_rows_and_trivial_sizes():
    """float32 rows are normalised in float64: the former code normalised them in float32,
    where a row's cosine with its own copy can fall below 1 - tol²/2 and copies were missed."""
    rows = planted(7).astype(np.float32)
    np.testing.assert_array_equal(exact_duplicates(rows, True), all_pairs_duplicates(rows.astype(np.float64), True))
    assert exact_duplicates(np.ones((1, 4)), True).tolist() == [0]
    assert exact_duplicates(np.zeros((3, 4)), True).tolist() == [0, 1, 2]


@pytest.mark.slow
def test_near_linear_on_a_wide_layer():
    """4,096 rows of 8,192 inputs (VGG fc1 is 4,096 × 25,089): all pairs took seconds per
    thousand rows; sorted projections stay well under a second of CPU time."""
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((4096, 8192)).astype(np.float32)
    rows[100:110] = rows[5] * 3.0
    start = time.process_time()
    representative = exact_duplicates(rows, True)
    elapsed = time.process_time() - start
    assert representative[100:110].tolist() == [5] * 10
    assert (representative != np.arange(4096)).sum() == 10
    assert elapsed < 5.0
