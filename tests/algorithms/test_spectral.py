"""Spectral helpers: Zhu–Ghodsi elbows on known spectra, projections, ASE/LSE coordinates."""

import numpy as np
import pytest

from netgraph.algorithms.spectral import (
    laplacian_coordinates,
    normalise_rows,
    project,
    spectral_coordinates,
    zhu_ghodsi_elbows,
)


def test_zhu_ghodsi_finds_the_gap_of_a_known_spectrum():
    rng = np.random.default_rng(0)
    signal = 10 + 0.1 * rng.standard_normal(4)
    noise = 1 + 0.1 * rng.standard_normal(20)
    assert zhu_ghodsi_elbows(np.concatenate([signal, noise]))[0] == 4
    # Order does not matter, and later elbows are found after the first.
    three_levels = np.concatenate([np.full(3, 50.0), np.full(5, 10.0), np.full(12, 1.0)]) + 0.01 * rng.random(20)
    assert zhu_ghodsi_elbows(rng.permutation(three_levels), n_elbows=2) == [3, 8]


@pytest.mark.requires("graspologic")
def test_zhu_ghodsi_agrees_with_graspologic():
    from graspologic.embed import select_dimension

    rng = np.random.default_rng(1)
    for _ in range(50):
        values = np.sort(np.abs(rng.standard_normal(rng.integers(3, 30))) * rng.choice([1, 10], 1))[::-1]
        for n_elbows in (1, 2):
            assert zhu_ghodsi_elbows(values, n_elbows) == [int(e) for e in select_dimension(values, n_elbows=n_elbows)[0]]


def test_normalise_rows_keeps_zero_rows_zero():
    rows = normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0], [1e-20, 0.0]]), relative_floor=1e-12)
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, 0.0], [0.0, 0.0]])


def test_project_keeps_pairwise_distances_of_low_rank_rows():
    rng = np.random.default_rng(2)
    rows = rng.standard_normal((40, 5)) @ rng.standard_normal((5, 300))
    projected = project(rows, max_dimension=10)
    assert projected.shape == (40, 10)
    np.testing.assert_allclose(projected @ projected.T, rows @ rows.T, rtol=1e-8, atol=1e-8)


def test_spectral_coordinates_reproduce_the_matrix_and_pick_a_dimension():
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((30, 2)) @ rng.standard_normal((2, 50))
    coordinates = spectral_coordinates(matrix, None)
    assert coordinates.shape == (30, 2)  # rank 2 keeps all the energy in two components
    assert spectral_coordinates(matrix, 5).shape == (30, 5)
    blocks = np.kron(np.eye(2), np.ones((5, 7)))
    lse = laplacian_coordinates(blocks, 2)
    # Units of the two blocks sit on orthogonal axes.
    assert abs(float(lse[0] @ lse[-1])) < 1e-9 and float(lse[0] @ lse[1]) > 0


def test_tall_matrices_use_the_gram_route_with_the_same_result():
    from netgraph.algorithms.spectral import LARGE_ROWS

    rng = np.random.default_rng(4)
    tall = rng.standard_normal((LARGE_ROWS + 100, 12)) @ rng.standard_normal((12, 200))
    projected = project(tall, max_dimension=20)
    np.testing.assert_allclose(projected @ projected.T, tall @ tall.T, rtol=1e-7, atol=1e-6)
    coordinates = spectral_coordinates(tall, 12)
    u, singular, _ = np.linalg.svd(tall, full_matrices=False)
    np.testing.assert_allclose(np.abs(coordinates), np.abs(u[:, :12] * np.sqrt(singular[:12])), atol=1e-6)
