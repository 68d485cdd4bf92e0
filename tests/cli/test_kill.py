"""SIGKILL ``netgraph reduce`` at random moments: ``--out`` is always the old complete result or
the new complete result, never a mix, and the next run cleans what the killed one left.

Runs the real console entry point in a subprocess. A small wrapper makes the final swap slow
(a pause after the modes are set and after the folders are exchanged) so that kills land
inside it; the "fallback" trials also disable the atomic exchange to test the two-rename path,
whose one dangerous moment (old result moved aside, new one not yet in) the next run repairs.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

FACTORY = textwrap.dedent(
    """
    import torch
    from torch import nn


    def make_mlp():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 24), nn.ReLU(), nn.Linear(24, 16), nn.ReLU(), nn.Linear(16, 3))
    """
)

WRAPPER = textwrap.dedent(
    """
    import os, sys, time
    import netgraph.report.directory as directory

    marker = os.environ["KILLTEST_MARKER"]
    real_umask, real_exchange, real_replace = directory._apply_umask, directory._exchange, os.replace

    def slow_umask(folder):
        real_umask(folder)
        open(marker, "w").close()
        time.sleep(0.3)

    def slow_exchange(first, second):
        if os.environ.get("KILLTEST_MODE") == "fallback":
            return False
        done = real_exchange(first, second)
        time.sleep(0.3)
        return done

    def slow_replace(source, destination, *args, **kwargs):
        real_replace(source, destination, *args, **kwargs)
        if ".old-" in str(destination) or ".staging-" in str(source):
            time.sleep(0.3)

    directory._apply_umask, directory._exchange = slow_umask, slow_exchange
    directory.os.replace = slow_replace
    from netgraph_cli.main import main
    sys.argv = ["netgraph"] + sys.argv[1:]
    main()
    """
)

OLD = {"keep": "0.5", "format": "json,md"}
NEW = {"keep": "0.25", "format": "json"}


def _command(folder, settings):
    return [sys.executable, str(folder / "wrapper.py"), "--quiet", "reduce", "killtiny:make_mlp",
            "--data", str(folder / "x.npy"), "--method", "magnitude", "--keep", settings["keep"],
            "--format", settings["format"], "--samples", "64", "--out", str(folder / "out")]


def _which_result(folder) -> str:
    """"old" or "new" when ``out`` is one complete result; fails otherwise."""
    sys.path.insert(0, str(folder))
    try:
        from killtiny import make_mlp

        from netgraph import load_reduced
    finally:
        sys.path.remove(str(folder))
    out = folder / "out"
    names = {p.name for p in out.iterdir()}
    load_reduced(make_mlp(), out)  # checksums of plan.json and model.safetensors, shapes
    kept = [len(g["kept"]) for g in json.loads((out / "plan.json").read_text())["groups"]]
    report = json.loads((out / "report.json").read_text())
    assert report, "empty report"
    if kept == [12, 8]:
        assert names == {".netgraph-output", "plan.json", "model.safetensors", "report.json", "report.md"}, names
        return "old"
    assert kept == [6, 4], kept
    assert names == {".netgraph-output", "plan.json", "model.safetensors", "report.json"}, names
    return "new"


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_old_or_new_result(tmp_path):
    import numpy as np

    from netgraph.report.directory import clean_stale_staging

    (tmp_path / "killtiny.py").write_text(FACTORY)
    (tmp_path / "wrapper.py").write_text(WRAPPER)
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(80, 6)).astype(np.float32))
    marker = tmp_path / "swap-started"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "KILLTEST_MARKER": str(marker), "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    subprocess.run(_command(tmp_path, OLD), env=env, check=True, timeout=300, capture_output=True)
    full_run = time.perf_counter() - started
    assert _which_result(tmp_path) == "old"
    shutil.copytree(tmp_path / "out", tmp_path / "old-copy")

    rng = random.Random(0)
    outcomes = []
    trials = [("anytime", "exchange")] * 7 + [("swap", "exchange")] * 7 + [("swap", "fallback")] * 6
    for moment, mode in trials:
        marker.unlink(missing_ok=True)
        process = subprocess.Popen(_command(tmp_path, NEW), env={**env, "KILLTEST_MODE": mode},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if moment == "anytime":
            time.sleep(rng.uniform(0, full_run + 0.6))
        else:
            deadline = time.time() + 300
            while not marker.exists() and process.poll() is None and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.75))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if mode == "exchange":
            _which_result(tmp_path)  # complete at once: the exchange has no in-between state
        clean_stale_staging(tmp_path / "out")  # what the next run does first
        outcomes.append(_which_result(tmp_path))
        assert [p.name for p in tmp_path.iterdir() if ".staging-" in p.name or ".old-" in p.name] == []
        if outcomes[-1] == "new":  # put the old result back for the next trial
            shutil.rmtree(tmp_path / "out")
            shutil.copytree(tmp_path / "old-copy", tmp_path / "out")
    assert len(outcomes) == 20
    assert "old" in outcomes and "new" in outcomes  # the kills did land on both sides of the swap
