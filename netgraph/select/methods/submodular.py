"""Facility location: kept units are exemplars that cover every unit well.

``f(S) = Σ_i max_{j∈S} sim(i, j)`` with ``sim(i, j) = w_i² · max(0, cos(u_i, u_j))``:
unit i is covered by its closest kept unit, in proportion to how costly i would be to
lose (``w_i``, see ``netgraph.select.profiles``). Since ``1 − cos = ‖u_i − u_j‖²/2`` this maximises
exactly the shared merge objective. Lazy greedy gives the (1 − 1/e) guarantee.
"""

from __future__ import annotations

import numpy as np

from netgraph.algorithms.facility_location import lazy_greedy_facility_location
from netgraph.select.base import Selection, SelectionContext, register_method
from netgraph.select.params import SOURCE
from netgraph.select.profiles import assign_to_most_similar, merge_error, unit_profile

__all__ = ["select_submodular"]

_OWNER = "the 'submodular' method"


@register_method("submodular", params=[SOURCE], nested=True)
def select_submodular(context: SelectionContext) -> Selection:
    """Lazy greedy facility location; every unit merges into the kept unit that covers it best."""
    profile = unit_profile(context, context.params["source"], _OWNER)
    cosine = np.clip(profile.cosine(), 0.0, None)
    importance = profile.weights**2
    importance = importance / (float(importance.max(initial=0.0)) or 1.0) + 1e-9
    similarity = importance[:, None] * cosine
    picks, gains = lazy_greedy_facility_location(similarity, context.n_keep)
    assignment = assign_to_most_similar(cosine, picks)
    scores = np.zeros(context.n_units)
    scores[picks] = gains
    return Selection.from_assignment(
        assignment,
        scores=scores,
        info={
            "source": profile.source,
            "objective": float(gains.sum()),
            "objective_fraction": float(gains.sum() / importance.sum()),
            "merge_error": merge_error(profile, assignment),
        },
    )
