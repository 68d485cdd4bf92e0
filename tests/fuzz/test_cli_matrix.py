"""Damaged input files on the command line: exit 0 with a complete result, or exit 2 with one
line on stderr and nothing written; never exit 1, never a traceback."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FACTORY = textwrap.dedent(
    """
    import torch
    from torch import nn


    def make_mlp():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    """
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    import torch
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("inputs")
    (folder / "fuzztiny.py").write_text(FACTORY)
    generator = np.random.default_rng(0)
    np.savez(folder / "xy.npz", x=generator.normal(size=(40, 6)).astype(np.float32), y=generator.integers(0, 3, 40))
    np.save(folder / "x.npy", generator.normal(size=(40, 6)).astype(np.float32))
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(6, 12), torch.nn.ReLU(), torch.nn.Linear(12, 8), torch.nn.ReLU(),
                                torch.nn.Linear(8, 3))
    save_file({k: v.clone() for k, v in model.state_dict().items()}, str(folder / "w.safetensors"))
    return folder


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["xy.npz", "x.npy", "w.safetensors"]), damage=st.sampled_from(["flip", "truncate"]),
       where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7))
def test_damaged_inputs_end_in_exit_0_or_one_line_exit_2(inputs, tmp_path_factory, monkeypatch, which, damage, where, bit):
    from typer.testing import CliRunner

    from netgraph_cli.main import app

    monkeypatch.syspath_prepend(str(inputs))
    work = tmp_path_factory.mktemp("run")
    original = (inputs / which).read_bytes()
    position = int(where * len(original))
    if damage == "flip":
        changed = bytearray(original)
        changed[position] ^= 1 << bit
        data = bytes(changed)
    else:
        data = original[:position]
    (work / which).write_bytes(data)
    paths = {name: str(work / name if name == which else inputs / name) for name in ("xy.npz", "x.npy", "w.safetensors")}
    data_file = paths["x.npy"] if which == "x.npy" else paths["xy.npz"]
    out = work / "out"
    result = CliRunner().invoke(app, ["--quiet", "reduce", "fuzztiny:make_mlp", "--weights", paths["w.safetensors"],
                                      "--data", data_file, "--method", "magnitude", "--format", "json",
                                      "--samples", "16", "--out", str(out)])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert not out.exists()
    else:
        assert {"plan.json", "model.safetensors", "report.json"} <= {p.name for p in out.iterdir()}
    assert [p.name for p in work.iterdir() if p.name.startswith(".")] == []
