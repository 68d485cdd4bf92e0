"""Built-in selection methods; importing this package registers each of them."""

from netgraph.select.methods import baseline  # noqa: F401
from netgraph.select.methods import dpp  # noqa: F401
from netgraph.select.methods import submodular  # noqa: F401
from netgraph.select.methods import sbm  # noqa: F401
from netgraph.select.methods import summarize  # noqa: F401
from netgraph.select.methods import embedding  # noqa: F401
