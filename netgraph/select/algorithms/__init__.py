"""Pure numpy selection algorithms (no model, no context): DPPs, facility location, clustering."""

from netgraph.select.algorithms.dpp import greedy_map_dpp, k_dpp_marginals, sample_k_dpp
from netgraph.select.algorithms.facility_location import (
    facility_location_value,
    greedy_facility_location,
    lazy_greedy_facility_location,
)

__all__ = [
    "greedy_map_dpp",
    "sample_k_dpp",
    "k_dpp_marginals",
    "lazy_greedy_facility_location",
    "greedy_facility_location",
    "facility_location_value",
]
