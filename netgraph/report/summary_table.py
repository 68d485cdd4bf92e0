"""A list of row dicts that prints as a table: what ``ReductionPlan.summary()`` returns.

It stays a ``list`` of ``dict`` (so ``pandas.DataFrame(plan.summary())`` and loops over
rows keep working) and adds a readable ``str()`` / ``_repr_html_`` / ``to_markdown()``
with the columns in a fixed order and numbers formatted for people.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

__all__ = ["SummaryTable"]


class SummaryTable(list):
    """Rows (dicts) plus the columns to show, in order.

    Examples
    --------
    >>> table = SummaryTable([{"group": "fc1", "units": 300, "kept": 150}], ["group", "units", "kept"])
    >>> print(table)
    group  units  kept
    -----  -----  ----
    fc1      300   150
    >>> table[0]["kept"]
    150
    """

    def __init__(self, rows: Iterable[Mapping[str, Any]] = (), columns: Sequence[str] | None = None, title: str = ""):
        super().__init__(dict(row) for row in rows)
        if columns is None:
            columns = []
            for row in self:
                columns += [key for key in row if key not in columns and not isinstance(row[key], (dict, list))]
        self.columns = list(columns)
        self.title = title

    def cells(self) -> list[list[str]]:
        from netgraph.report.tables import fmt

        return [[fmt(row.get(column)) for column in self.columns] for row in self]

    def __str__(self) -> str:
        cells = self.cells()
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(self.columns)]

        def line(values: Sequence[str]) -> str:
            return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths))).rstrip()

        lines = ([self.title] if self.title else []) + [line(self.columns), line(["-" * w for w in widths])]
        lines += [line(r) for r in cells]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        cells = self.cells()
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in r) + "</tr>" for r in self.cells())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
