"""Fixtures for CLI tests: a factory module on sys.path, weights and data files."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

FACTORY = textwrap.dedent(
    '''
    import torch
    from torch import nn


    def make_mlp():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))


    def make_mlp_example_inputs():
        return torch.randn(4, 6)
    '''
)


@pytest.fixture()
def factory(tmp_path, monkeypatch):
    """``clitiny:make_mlp`` importable, its trained-looking weights as .safetensors and .pt."""
    from safetensors.torch import save_file

    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "clitiny.py").write_text(FACTORY)
    monkeypatch.syspath_prepend(str(folder))
    import importlib
    import sys

    sys.modules.pop("clitiny", None)
    module = importlib.import_module("clitiny")
    torch.manual_seed(1)
    model = module.make_mlp()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    save_file(state, str(tmp_path / "weights.safetensors"))
    torch.save(state, tmp_path / "weights.pt")
    torch.save(model, tmp_path / "whole.pt")
    generator = np.random.default_rng(0)
    x = generator.normal(size=(200, 6)).astype(np.float32)
    y = generator.integers(0, 3, size=200)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "xy.npz", x=x, y=y)
    np.save(tmp_path / "wrong.npy", generator.normal(size=(50, 5)).astype(np.float32))
    return tmp_path


@pytest.fixture()
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture()
def app():
    from netgraph_cli.main import app

    return app
