"""DPP selection: a diverse, high-quality subset of units (greedy MAP or an exact k-DPP sample).

Kernel ``L = diag(q) S diag(q)``: ``S`` is the cosine similarity of the unit directions
(incoming weight directions data-free, activation correlations with statistics, see
``netgraph.select.profiles``) and the quality ``q`` is the merge weight ``‖outgoing‖·‖incoming‖``
(data-free) or ``‖outgoing‖·std(h)`` (data). ``det(L_Y)`` is large for important units
pointing in different directions, i.e. a kept set that leaves few units without a close
partner. Every dropped unit then merges into its most similar kept unit.
"""

from __future__ import annotations

import numpy as np

from netgraph.algorithms.dpp import greedy_map_dpp, sample_k_dpp
from netgraph.select.base import Selection, SelectionContext, register_method
from netgraph.select.params import SOURCE
from netgraph.select.profiles import assign_to_most_similar, merge_error, unit_profile

__all__ = ["select_dpp", "select_dpp_sample"]

# Added to S so that L is strictly positive definite on groups with more units than
# dimensions; small enough not to change the order of well-conditioned picks.
_JITTER = 1e-6


def _kernel(context: SelectionContext, owner: str) -> tuple[np.ndarray, np.ndarray, object]:
    profile = unit_profile(context, context.params["source"], owner)
    similarity = profile.cosine()
    quality = profile.weights / (float(profile.weights.max(initial=0.0)) or 1.0)
    kernel = quality[:, None] * (similarity + _JITTER * np.eye(similarity.shape[0])) * quality[None, :]
    return kernel, similarity, profile


@register_method("dpp", params=[SOURCE])
def select_dpp(context: SelectionContext) -> Selection:
    """Greedy MAP of the DPP (Chen et al. 2018); dropped units merge into the most similar kept one."""
    kernel, similarity, profile = _kernel(context, "the 'dpp' method")
    picks = greedy_map_dpp(kernel, context.n_keep)
    assignment = assign_to_most_similar(similarity, picks)
    scores = np.zeros(context.n_units)
    # Earlier picks score higher: the greedy order is the method's ranking.
    scores[picks] = np.arange(picks.size, 0, -1)
    return Selection.from_assignment(
        assignment,
        scores=scores,
        info={"source": profile.source, "merge_error": merge_error(profile, assignment)},
    )


@register_method("dpp-sample", params=[SOURCE])
def select_dpp_sample(context: SelectionContext) -> Selection:
    """An exact k-DPP sample (Kulesza & Taskar Alg. 8) from the seeded generator."""
    kernel, similarity, profile = _kernel(context, "the 'dpp-sample' method")
    picks = sample_k_dpp(kernel, context.n_keep, context.random_state)
    if picks.size < context.n_keep:
        # Only possible for a kernel of too small rank: complete by quality.
        rest = np.setdiff1d(np.arange(context.n_units), picks)
        rest = rest[np.argsort(-np.diag(kernel)[rest], kind="stable")]
        picks = np.concatenate([picks, rest[: context.n_keep - picks.size]])
    assignment = assign_to_most_similar(similarity, picks)
    return Selection.from_assignment(
        assignment, info={"source": profile.source, "merge_error": merge_error(profile, assignment)}
    )
