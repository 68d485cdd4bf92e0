"""The project's metadata: a core install that coexists with today's stack, extras that say
what they add, and a wheel that carries every module without a setuptools warning."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()


def test_core_dependencies_are_uncapped_except_torch():
    core = _project()["dependencies"]
    names = {_name(r) for r in core}
    assert "graspologic" not in names  # pins numpy<2; lives in the graspologic extra
    assert {"numpy", "scipy", "scikit-learn", "networkx", "typer", "torch"} <= names
    capped = [r for r in core if "<" in r or "==" in r]
    # torch: an open range resolves to a multi-GB CUDA build; torch-pruning: internals read.
    assert sorted(_name(r) for r in capped) == ["torch", "torch-pruning"], capped


def test_extras_name_what_they_add():
    extras = _project()["optional-dependencies"]
    assert [_name(r) for r in extras["graspologic"]] == ["graspologic"]
    assert {_name(r) for r in extras["export"]} == {"onnx", "onnxscript", "onnxruntime"}
    assert not any("<" in r for r in extras["data"] + extras["export"])
    assert "netgraph[data,export]" in extras["test"]  # the core suite needs data and export, not graspologic


def test_licence_is_an_spdx_string():
    assert _project()["license"] == "MIT"


@pytest.mark.slow
def test_wheel_holds_every_module_and_builds_without_warnings(tmp_path):
    result = subprocess.run(
        # Build isolation: the build backend comes from pyproject.toml, not from whatever
        # setuptools this environment holds (a fresh Python 3.11 venv has 65, too old for SPDX).
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stdout + result.stderr
    # pip's own "byte-compiling is disabled" notes are not the project's metadata.
    problems = [line for line in log.splitlines()
                if re.search(r"warn", line, re.I) and "byte-compiling is disabled" not in line
                and "Location 'file:" not in line]
    assert problems == []
    wheel = next(tmp_path.glob("netgraph-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for p in (ROOT / "netgraph").rglob("*.py") if "__pycache__" not in p.parts}
    expected |= {"netgraph_cli/" + str(p.relative_to(ROOT / "cli")) for p in (ROOT / "cli").rglob("*.py")
                 if "__pycache__" not in p.parts}
    assert expected - names == set()
    assert "netgraph/report/templates/report.html" in names
