"""What a trained network's neuron graph looks like: blocks, embeddings, summaries, redundancy.

Every function takes data (a :class:`~netgraph.graph.NeuronGraph`, weight matrices,
:class:`~netgraph.calibrate.stats.UnitStats`) and returns a small result object that
carries its ``NeuronId``\\ s and has a ``to_dict()`` for JSON reports; nothing prints.
"""

from netgraph.analysis.blocks import SBMResult, sbm_blocks
from netgraph.analysis.clusterability import ClusterabilityResult, clusterability, normalized_cut
from netgraph.analysis.embedding import UnitEmbedding, embed_units
from netgraph.analysis.redundancy import RedundancyReport, redundancy
from netgraph.analysis.summary import GraphSummary, summarize_graph

__all__ = [
    "SBMResult",
    "sbm_blocks",
    "UnitEmbedding",
    "embed_units",
    "GraphSummary",
    "summarize_graph",
    "RedundancyReport",
    "redundancy",
    "ClusterabilityResult",
    "clusterability",
    "normalized_cut",
]
