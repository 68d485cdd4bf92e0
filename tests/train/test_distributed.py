import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from netgraph.calibrate.stats import ConsumerStats, UnitStats
from netgraph.train import all_reduce_stats, finetune

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from ddp_worker import problem  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_all_reduce_is_a_no_op_without_a_process_group():
    stats = UnitStats.empty(3)
    stats.update(torch.ones(2, 3))
    assert all_reduce_stats(stats) is stats and stats.count == 2


def test_two_gloo_processes_match_one_process(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(filter(None, [str(HERE.parents[1]), os.environ.get("PYTHONPATH")])))
    for _attempt in range(2):
        # The port is free when chosen but may be taken before gloo binds it, and gloo's
        # start-up can abort on a loaded machine (about 1 run in 60 here): one fresh try.
        result = subprocess.run([sys.executable, str(HERE / "ddp_worker.py"), str(tmp_path), str(_free_port())],
                                env=env, capture_output=True, text=True, timeout=120)
        if result.returncode == 0:
            break
    assert result.returncode == 0, result.stderr[-3000:]
    reduced = np.load(tmp_path / "stats.npz")

    X, Y, labels, model = problem()
    unit, consumer = UnitStats.empty(6), ConsumerStats.empty(6, 3)
    unit.update(X)
    consumer.update(X, Y)
    assert int(reduced["count"]) == unit.count == 32
    np.testing.assert_allclose(reduced["total"], unit.total, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reduced["c_target_sum"], consumer.target_sum, rtol=1e-12, atol=1e-12)
    # Outer products are float32 per batch (netgraph/calibrate/stats.py), summed in float64:
    # two half batches and one whole batch agree to float32 round-off.
    np.testing.assert_allclose(reduced["gram"], unit.gram, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(reduced["c_gram"], consumer.gram, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(reduced["c_cross"], consumer.cross, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(float(reduced["c_target_sq"]), consumer.target_sq, rtol=1e-6)

    # one DDP step on two halves == one step on the whole batch (mean loss, averaged gradients)
    with torch.no_grad():
        full_loss = float(F.cross_entropy(model(X), labels))
    history = finetune(model, [(X, labels)], epochs=1, lr=0.1, clip_grad_norm=0.5)
    assert int(reduced["steps"]) == history.n_steps == 1
    assert float(reduced["loss"]) == pytest.approx(full_loss, rel=1e-5)
    from safetensors.torch import load_file

    ddp_state = load_file(tmp_path / "model.safetensors")
    initial = problem()[3].state_dict()
    for key, value in model.state_dict().items():
        assert not torch.allclose(value, initial[key])  # the step moved the weights
        torch.testing.assert_close(ddp_state[key], value, rtol=1e-5, atol=1e-6)
