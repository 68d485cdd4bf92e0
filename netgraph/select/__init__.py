"""Selection methods: which units of a group to keep, and where the others go.

The registry (``base``) holds one :class:`MethodSpec` per method: its select function,
declared parameters (``params``), whether it needs data and whether its kept sets are
nested. Unit profiles shared by the graph methods are in ``profiles``; the conformance
checks every method passes are ``testing.check_method``. Names load on first use, so
``netgraph.select.catalog`` (the method names) is cheap to import.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Selection": "netgraph.select.base",
    "SelectionContext": "netgraph.select.base",
    "MethodSpec": "netgraph.select.base",
    "available_methods": "netgraph.select.base",
    "get_method": "netgraph.select.base",
    "method_needs_data": "netgraph.select.base",
    "method_spec": "netgraph.select.base",
    "nested_methods": "netgraph.select.base",
    "register_method": "netgraph.select.base",
    "unregister_method": "netgraph.select.base",
    "Param": "netgraph.select.params",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'netgraph.select' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
