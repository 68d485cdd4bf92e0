"""Lazy greedy facility location against plain greedy and brute force."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netgraph.algorithms.facility_location import (
    facility_location_value,
    greedy_facility_location,
    lazy_greedy_facility_location,
)


def random_similarity(n, seed):
    generator = np.random.default_rng(seed)
    points = generator.normal(size=(n, 3))
    return np.clip(points @ points.T, 0, None) * generator.uniform(0.2, 1.0, size=(n, 1))


@settings(deadline=None, max_examples=40)
@given(n=st.integers(2, 9), k=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_lazy_greedy_matches_greedy_and_guarantee(n, k, seed):
    similarity = random_similarity(n, seed)
    k = min(k, n)
    lazy_picks, lazy_gains = lazy_greedy_facility_location(similarity, k)
    plain_picks, _ = greedy_facility_location(similarity, k)
    lazy_value = facility_location_value(similarity, lazy_picks)
    assert lazy_value == pytest.approx(facility_location_value(similarity, plain_picks))
    assert lazy_value == pytest.approx(lazy_gains.sum())
    optimum = max(facility_location_value(similarity, subset) for subset in combinations(range(n), k))
    assert lazy_value >= (1 - 1 / np.e) * optimum - 1e-12


def test_lazy_greedy_picks_equal_greedy_picks():
    similarity = random_similarity(40, 0)
    assert lazy_greedy_facility_location(similarity, 10)[0].tolist() == greedy_facility_location(similarity, 10)[0].tolist()


def test_negative_similarity_is_rejected():
    with pytest.raises(ValueError):
        lazy_greedy_facility_location(-np.eye(3), 1)
