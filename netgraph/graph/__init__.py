"""From a model to its unit groups and weighted neuron graph."""

from netgraph.graph.groups import Member, UnitGroup, find_unit_groups
from netgraph.graph.neuron_graph import NeuronGraph, NeuronId

__all__ = ["Member", "UnitGroup", "NeuronGraph", "NeuronId", "find_unit_groups"]
