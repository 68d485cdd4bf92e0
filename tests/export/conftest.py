"""A factory module on sys.path (``exporttiny:make_cnn``) and a data file for CLI export tests."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

FACTORY = textwrap.dedent(
    '''
    import torch
    from torch import nn


    def make_cnn():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                             nn.Flatten(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3))


    def make_cnn_example_inputs():
        return torch.randn(4, 1, 8, 8)
    '''
)


@pytest.fixture()
def factory(tmp_path, monkeypatch):
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "exporttiny.py").write_text(FACTORY)
    monkeypatch.syspath_prepend(str(folder))
    import sys

    sys.modules.pop("exporttiny", None)
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(64, 1, 8, 8)).astype(np.float32))
    return tmp_path


@pytest.fixture()
def runner():
    from typer.testing import CliRunner

    return CliRunner()
