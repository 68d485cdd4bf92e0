"""The installed ``netgraph`` console script, run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _netgraph() -> list[str]:
    script = Path(sys.executable).with_name("netgraph")
    return [str(script)] if script.exists() else [sys.executable, "-m", "netgraph_cli.main"]


def test_help_is_fast():
    started = time.perf_counter()
    result = subprocess.run([*_netgraph(), "--help"], capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert "analyze" in result.stdout
    # Heavy imports live inside commands: torch must not load for --help.
    check = subprocess.run([sys.executable, "-c", "import sys, netgraph_cli.main; print('torch' in sys.modules)"],
                           capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "False", check.stderr
    assert elapsed < 5.0  # generous for loaded CI machines; measured ~0.15 s idle


@pytest.mark.slow
def test_analyze_zoo_model():
    env = dict(os.environ)  # the user's zoo cache: the model is trained once, then loaded
    result = subprocess.run(
        [*_netgraph(), "--quiet", "analyze", "zoo:mlp-digits", "--samples", "256", "--shuffles", "2",
         "--format", "json"],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [g["group"] for g in report["groups"]] == ["fc1", "fc2"]
    assert report["groups"][0]["curve"] is not None
