"""The classic baselines: keep the largest, keep at random, keep the most active."""

from __future__ import annotations

import numpy as np

from netgraph.select.base import Selection, SelectionContext, register_method


def _top(scores: np.ndarray, n_keep: int) -> np.ndarray:
    # Stable sort so ties resolve to the lower index and results are reproducible.
    return np.sort(np.argsort(-scores, kind="stable")[:n_keep])


@register_method("magnitude", nested=True)
def select_magnitude(context: SelectionContext) -> Selection:
    """Keep the units whose incoming and outgoing weights are largest (L2 norm product)."""
    scores = np.linalg.norm(context.incoming, axis=1) * np.linalg.norm(context.outgoing, axis=1)
    return Selection.from_kept(_top(scores, context.n_keep), context.n_units, scores=scores)


@register_method("random")
def select_random(context: SelectionContext) -> Selection:
    """Keep a uniformly random subset (the floor every method must beat)."""
    kept = context.random_state.choice(context.n_units, size=context.n_keep, replace=False)
    return Selection.from_kept(kept, context.n_units)


@register_method("activation", nested=True)
def select_activation(context: SelectionContext) -> Selection:
    """Keep units with the largest output energy E[h²]·‖outgoing‖² (data) or weight norm (data-free)."""
    outgoing_energy = np.sum(context.outgoing**2, axis=1)
    if context.stats is None:
        scores = np.linalg.norm(context.incoming, axis=1) ** 2 * outgoing_energy
    else:
        scores = context.stats.energy * outgoing_energy
    return Selection.from_kept(_top(scores, context.n_keep), context.n_units, scores=scores)
