"""Exact and positively scaled duplicate units: merging them costs nothing."""

from __future__ import annotations

import numpy as np

__all__ = ["exact_duplicates", "limit_duplicate_merges"]


def exact_duplicates(incoming: np.ndarray, homogeneous: bool, *, tolerance: float = 1e-5, chunk: int = 1024,
                     n_projections: int = 4) -> np.ndarray:
    """Map each unit to the first unit it exactly duplicates (itself when unique).

    Units duplicate each other when their effective incoming rows (weights + bias, with
    BatchNorm folded) are equal, or, on a positively homogeneous path, positively
    proportional: then ``h_p = lambda h_k`` on every input. Two rows match when the distance
    of their unit-normalised forms is below ``tolerance`` (and, off homogeneous paths, their
    norms agree to it); a unit takes the representative of the first earlier unit it matches.
    All-zero rows are left alone (dead, not duplicates).

    Comparing every pair costs O(n² d) (68 s on VGG-11's 4,096 × 25,089 fc1), so candidates
    come from a sort instead: byte-identical rows are collapsed by hashing, and a matching
    pair's projections on a few unit directions differ by less than ``tolerance`` (a
    projection never lengthens a vector), so only neighbours in the sorted projection whose
    other projections also agree are compared exactly. This finds every pair the all-pairs
    comparison finds, in O(n d) plus the candidates. ``chunk`` bounds how many candidate
    rows are compared at once.
    """
    n = incoming.shape[0]
    representative = np.arange(n)
    if n < 2:
        return representative
    # Norms and projections in float64 (float32 round-off would exceed the tolerance), a
    # chunk of rows at a time so no float64 copy of a wide layer is made.
    norms, projections = np.empty(n), np.empty((n, n_projections))
    axes = np.random.default_rng(0).standard_normal((incoming.shape[1], n_projections))
    axes /= np.linalg.norm(axes, axis=0)
    for start in range(0, n, chunk):
        block = incoming[start:start + chunk].astype(np.float64)
        norms[start:start + chunk] = np.sqrt(np.einsum("ij,ij->i", block, block))
        projections[start:start + chunk] = block @ axes
    alive = np.flatnonzero(norms > 0)
    if alive.size < 2:
        return representative
    # Identical rows match each other and nothing else differently: keep the first of each.
    first_of: dict[bytes, int] = {}
    copy_of = np.empty(alive.size, dtype=np.int64)
    for position, unit in enumerate(alive):
        copy_of[position] = first_of.setdefault(np.ascontiguousarray(incoming[unit]).tobytes(), position)
    units = alive[copy_of == np.arange(alive.size)]
    first_match = _first_matches(incoming, units, norms, projections[units] / norms[units, None], homogeneous,
                                 tolerance, chunk)
    for position in np.flatnonzero(first_match >= 0):
        representative[units[position]] = representative[units[first_match[position]]]
    duplicates = copy_of != np.arange(alive.size)
    representative[alive[duplicates]] = representative[alive[copy_of[duplicates]]]
    return representative


def _first_matches(incoming: np.ndarray, units: np.ndarray, all_norms: np.ndarray, projections: np.ndarray,
                   homogeneous: bool, tolerance: float, chunk: int) -> np.ndarray:
    """Position in ``units`` of the first earlier unit each unit matches (-1 when none);
    ``projections`` are the units' unit-normalised rows projected on a few unit axes."""
    n = units.size
    norms = all_norms[units]

    def directions(positions: np.ndarray) -> np.ndarray:
        return incoming[units[positions]].astype(np.float64) / norms[positions, None]

    first = np.full(n, n, dtype=np.int64)
    threshold = 1.0 - tolerance**2 / 2  # |a - b| < tol  <=>  cos > 1 - tol²/2 for unit vectors
    window = 2 * tolerance + 1e-12  # room for round-off in the projections themselves
    order = np.argsort(projections[:, 0], kind="stable")
    sorted_projection = projections[order, 0]
    offset = 1
    while offset < n:
        near = np.flatnonzero(sorted_projection[offset:] - sorted_projection[:-offset] <= window)
        if near.size == 0:
            break
        a, b = order[near], order[near + offset]
        agree = np.all(np.abs(projections[a] - projections[b]) <= window, axis=1)
        if not homogeneous:
            agree &= np.abs(norms[a] - norms[b]) <= tolerance * np.maximum(norms[a], norms[b])
        a, b = np.minimum(a[agree], b[agree]), np.maximum(a[agree], b[agree])
        for start in range(0, a.size, chunk):
            lo, hi = a[start:start + chunk], b[start:start + chunk]
            cosine = np.einsum("ij,ij->i", directions(lo), directions(hi))
            match = cosine > threshold
            if not homogeneous:
                match &= np.abs(norms[lo] - norms[hi]) <= tolerance * norms[hi]
            np.minimum.at(first, hi[match], lo[match])
        offset += 1
    return np.where(first < n, first, -1)


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
