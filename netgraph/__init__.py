"""netgraph: reduce trained neural networks by treating them as neuron graphs."""
__version__ = "0.1.0"
