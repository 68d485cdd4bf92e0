"""Exact and positively scaled duplicate units: merging them costs nothing."""

from __future__ import annotations

import numpy as np

__all__ = ["exact_duplicates", "limit_duplicate_merges"]


def exact_duplicates(incoming: np.ndarray, homogeneous: bool, *, tolerance: float = 1e-5, chunk: int = 1024) -> np.ndarray:
    """Map each unit to the first unit it exactly duplicates (itself when unique).

    Units duplicate each other when their effective incoming rows (weights + bias, with
    BatchNorm folded) are equal, or, on a positively homogeneous path, positively
    proportional: then ``h_p = lambda h_k`` on every input. Rows are compared by the
    distance of their unit-normalised forms (and, off homogeneous paths, their norms), in
    chunks so memory stays O(chunk × n). All-zero rows are left alone (dead, not duplicates).
    """
    n = incoming.shape[0]
    norms = np.linalg.norm(incoming, axis=1)
    alive = norms > 0
    directions = np.zeros_like(incoming, dtype=np.float64)
    directions[alive] = incoming[alive] / norms[alive, None]
    representative = np.arange(n)
    threshold = 1.0 - tolerance**2 / 2  # |a - b| < tol  <=>  cos > 1 - tol²/2 for unit vectors
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        cosine = directions[start:stop] @ directions.T
        for offset, row in enumerate(cosine):
            unit = start + offset
            if not alive[unit]:
                continue
            matches = np.flatnonzero(row[:unit] > threshold)
            if not homogeneous:
                matches = matches[np.abs(norms[matches] - norms[unit]) <= tolerance * norms[unit]]
            if matches.size:
                representative[unit] = representative[matches[0]]
    return representative


def limit_duplicate_merges(representative: np.ndarray, n_keep: int) -> np.ndarray:
    """Undo duplicate merges until at least ``n_keep`` units are their own representative.

    Exact duplicates cost nothing to merge, but when a group has fewer distinct units than
    the number asked to keep (all units constant on degenerate data, or the rows of a
    consumer refitted from too few samples), merging them all would collapse the group far
    below the requested size. Keeping a duplicate is as exact as merging it, so the first
    ``n_keep - distinct`` duplicates (in index order) stay as units of their own.

    Examples
    --------
    >>> limit_duplicate_merges(np.array([0, 0, 0, 3]), 3).tolist()
    [0, 1, 0, 3]
    """
    representative = np.asarray(representative).copy()
    units = np.arange(representative.size)
    missing = n_keep - int(np.count_nonzero(representative == units))
    if missing > 0:
        duplicates = np.flatnonzero(representative != units)[:missing]
        representative[duplicates] = duplicates
    return representative
