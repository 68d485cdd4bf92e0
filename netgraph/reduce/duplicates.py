"""Exact and positively scaled duplicate units: merging them costs nothing."""

from __future__ import annotations

import numpy as np

__all__ = ["exact_duplicates"]


def exact_duplicates(incoming: np.ndarray, homogeneous: bool, *, decimals: int = 7) -> np.ndarray:
    """Map each unit to the first unit it exactly duplicates (itself when unique).

    Units duplicate each other when their effective incoming rows (weights + bias, with
    BatchNorm folded) are equal, or, on a positively homogeneous path, positively
    proportional: then ``h_p = lambda h_k`` on every input. Rows are compared after
    normalisation and rounding, which is O(n) and immune to float noise far below the
    rounding step. All-zero rows are left alone (they are dead, not duplicates).
    """
    norms = np.linalg.norm(incoming, axis=1)
    representative = np.arange(incoming.shape[0])
    seen: dict[bytes, int] = {}
    for unit in range(incoming.shape[0]):
        if norms[unit] == 0:
            continue
        row = incoming[unit] / norms[unit] if homogeneous else incoming[unit]
        key = np.round(row, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
        if not homogeneous:
            key = np.round(row / max(np.abs(row).max(), 1e-30), decimals) + 0.0
            key = np.append(key, np.round(np.abs(row).max(), decimals))
        digest = key.tobytes()
        if digest in seen:
            representative[unit] = seen[digest]
        else:
            seen[digest] = unit
    return representative
