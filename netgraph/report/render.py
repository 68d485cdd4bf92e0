"""Render a report dict: Rich tables (terminal), Markdown, self-contained HTML, JSON.

HTML uses Jinja2 with autoescaping; every picture is a base64 ``data:`` URI, and the page
references no external URL at all, so it opens offline and makes no network request.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from netgraph.report.tables import Table, report_tables

__all__ = ["to_json", "to_markdown", "to_html", "print_report", "write_report", "FORMATS", "FILE_NAMES"]

FORMATS = ("html", "md", "json")
FILE_NAMES = {"html": "report.html", "md": "report.md", "json": "report.json"}


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf → None (strict JSON has neither), numpy scalars → Python."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def to_json(report: Mapping[str, Any]) -> str:
    return json.dumps(_clean(report), indent=1, allow_nan=False) + "\n"


def _markdown_table(table: Table) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    columns = [c or " " for c in table.columns]
    lines = [f"## {table.title}", "", "| " + " | ".join(cell(c) for c in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table.rows]
    if table.note:
        lines += ["", f"_{table.note}_"]
    return "\n".join(lines)


def _title(report: Mapping[str, Any]) -> str:
    model = report["model"]
    name = model.get("spec") or model.get("class")
    kind = report.get("kind")
    return f"netgraph {kind if kind in ('reduction', 'compression') else 'analysis'} report: {name}"


def _glossary(report: Mapping[str, Any]) -> dict[str, str]:
    from netgraph.report.glossary import glossary_for

    return dict(report.get("glossary") or glossary_for(report))


def to_markdown(report: Mapping[str, Any], figures: Sequence[tuple[str, str]] = ()) -> str:
    """Markdown; ``figures`` are (caption, relative path) pairs linked as images; ends with a glossary."""
    parts = [f"# {_title(report)}", ""]
    parts += [_markdown_table(table) + "\n" for table in report_tables(report)]
    for caption, path in figures:
        parts.append(f"![{caption}]({path})\n")
    glossary = _glossary(report)
    if glossary:
        parts.append("## Glossary\n")
        parts += [f"- **{term}**: {definition}" for term, definition in glossary.items()]
        parts.append("")
    parts.append(f"_netgraph {report.get('netgraph_version', '')}, report schema {report.get('schema_version')}_\n")
    return "\n".join(parts)


def to_html(report: Mapping[str, Any], figures: Sequence[tuple[str, str]] = ()) -> str:
    """One self-contained HTML page; ``figures`` are (caption, data URI) pairs."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    for _, uri in figures:
        if not uri.startswith("data:"):
            raise ValueError("HTML figures must be data: URIs so the page stays self-contained.")
    environment = Environment(
        loader=PackageLoader("netgraph.report", "templates"), autoescape=select_autoescape(["html"])
    )
    template = environment.get_template("report.html")
    return template.render(
        title=_title(report), tables=report_tables(report), figures=list(figures), glossary=_glossary(report),
        report_json=to_json(report), version=report.get("netgraph_version", ""), schema=report.get("schema_version"),
    )


def print_report(report: Mapping[str, Any], console=None) -> None:
    """Rich tables on ``console`` (stdout by default)."""
    from rich.console import Console
    from rich.table import Table as RichTable

    console = console or Console()
    console.print(f"[bold]{_title(report)}[/bold]")
    for table in report_tables(report):
        if "command" in table.columns:
            _print_commands(console, table)
            continue
        rich_table = RichTable(title=table.title, title_justify="left", show_header=any(table.columns),
                               caption=table.note or None, caption_justify="left")
        for index, column in enumerate(table.columns):
            # The first column holds names (e.g. encoder.layer.0.intermediate.dense): never fold them.
            rich_table.add_column(column, justify="left" if index == 0 else "right", overflow="fold",
                                  no_wrap=index == 0)
        for row in table.rows:
            rich_table.add_row(*row)
        console.print(rich_table)
    glossary = _glossary(report)
    if glossary:
        console.print("[bold]Glossary[/bold]")
        for term, definition in glossary.items():
            console.print(f"  [bold]{term}[/bold]: {definition}", highlight=False)


def _print_commands(console, table: Table) -> None:
    """Commands on lines of their own, never folded, so they can be copied from the terminal."""
    from rich.markup import escape

    console.print(f"[italic]{escape(table.title)}[/italic]")
    position = table.columns.index("command")
    for row in table.rows:
        others = [cell for index, cell in enumerate(row) if index != position and cell]
        console.print("  " + escape(" — ".join(others)), highlight=False)
        if row[position].startswith("netgraph "):
            console.print("    " + row[position], soft_wrap=True, highlight=False, markup=False)
    if table.note:
        console.print(escape(table.note), highlight=False, style="dim")


def write_report(report: Mapping[str, Any], directory: str | Path, formats: Sequence[str] = FORMATS,
                 figures: Sequence[tuple[str, Any, str]] = ()) -> list[Path]:
    """Write ``report.{html,md,json}`` into ``directory`` (which should be a staging folder).

    ``figures`` are (caption, matplotlib Figure, file stem): Markdown links PNGs written to
    ``figures/``; HTML embeds them as data URIs.
    """
    from netgraph.viz.figures import figure_to_data_uri, save_figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"Unknown report formats {unknown}; choose from {FORMATS}.")
    written = []
    if "json" in formats:
        path = directory / FILE_NAMES["json"]
        path.write_text(to_json(report), encoding="utf-8")
        written.append(path)
    if "md" in formats:
        links = []
        for caption, figure, stem in figures:
            save_figure(figure, directory / "figures", stem, ("png",))
            links.append((caption, f"figures/{stem}.png"))
        path = directory / FILE_NAMES["md"]
        path.write_text(to_markdown(report, links), encoding="utf-8")
        written.append(path)
    if "html" in formats:
        embedded = [(caption, figure_to_data_uri(figure)) for caption, figure, _ in figures]
        path = directory / FILE_NAMES["html"]
        path.write_text(to_html(report, embedded), encoding="utf-8")
        written.append(path)
    return written
