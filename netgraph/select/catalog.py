"""Where selection methods come from: the built-in modules and third-party plug-ins.

This module imports nothing heavy, so the command line can list the method names
without loading torch. The registry (:mod:`netgraph.select.base`) imports these modules
on first use; each registers its methods with ``register_method``.

Third-party methods are found in two ways (both documented in docs/DESIGN.md):

- an installed package declares an entry point in the group ``netgraph.methods`` whose
  name is the method name and whose value is the module that registers it::

      [project.entry-points."netgraph.methods"]
      my-method = "my_package.my_module"

- the environment variable ``NETGRAPH_PLUGINS`` lists modules to import, separated by
  commas (``NETGRAPH_PLUGINS=my_module netgraph reduce ... --method my-method``); this
  is also how the command line learns third-party names (see :func:`declared_method_names`).
"""

from __future__ import annotations

import os

__all__ = ["BUILTIN_METHODS", "ENTRY_POINT_GROUP", "PLUGIN_ENVIRONMENT", "plugin_modules", "declared_method_names"]

BUILTIN_METHODS: dict[str, str] = {
    "activation": "netgraph.select.methods.baseline",
    "dpp": "netgraph.select.methods.dpp",
    "dpp-sample": "netgraph.select.methods.dpp",
    "embedding": "netgraph.select.methods.embedding",
    "magnitude": "netgraph.select.methods.baseline",
    "random": "netgraph.select.methods.baseline",
    "sbm": "netgraph.select.methods.sbm",
    "submodular": "netgraph.select.methods.submodular",
    "summarize": "netgraph.select.methods.summarize",
}
"""Name → module that registers it; the registry checks every module registers exactly these."""

ENTRY_POINT_GROUP = "netgraph.methods"
PLUGIN_ENVIRONMENT = "NETGRAPH_PLUGINS"


def _entry_points() -> list:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def plugin_modules() -> list[str]:
    """Modules to import for third-party methods: ``NETGRAPH_PLUGINS`` first, then entry points."""
    named = [part.strip() for part in os.environ.get(PLUGIN_ENVIRONMENT, "").split(",") if part.strip()]
    return list(dict.fromkeys(named + [entry.value.split(":")[0].strip() for entry in _entry_points()]))


def declared_method_names() -> list[str] | None:
    """The built-in method names, known without importing anything; ``None`` when
    ``NETGRAPH_PLUGINS`` is set (those modules must be imported to learn their names:
    ``netgraph.select.available_methods()``).

    Entry points are not scanned here: reading every installed package's metadata costs
    about 0.1 s, too much for ``netgraph --help``. The command line therefore offers
    entry-point methods when ``NETGRAPH_PLUGINS`` names their module; the Python API finds
    them either way.
    """
    if os.environ.get(PLUGIN_ENVIRONMENT, "").strip():
        return None
    return sorted(BUILTIN_METHODS)
