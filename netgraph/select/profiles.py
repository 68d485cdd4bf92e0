"""What the graph-based methods compare: each unit's direction and merge weight.

Merging unit p into unit k replaces ``h_p`` by ``λ h_k``. For a ReLU-like unit
``h = ‖w‖ relu(u·x)`` with ``u = w/‖w‖`` (bias included), so with the best λ the error
the consumer sees is about ``‖outgoing_p‖ · ‖incoming_p‖ · ‖u_p − u_k‖ · ‖x‖``: the
*direction* of the incoming row decides whether two units can merge, and
``‖outgoing‖·‖incoming‖`` decides how much a bad merge costs. With activation statistics
the same holds in activation space: ``u`` is the unit's normalised centred activation
(a row of a factor of the covariance) and the scale is ``‖outgoing‖ · std(h)``.

Every method here clusters or selects on ``directions`` and weighs units by
``weights²`` (the squared error scale), so the objective they share is
``Σ_p weights_p² ‖u_p − u_{rep(p)}‖²``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from netgraph.algorithms.spectral import normalise_rows
from netgraph.errors import InvalidParameterError

if TYPE_CHECKING:
    from netgraph.select.base import SelectionContext

__all__ = [
    "UnitProfile",
    "weight_profile",
    "activation_profile",
    "unit_profile",
    "assign_to_most_similar",
    "merge_error",
]

# Factor the covariance with at most this many components (eigh of a few thousand units
# costs seconds; the leading components carry the merge-relevant structure).
_MAX_COMPONENTS = 256
# Rows shorter than this fraction of the longest are treated as zero (no direction).
_FLOOR = 1e-12


@dataclass(frozen=True)
class UnitProfile:
    """Directions (rows, unit norm or zero) and merge weights of a group's units."""

    directions: np.ndarray  # (n_units, d)
    weights: np.ndarray  # (n_units,) >= 0
    source: str  # "weights" or "activations"

    def cosine(self) -> np.ndarray:
        """Cosine similarity of the directions (PSD, zero rows give zero)."""
        return self.directions @ self.directions.T


# ------------------------------------------------------------------------ profiles


def weight_profile(context: "SelectionContext") -> UnitProfile:
    """Profile from the incoming weights (data-free)."""
    incoming = np.asarray(context.incoming, dtype=np.float64)
    outgoing_norm = np.linalg.norm(np.asarray(context.outgoing, dtype=np.float64), axis=1)
    if context.homogeneous:
        # Scale is absorbed by λ, so only the direction of [w, b] matters.
        directions = normalise_rows(incoming, relative_floor=_FLOOR)
        weights = outgoing_norm * np.linalg.norm(incoming, axis=1)
    else:
        # Without homogeneity h_p = λ h_k needs equal rows up to nothing: keep the scale in
        # the direction vectors (normalised jointly so distances stay comparable).
        scale = np.sqrt(np.mean(np.sum(incoming**2, axis=1))) or 1.0
        directions = incoming / scale
        weights = outgoing_norm * scale
    return UnitProfile(directions, weights, "weights")


def activation_profile(context: "SelectionContext") -> UnitProfile:
    """Profile from activation statistics: rows of a factor of the correlation matrix."""
    stats = context.stats
    covariance = np.asarray(stats.covariance, dtype=np.float64)
    covariance = (covariance + covariance.T) / 2
    n = covariance.shape[0]
    variances = np.clip(np.diag(covariance), 0.0, None)
    std = np.sqrt(variances)
    # Factor the correlation matrix so that rows are unit vectors whose inner products are
    # activation correlations.
    safe = np.where(std > 0, std, 1.0)
    correlation = covariance / safe[:, None] / safe[None, :]
    if n > _MAX_COMPONENTS:
        from scipy.linalg import eigh

        values, vectors = eigh(correlation, subset_by_index=[n - _MAX_COMPONENTS, n - 1])
    else:
        values, vectors = np.linalg.eigh(correlation)
    factor = vectors * np.sqrt(np.clip(values, 0.0, None))
    directions = normalise_rows(factor, relative_floor=_FLOOR)
    directions[std <= 1e-12 * max(float(std.max(initial=0)), 1e-300)] = 0.0
    outgoing_norm = np.linalg.norm(np.asarray(context.outgoing, dtype=np.float64), axis=1)
    # Units silent on the calibration data may fire elsewhere: give them a floor weight so
    # they are not treated as free.
    floor = 1e-2 * float(np.mean(std)) if std.size else 0.0
    weights = outgoing_norm * np.maximum(std, floor)
    return UnitProfile(directions, weights, "activations")


def unit_profile(context: "SelectionContext", source: str = "auto", owner: str = "unit_profile") -> UnitProfile:
    """The profile from activations (when ``source`` asks for or allows it) or weights."""
    if source == "activations" and context.stats is None:
        raise InvalidParameterError.expected(
            "source", owner, "'weights' or 'auto' when no calibration data is given", source
        )
    if source == "activations" or (source == "auto" and context.stats is not None):
        return activation_profile(context)
    return weight_profile(context)


# ---------------------------------------------------------------------- assignment


def assign_to_most_similar(similarity: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Each unit → the kept unit of largest similarity; kept units map to themselves."""
    kept = np.asarray(kept, dtype=np.int64)
    assignment = kept[np.argmax(similarity[:, kept], axis=1)]
    assignment[kept] = kept
    return assignment


def merge_error(profile: UnitProfile, assignment: np.ndarray) -> float:
    """``Σ w_p² ‖u_p − u_rep‖² / Σ w_p²``: the relative merge error the methods minimise."""
    valid = assignment >= 0
    gaps = np.sum((profile.directions[valid] - profile.directions[assignment[valid]]) ** 2, axis=1)
    squared = profile.weights[valid] ** 2
    return float(np.sum(squared * gaps) / max(float(np.sum(profile.weights**2)), 1e-300))
