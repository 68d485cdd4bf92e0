"""Block fitting: how many groups of alike units, and which unit is in which.

:func:`gaussian_blocks` fits diagonal Gaussian mixtures with 1..B components to unit
coordinates and keeps the one of lowest BIC; the coordinates are first projected onto
their leading principal axes (mixtures need few dimensions). Used by the ``sbm`` method
and by :func:`netgraph.analysis.sbm_blocks` alike, so both find the same blocks.
"""

from __future__ import annotations

import warnings

import numpy as np

from netgraph.algorithms.random_state import seed_from

__all__ = ["gaussian_blocks", "BLOCK_DIMENSION"]

# Block estimation runs in a few principal coordinates: mixtures need few dimensions.
BLOCK_DIMENSION = 10


def gaussian_blocks(
    points: np.ndarray, max_blocks: int, random_state: np.random.Generator
) -> tuple[np.ndarray, list[float]]:
    """Labels of the BIC-best diagonal Gaussian mixture with 1..max_blocks components, and every BIC.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> points = np.vstack([rng.normal(0, 0.1, (30, 2)), rng.normal(5, 0.1, (30, 2))])
    >>> labels, bics = gaussian_blocks(points, 4, rng)
    >>> int(labels.max()) + 1, len(bics)
    (2, 4)
    """
    from sklearn.mixture import GaussianMixture

    n = points.shape[0]
    if n < 2:  # one point is one block; a mixture needs two samples
        return np.zeros(n, dtype=np.int64), []
    centred = points - points.mean(axis=0)
    dimension = min(BLOCK_DIMENSION, centred.shape[1], max(n - 1, 1))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    features = centred @ vt[:dimension].T
    best_labels, best_bic, bics = np.zeros(n, dtype=np.int64), np.inf, []
    for n_blocks in range(1, min(max_blocks, n) + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mixture = GaussianMixture(
                n_blocks, covariance_type="diag", reg_covar=1e-6, random_state=seed_from(random_state)
            ).fit(features)
        bic = float(mixture.bic(features))
        bics.append(bic)
        if bic < best_bic:
            best_bic, best_labels = bic, mixture.predict(features)
    _, labels = np.unique(best_labels, return_inverse=True)
    return labels.astype(np.int64), bics
