"""The netgraph command line."""
