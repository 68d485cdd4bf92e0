"""Greedy DPP MAP and exact k-DPP sampling."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from netgraph.algorithms.dpp import greedy_map_dpp, k_dpp_marginals, sample_k_dpp


def random_kernel(n, rank, seed):
    generator = np.random.default_rng(seed)
    features = generator.normal(size=(n, rank))
    quality = generator.uniform(0.5, 2.0, size=n)
    return quality[:, None] * (features @ features.T) * quality[None, :]


def pivoted_cholesky_pivots(kernel, k):
    """Reference: pivots of the textbook pivoted Cholesky (largest remaining diagonal)."""
    residual = kernel.copy()
    pivots = []
    for _ in range(k):
        diagonal = np.diag(residual).copy()
        diagonal[pivots] = -np.inf
        pivot = int(np.argmax(diagonal))
        pivots.append(pivot)
        residual = residual - np.outer(residual[:, pivot], residual[pivot]) / residual[pivot, pivot]
    return pivots


@pytest.mark.parametrize("seed", range(5))
def test_greedy_map_equals_pivoted_cholesky(seed):
    kernel = random_kernel(30, 30, seed)
    assert greedy_map_dpp(kernel, 12).tolist() == pivoted_cholesky_pivots(kernel, 12)


def test_greedy_map_matches_lapack_pivoting():
    kernel = random_kernel(20, 20, 7)
    # LAPACK's pstrf also pivots on the largest remaining diagonal.
    _, pivots, _, _ = scipy.linalg.lapack.dpstrf(kernel, lower=1)
    assert greedy_map_dpp(kernel, 8).tolist() == (pivots[:8] - 1).tolist()


def test_greedy_map_each_step_maximises_log_det():
    kernel = random_kernel(15, 15, 3)
    picks = greedy_map_dpp(kernel, 6).tolist()
    for step in range(1, 6):
        chosen = picks[:step]
        best = max(
            (i for i in range(15) if i not in chosen),
            key=lambda i: np.linalg.slogdet(kernel[np.ix_(chosen + [i], chosen + [i])])[1],
        )
        assert best == picks[step]


def test_greedy_map_beyond_rank_still_returns_k_distinct():
    kernel = random_kernel(10, 3, 0)
    picks = greedy_map_dpp(kernel, 7)
    assert len(set(picks.tolist())) == 7


def test_k_dpp_sample_is_reproducible():
    kernel = random_kernel(12, 12, 1)
    first = sample_k_dpp(kernel, 4, np.random.default_rng(5))
    second = sample_k_dpp(kernel, 4, np.random.default_rng(5))
    np.testing.assert_array_equal(first, second)
    assert first.size == 4 and len(set(first.tolist())) == 4


def test_k_dpp_inclusion_frequencies_match_exact_marginals():
    kernel = random_kernel(7, 7, 2) / 4
    k, n_samples = 3, 4000
    eigen = np.linalg.eigh(kernel)
    generator = np.random.default_rng(0)
    counts = np.zeros(7)
    for _ in range(n_samples):
        counts[sample_k_dpp(kernel, k, generator, eigen=eigen)] += 1
    expected = k_dpp_marginals(kernel, k)
    np.testing.assert_allclose(expected.sum(), k)
    # Binomial standard error is at most 0.008; allow 4 of them.
    np.testing.assert_allclose(counts / n_samples, expected, atol=0.032)


def test_k_dpp_huge_eigenvalues_do_not_overflow():
    kernel = random_kernel(200, 200, 4) * 1e6
    sample = sample_k_dpp(kernel, 100, np.random.default_rng(0))
    assert len(set(sample.tolist())) == 100
