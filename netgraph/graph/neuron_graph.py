"""The weighted neuron graph: units as nodes, weight magnitudes as edges.

Node order is never implicit: every matrix travels with its list of ``NeuronId``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from netgraph.graph.groups import UnitGroup, find_unit_groups
from netgraph.graph.layers import weight_view
from netgraph.graph.weights import consumer_block, incoming_weights, outgoing_weights

__all__ = ["NeuronId", "NeuronGraph"]


class NeuronId(NamedTuple):
    """One unit: the group (or output layer) it belongs to and its index there."""

    group: str
    index: int


@dataclass
class NeuronGraph:
    """Directed weighted graph of the units of a model's unit groups.

    Attributes
    ----------
    node_ids : list of NeuronId
        Node order of ``adjacency``; units of one group are contiguous, groups in model order,
        followed by the units of output layers (groups that are not reducible).
    adjacency : scipy.sparse.csr_array, shape (n, n)
        Edge i -> j carries |w| between unit i and unit j of the next group (Frobenius norm
        of the kernel slice for convolutions and of all flattened columns).
    groups : list of UnitGroup
        The reducible groups (their nodes come first).
    layers : list of str
        Every layer of nodes in order: the group names, then output-layer names.
    """

    node_ids: list[NeuronId]
    adjacency: sp.csr_array
    groups: list[UnitGroup]
    layers: list[str]
    _incoming: dict[str, np.ndarray]
    _outgoing: dict[str, np.ndarray]

    @classmethod
    def from_model(
        cls,
        model: nn.Module,
        example_inputs: Any,
        *,
        groups: list[UnitGroup] | None = None,
        include_unfoldable: bool = False,
    ) -> "NeuronGraph":
        """Build the neuron graph of ``model``.

        Examples
        --------
        >>> import torch
        >>> from torch import nn
        >>> mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> graph = NeuronGraph.from_model(mlp, torch.randn(2, 4))
        >>> graph.layers, graph.adjacency.shape
        (['0', '2', '4'], (13, 13))
        """
        if groups is None:
            groups = find_unit_groups(model, example_inputs)
        # Unfoldable groups are drawn when asked, but only those with layers on both sides:
        # a group that cannot be mapped may have lost its producers or consumers.
        groups = [g for g in groups if g.foldable or (include_unfoldable and g.producers and g.consumers)]
        modules = dict(model.named_modules())
        produced_by = {}  # module name -> (group, member)
        for group in groups:
            for producer in group.producers:
                produced_by.setdefault(producer.module, (group, producer))
        layers = [g.name for g in groups]
        sizes = {g.name: g.size for g in groups}
        outputs: dict[str, int] = {}
        for group in groups:
            for consumer in group.consumers:
                if consumer.module not in produced_by and consumer.module not in outputs:
                    outputs[consumer.module] = int(weight_view(modules[consumer.module]).shape[0])
        layers += list(outputs)
        sizes.update(outputs)
        offsets = dict(zip(layers, np.cumsum([0] + [sizes[name] for name in layers[:-1]]).tolist()))
        node_ids = [NeuronId(name, i) for name in layers for i in range(sizes[name])]

        rows, cols, vals = [], [], []
        for group in groups:
            for consumer in group.consumers:
                block = consumer_block(modules[consumer.module], consumer)  # (n, out, taps)
                strength = torch.sqrt((block**2).sum(-1)).numpy()  # (n, out)
                if consumer.module in produced_by:
                    target, member = produced_by[consumer.module]
                    strength = strength[:, member.columns[:, 0]]
                    target_name = target.name
                else:
                    target_name = consumer.module
                source, dest = np.nonzero(strength)
                rows.append(source + offsets[group.name])
                cols.append(dest + offsets[target_name])
                vals.append(strength[source, dest])
        n = len(node_ids)
        if rows:
            adjacency = sp.csr_array(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
            )
        else:
            adjacency = sp.csr_array((n, n))
        adjacency.sum_duplicates()
        incoming = {g.name: incoming_weights(model, g) for g in groups}
        outgoing = {g.name: outgoing_weights(model, g) for g in groups}
        return cls(node_ids, adjacency, groups, layers, incoming, outgoing)

    # --- views -------------------------------------------------------------------------
    @property
    def group_names(self) -> list[str]:
        return [g.name for g in self.groups]

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    def group(self, name: str) -> UnitGroup:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(f"No unit group named {name!r}; groups are {self.group_names}.")

    def group_slice(self, name: str) -> slice:
        """Node positions of one layer (group or output layer); they are contiguous."""
        start = next(i for i, node in enumerate(self.node_ids) if node.group == name)
        size = sum(1 for node in self.node_ids if node.group == name)
        return slice(start, start + size)

    def layer_of_nodes(self) -> np.ndarray:
        """Index into ``layers`` of every node."""
        index = {name: i for i, name in enumerate(self.layers)}
        return np.array([index[node.group] for node in self.node_ids])

    def incoming(self, name: str) -> np.ndarray:
        """Effective incoming weights + bias of a group's units, (n_units, fan_in + 1)."""
        return self._incoming[name]

    def outgoing(self, name: str) -> np.ndarray:
        """Outgoing weights of a group's units, (n_units, fan_out)."""
        return self._outgoing[name]

    def to_networkx(self):
        """A ``networkx.DiGraph`` with NeuronId nodes (attributes ``layer``, ``layer_index``) and ``weight`` edges."""
        import networkx as nx

        graph = nx.DiGraph()
        layer_index = {name: i for i, name in enumerate(self.layers)}
        for node in self.node_ids:
            graph.add_node(node, layer=node.group, layer_index=layer_index[node.group])
        coo = self.adjacency.tocoo()
        graph.add_weighted_edges_from(
            (self.node_ids[i], self.node_ids[j], float(w)) for i, j, w in zip(coo.row, coo.col, coo.data)
        )
        return graph
