"""Reports: built as plain dicts first, then rendered (terminal, Markdown, HTML, JSON).

The JSON schema is documented in :mod:`netgraph.report.schema`.
"""

from netgraph.report.analysis_report import build_analysis_report, reducibility_curve
from netgraph.report.compression_report import build_compression_report
from netgraph.report.directory import staged_directory
from netgraph.report.reduction_report import build_reduction_report
from netgraph.report.render import FILE_NAMES, FORMATS, print_report, to_html, to_json, to_markdown, write_report
from netgraph.report.schema import SCHEMA_VERSION

__all__ = [
    "FILE_NAMES",
    "FORMATS",
    "SCHEMA_VERSION",
    "build_analysis_report",
    "build_compression_report",
    "build_reduction_report",
    "print_report",
    "reducibility_curve",
    "staged_directory",
    "to_html",
    "to_json",
    "to_markdown",
    "write_report",
]
