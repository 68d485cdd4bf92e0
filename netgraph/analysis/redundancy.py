"""How redundant one group's units are: dead units, duplicates, effective rank, SVD floor.

Data-free (weights only): units with zero incoming or zero outgoing weights are dead, and
units whose incoming ``[w, b]`` rows have cosine > ``near_threshold`` (a positive scale,
so ``h_p ≈ λ h_k`` through ReLU) are near duplicates. With activation statistics, units
with no energy on the calibration data are also flagged (they may still fire elsewhere,
so the report lists them rather than calling them free), the effective rank of the
activations is ``exp(entropy)`` of the normalised covariance eigenvalues, and the rank-k
SVD error curve ``error[k] = Σ_{i>k} λ_i / Σ λ_i`` is the best any k units can do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from netgraph.algorithms.spectral import normalise_rows
from netgraph.errors import InvalidParameterError

__all__ = ["RedundancyReport", "redundancy"]

_OWNER = "redundancy"
_EXACT = 1 - 1e-9


@dataclass
class RedundancyReport:
    """Redundancy facts of one group; every list names its units by NeuronId."""

    node_ids: list
    dead: list
    silent: list
    duplicate_groups: list[list]
    exact_duplicate_groups: list[list]
    effective_rank: float | None
    svd_error_curve: np.ndarray | None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return len(self.node_ids)

    @property
    def n_redundant(self) -> int:
        """Units that could go at (almost) no cost: dead ones and all but one per duplicate group."""
        dead = set(self.dead)
        merged = sum(len([n for n in group if n not in dead]) - 1 for group in self.duplicate_groups)
        return len(dead) + max(merged, 0)

    def rank_for_error(self, tolerance: float) -> int | None:
        """Smallest k whose rank-k SVD error is at most ``tolerance`` (None data-free)."""
        if self.svd_error_curve is None:
            return None
        return int(np.argmax(self.svd_error_curve <= tolerance))

    def to_dict(self) -> dict[str, Any]:
        def names(nodes):
            return [[node.group, int(node.index)] for node in nodes]

        return {
            "n_units": self.n_units,
            "n_redundant": self.n_redundant,
            "dead": names(self.dead),
            "silent": names(self.silent),
            "duplicate_groups": [names(group) for group in self.duplicate_groups],
            "exact_duplicate_groups": [names(group) for group in self.exact_duplicate_groups],
            "effective_rank": self.effective_rank,
            "svd_error_curve": None if self.svd_error_curve is None else self.svd_error_curve.tolist(),
            "info": self.info,
        }


def _groups_above(cosine: np.ndarray, threshold: float, candidates: np.ndarray) -> list[np.ndarray]:
    linked = sp.csr_array(np.triu(cosine > threshold, k=1) & candidates[:, None] & candidates[None, :])
    n_components, labels = connected_components(linked, directed=False)
    groups = [np.flatnonzero(labels == c) for c in range(n_components)]
    return [g for g in groups if g.size > 1]


def redundancy(
    incoming: np.ndarray,
    outgoing: np.ndarray,
    stats=None,
    *,
    node_ids: list | None = None,
    near_threshold: float = 0.999,
    dead_tolerance: float = 1e-12,
) -> RedundancyReport:
    """Redundancy report of one group from its weights and, optionally, its UnitStats.

    Parameters
    ----------
    incoming : ndarray, shape (n_units, fan_in + 1)
        Incoming weights with the bias as last column (``NeuronGraph.incoming(name)``).
    outgoing : ndarray, shape (n_units, fan_out)
    stats : UnitStats, optional
    node_ids : list of NeuronId, optional
        Names of the units (default ``NeuronId("group", i)``).
    near_threshold : float in (0, 1)
        Cosine of incoming rows above which two units are near duplicates.

    Examples
    --------
    >>> w = np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.0, 1.0, 0.0]])
    >>> report = redundancy(w, np.ones((3, 2)))
    >>> [[n.index for n in g] for g in report.exact_duplicate_groups]
    [[0, 1]]
    """
    from netgraph.graph.neuron_graph import NeuronId

    incoming = np.asarray(incoming, dtype=np.float64)
    outgoing = np.asarray(outgoing, dtype=np.float64)
    n = incoming.shape[0]
    if outgoing.shape[0] != n:
        raise InvalidParameterError.expected("outgoing", _OWNER, f"an array with {n} rows like incoming", outgoing.shape)
    if not 0 < near_threshold < 1:
        raise InvalidParameterError.expected("near_threshold", _OWNER, "a float in (0, 1)", near_threshold)
    if stats is not None and stats.n_units != n:
        raise InvalidParameterError.expected("stats", _OWNER, f"statistics of {n} units", stats.n_units)
    if node_ids is None:
        node_ids = [NeuronId("group", i) for i in range(n)]
    elif len(node_ids) != n:
        raise InvalidParameterError.expected("node_ids", _OWNER, f"a list of {n} NeuronIds", len(node_ids))
    node_ids = list(node_ids)

    in_norm = np.linalg.norm(incoming, axis=1)
    out_norm = np.linalg.norm(outgoing, axis=1)
    scale = max(float(in_norm.max(initial=0)), float(out_norm.max(initial=0)), 1e-300)
    dead_mask = (in_norm <= dead_tolerance * scale) | (out_norm <= dead_tolerance * scale)
    silent_mask = np.zeros(n, dtype=bool)
    effective_rank = None
    curve = None
    if stats is not None:
        energy = stats.energy
        silent_mask = energy <= dead_tolerance * max(float(energy.max(initial=0)), 1e-300)
        eigenvalues = np.clip(np.linalg.eigvalsh(stats.covariance)[::-1], 0.0, None)
        total = eigenvalues.sum()
        if total > 0:
            p = eigenvalues[eigenvalues > 0] / total
            effective_rank = float(np.exp(-np.sum(p * np.log(p))))
            curve = np.clip((total - np.concatenate([[0.0], np.cumsum(eigenvalues)])) / total, 0.0, 1.0)
        else:
            effective_rank = 0.0
            curve = np.zeros(n + 1)

    directions = normalise_rows(incoming)
    cosine = directions @ directions.T
    alive = ~dead_mask
    near = _groups_above(cosine, near_threshold, alive)
    exact = _groups_above(cosine, _EXACT, alive)
    return RedundancyReport(
        node_ids=node_ids,
        dead=[node_ids[i] for i in np.flatnonzero(dead_mask)],
        silent=[node_ids[i] for i in np.flatnonzero(silent_mask & ~dead_mask)],
        duplicate_groups=[[node_ids[i] for i in group] for group in near],
        exact_duplicate_groups=[[node_ids[i] for i in group] for group in exact],
        effective_rank=effective_rank,
        svd_error_curve=curve,
        info={"near_threshold": near_threshold},
    )
