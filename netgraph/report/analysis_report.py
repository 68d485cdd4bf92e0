"""The analysis report: what a model's neuron graph says about how far it can shrink.

The numbers come from :func:`netgraph.analysis.run.analyze_model` (one set of statistics
for curves, blocks, tests and predictions); this module adds what a reader needs to act
on them: the recommended ``netgraph reduce`` commands, and the glossary. The result is a
plain dict (the JSON schema is in :mod:`netgraph.report.schema`); renderers turn it into
terminal tables, Markdown and HTML. Same model, data and ``random_state`` give the same
numbers (only ``timings`` differ).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import torch
from torch import nn

from netgraph.analysis.run import (DEFAULT_KEEP_GRID, DEFAULT_METHODS, ERROR_LEVELS, NESTED_METHODS,
                                   reducibility_curve)
from netgraph.report.glossary import glossary_for
from netgraph.report.next_steps import next_steps

__all__ = ["build_analysis_report", "reducibility_curve", "DEFAULT_METHODS", "DEFAULT_KEEP_GRID", "ERROR_LEVELS",
           "NESTED_METHODS"]

Progress = Callable[[str, int, int], None]


def build_analysis_report(
    model: nn.Module,
    example_inputs: Any,
    batches: Iterable[Any] | None = None,
    *,
    model_info: dict[str, Any] | None = None,
    data_info: dict[str, Any] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    keep_grid: Sequence[float] = DEFAULT_KEEP_GRID,
    n_shuffles: int = 39,
    compare_untrained: bool = True,
    labelled: tuple[Sequence[Any], torch.Tensor] | None = None,
    held_out: Sequence[Any] | None = None,
    max_blocks: int = 12,
    random_state: int = 0,
    progress: Progress | None = None,
    graph=None,
) -> dict[str, Any]:
    """Analyse ``model`` and return the report as a dict (see :mod:`netgraph.report.schema`).

    Parameters are those of :func:`netgraph.analysis.run.analyze_model`; ``n_shuffles`` is
    the number of weight-shuffled copies every block statistic is compared with (0 skips
    the tests; the p-value cannot go below ``1 / (1 + n_shuffles)``).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> report = build_analysis_report(mlp, torch.randn(8, 4), [torch.randn(64, 4)], n_shuffles=0)
    >>> report["schema_version"], report["groups"][0]["units"]
    (2, 16)
    """
    from netgraph.analysis.run import analyze_model

    report = analyze_model(
        model, example_inputs, batches, model_info=model_info, data_info=data_info, methods=methods,
        keep_grid=keep_grid, n_shuffles=n_shuffles, compare_untrained=compare_untrained, labelled=labelled, held_out=held_out,
        max_blocks=max_blocks, random_state=random_state, progress=progress, graph=graph,
    )
    report["next_steps"] = next_steps(report)
    report["glossary"] = glossary_for(report)
    return report
