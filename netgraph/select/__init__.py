"""Selection methods: which units of a group to keep, and where the others go."""

from netgraph.select.base import (
    Selection,
    SelectionContext,
    available_methods,
    get_method,
    method_needs_data,
    register_method,
)

__all__ = [
    "Selection",
    "SelectionContext",
    "available_methods",
    "get_method",
    "method_needs_data",
    "register_method",
]
