"""A third-party selection method, written here (outside netgraph/), registered through the
public API, passes check_method and runs from ``netgraph reduce --method evenly-spaced``
after the ``NETGRAPH_PLUGINS`` import hook.

This file is also the plug-in module the command line imports: importing it registers the
method, exactly as a user's own module would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from netgraph.select import Selection, SelectionContext, available_methods, register_method
from netgraph.select.params import positive_int
from netgraph.select.testing import check_method

NAME = "evenly-spaced"


@register_method(NAME, params=[positive_int("offset", 1, "Skip this many units first.")])
def select_evenly_spaced(context: SelectionContext) -> Selection:
    """Keep n_keep units spread evenly over the group; the others merge into the nearest kept one."""
    n = context.n_units
    kept = np.unique(np.linspace(0, n - 1, context.n_keep).round().astype(np.int64))
    # Rounding can collide on small groups: fill up with the first unused units.
    spare = np.setdiff1d(np.arange(n), kept)[: context.n_keep - kept.size]
    kept = np.sort(np.concatenate([kept, spare]))
    nearest = kept[np.abs(np.arange(n)[:, None] - kept[None, :]).argmin(axis=1)]
    nearest[kept] = kept
    return Selection.from_assignment(nearest, info={"offset": context.params["offset"]})


def test_third_party_method_is_registered_and_conforms():
    assert NAME in available_methods()
    assert check_method(NAME)[-1] == "check_plans_a_model"


FACTORY = textwrap.dedent(
    '''
    import torch
    from torch import nn


    def make_mlp():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 3))


    def make_mlp_example_inputs():
        return torch.randn(4, 6)
    '''
)


@pytest.mark.slow
def test_third_party_method_runs_from_the_command_line(tmp_path):
    (tmp_path / "thirdparty_factory.py").write_text(FACTORY)
    script = Path(sys.executable).with_name("netgraph")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "netgraph_cli.main"]
    here = str(Path(__file__).parent)
    env = {
        **os.environ,
        "NETGRAPH_PLUGINS": Path(__file__).stem,
        "PYTHONPATH": os.pathsep.join([here, str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    out = tmp_path / "reduced"
    result = subprocess.run(
        [*command, "--quiet", "reduce", "thirdparty_factory:make_mlp", "--method", NAME, "--fold", "exact",
         "--keep", "0.5", "--format", "json", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads((out / "plan.json").read_text())
    assert plan["config"]["method"] == NAME
    assert [len(group["kept"]) for group in plan["groups"]] == [6]
    assert plan["groups"][0]["metrics"]["method"] == {"offset": 1}
