"""Numerical building blocks shared by selection (``netgraph.select``) and analysis
(``netgraph.analysis``): plain arrays in, plain arrays out, no models and no contexts.

One copy of each: similarity graphs and Leiden communities (``similarity_graph``),
weighted k-medoids (``kmedoids``), DPPs (``dpp``), facility location
(``facility_location``), spectral coordinates, ASE/LSE and Zhu–Ghodsi dimension choice
(``spectral``), node2vec coordinates (``node2vec``), Gaussian block fitting (``blocks``)
and random-state normalisation (``random_state``). Nothing here needs graspologic.
Import the submodules directly; this package imports nothing heavy.
"""
