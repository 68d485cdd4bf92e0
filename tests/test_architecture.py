"""The package's import graph, read from the source: no circles, and layers point one way.

Only imports that run when a module is imported count (module level, outside
``if TYPE_CHECKING:``); imports inside functions are deferred on purpose and may point
anywhere. ``analysis/`` shares numerical code with ``select/`` through ``algorithms/``
and never imports ``select/``, so changing a selection method cannot change an analysis.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1] / "netgraph"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module, package: str) -> list[str]:
    found: list[str] = []

    def visit(statements):
        for node in statements:
            if isinstance(node, ast.Import):
                found.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.append(base)
                found.extend(f"{base}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If) and not _is_type_checking(node):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return found


def import_graph() -> nx.DiGraph:
    modules = {_module_name(path): path for path in ROOT.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for target in _top_level_imports(ast.parse(path.read_text(), str(path)), package):
            if target in modules and target != name:
                graph.add_edge(name, target)
    return graph


def test_the_import_graph_has_no_circles():
    cycles = [sorted(component) for component in nx.strongly_connected_components(import_graph()) if len(component) > 1]
    assert not cycles, f"import circles: {cycles}"


def _edges_between(source: str, target: str) -> list[tuple[str, str]]:
    return [
        (a, b) for a, b in import_graph().edges
        if a.startswith(source) and (b == target or b.startswith(target + "."))
    ]


def test_analysis_imports_nothing_from_select():
    assert not _edges_between("netgraph.analysis", "netgraph.select")


def test_algorithms_sit_below_select_analysis_and_torch_code():
    for layer in ("netgraph.select", "netgraph.analysis", "netgraph.reduce", "netgraph.graph", "netgraph.calibrate"):
        assert not _edges_between("netgraph.algorithms", layer), layer


def test_the_graph_reader_sees_real_edges():
    graph = import_graph()
    assert graph.has_edge("netgraph.select.methods.sbm", "netgraph.algorithms.blocks")
    assert graph.has_edge("netgraph.reduce.planning", "netgraph.reduce.config")
