"""The HTML report in headless Chromium: images render and nothing is fetched."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import torch
from torch import nn

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_html_report_renders_offline(tmp_path):
    from netgraph import NeuronGraph
    from netgraph.report import build_analysis_report, write_report
    from netgraph.viz import layered_graph_figure, redundancy_curves_figure

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Linear(10, 3))
    report = build_analysis_report(model, torch.randn(4, 5), [torch.randn(64, 5)], n_shuffles=0,
                                   methods=("magnitude",))
    graph = NeuronGraph.from_model(model, torch.randn(4, 5))
    figures = [("graph", layered_graph_figure(graph), "g"), ("curves", redundancy_curves_figure(report["groups"]), "c")]
    write_report(report, tmp_path / "out", ("html",), figures)
    html = (tmp_path / "out" / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=3000", "--dump-dom", (tmp_path / "out" / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    sources = re.findall(r"<img[^>]*src=\"([^\"]*)\"", dom)
    assert len(sources) == 2
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert not re.search(r"https?://", dom.replace("http-equiv", ""))
    assert "Redundancy per group" in dom
