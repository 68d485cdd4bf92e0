"""Spectral coordinates of units: row normalisation, PCA projection, ASE, LSE, dimension choice.

ASE (adjacency spectral embedding) of a bipartite graph with biadjacency ``B`` is the
SVD ``B = U Σ Vᵀ`` read as ``U √Σ``; LSE does the same on the degree-normalised
``D_r^{-1/2} B D_c^{-1/2}``. :func:`zhu_ghodsi_elbows` picks a dimension from the
singular values by the profile likelihood of Zhu & Ghodsi (2006), as graspologic's
``select_dimension`` does, in a few lines of numpy.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "normalise_rows",
    "project",
    "spectral_coordinates",
    "degree_normalised",
    "laplacian_coordinates",
    "zhu_ghodsi_elbows",
]

# Above this dimension k-means and mixtures run on a PCA projection (distances barely change, cost does).
MAX_DIMENSION = 128
# Default dimension of ``spectral_coordinates(..., None)``: enough components for 95 % of
# the squared singular values, at least 2 and at most 128.
ENERGY = 0.95
# Above this many rows, projections use the d × d Gram matrix instead of a full SVD.
LARGE_ROWS = 2048


def normalise_rows(rows: np.ndarray, *, relative_floor: float = 0.0) -> np.ndarray:
    """Rows scaled to unit norm; rows with norm ≤ ``relative_floor`` × the largest become zero."""
    rows = np.asarray(rows, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    floor = relative_floor * max(float(norms.max(initial=0)), 1e-300) if relative_floor > 0 else 0.0
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > floor)


def project(directions: np.ndarray, max_dimension: int = MAX_DIMENSION) -> np.ndarray:
    """Directions in at most ``max_dimension`` coordinates (PCA without centring: keeps norms).

    Groups of more than ``LARGE_ROWS`` units take the leading eigenvectors of the d × d
    Gram matrix instead of a full SVD (same subspace, a fraction of the time: the SVD of a
    3,072 × 769 ViT-B FFN group also computes its 3,072 × 769 left factor).
    """
    n, d = directions.shape
    if d <= max_dimension:
        return directions
    if n > LARGE_ROWS:
        values, vectors = np.linalg.eigh(directions.T @ directions)
        return directions @ vectors[:, ::-1][:, :max_dimension]
    _, _, vt = np.linalg.svd(directions, full_matrices=False)
    return directions @ vt[:max_dimension].T


def spectral_coordinates(matrix: np.ndarray, n_components: int | None) -> np.ndarray:
    """Left singular vectors scaled by sqrt(singular values) (ASE of a bipartite graph).

    With ``n_components=None`` the dimension is the smallest that keeps 95 % of the
    squared singular values (at most 128).

    Examples
    --------
    >>> spectral_coordinates(np.eye(3), 2).shape
    (3, 2)
    """
    u, singular = _left_singular(matrix)
    if n_components is None:
        energy = np.cumsum(singular**2) / max(float(np.sum(singular**2)), 1e-300)
        n_components = int(np.searchsorted(energy, ENERGY) + 1)
        n_components = max(2, min(n_components, MAX_DIMENSION))
    n_components = min(n_components, singular.size)
    return u[:, :n_components] * np.sqrt(singular[:n_components])


def _left_singular(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors and singular values, decreasing; tall matrices (more than
    ``LARGE_ROWS`` rows) go through the eigenvectors of the small Gram matrix ``MᵀM``."""
    n, d = matrix.shape
    if n > LARGE_ROWS and d < n:
        values, vectors = np.linalg.eigh(matrix.T @ matrix)
        order = np.argsort(-values, kind="stable")
        singular = np.sqrt(np.clip(values[order], 0.0, None))
        keep = singular > singular[0] * 1e-10 if singular.size and singular[0] > 0 else np.zeros(d, dtype=bool)
        u = np.zeros((n, d))
        u[:, keep] = (matrix @ vectors[:, order[keep]]) / singular[keep]
        return u, singular
    u, singular, _ = np.linalg.svd(matrix, full_matrices=False)
    return u, singular


def degree_normalised(matrix, row_degree: np.ndarray, column_degree: np.ndarray):
    """``D_r^{-1/2} M D_c^{-1/2}`` (zero-degree rows and columns stay zero); dense or sparse."""
    row_scale = np.where(row_degree > 0, 1.0 / np.sqrt(np.where(row_degree > 0, row_degree, 1.0)), 0.0)
    column_scale = np.where(column_degree > 0, 1.0 / np.sqrt(np.where(column_degree > 0, column_degree, 1.0)), 0.0)
    if sp.issparse(matrix):
        return sp.csr_array(sp.diags(row_scale) @ matrix @ sp.diags(column_scale))
    return row_scale[:, None] * matrix * column_scale[None, :]


def laplacian_coordinates(biadjacency: np.ndarray, n_components: int | None) -> np.ndarray:
    """LSE of a bipartite graph: the ASE of its degree-normalised biadjacency."""
    normalised = degree_normalised(biadjacency, biadjacency.sum(axis=1), biadjacency.sum(axis=0))
    return spectral_coordinates(normalised, n_components)


def zhu_ghodsi_elbows(values: np.ndarray, n_elbows: int = 1) -> list[int]:
    """Dimensions at the first ``n_elbows`` profile-likelihood elbows of a decreasing spectrum.

    Zhu & Ghodsi (2006): split the sorted values at q into two Gaussian samples with their
    own means and a pooled variance; the elbow is the q of largest likelihood. Later
    elbows repeat the search on the values after the previous one. Returns dimensions
    (1-based counts of leading values), as graspologic's ``select_dimension`` does.

    Examples
    --------
    >>> zhu_ghodsi_elbows(np.array([10.0, 9.5, 9.0, 1.0, 0.9, 0.8, 0.7]))
    [3]
    """
    values = np.sort(np.asarray(values, dtype=np.float64).ravel())[::-1]
    elbows: list[int] = []
    offset = 0
    while len(elbows) < n_elbows and values.size - offset >= 2:
        offset += _profile_likelihood_elbow(values[offset:])
        elbows.append(offset)
    return elbows


def _profile_likelihood_elbow(values: np.ndarray) -> int:
    n = values.size
    best_q, best = 1, -np.inf
    scale = max(float(np.mean(values**2)), 1e-300)
    for q in range(1, n + 1):
        first, second = values[:q], values[q:]
        if first.size == 1 and second.size == 1:
            continue  # two values: no variance to pool
        residual = np.sum((first - first.mean()) ** 2) + (np.sum((second - second.mean()) ** 2) if second.size else 0.0)
        # Pooled variance with n - 2 degrees of freedom (n - 1 when nothing is split off);
        # a tiny floor keeps flat spectra finite.
        variance = max(residual / (n - 1 - (q < n)), 1e-12 * scale)
        log_likelihood = -0.5 * residual / variance - 0.5 * n * np.log(2 * np.pi * variance)
        if log_likelihood > best:
            best_q, best = q, log_likelihood
    return best_q
