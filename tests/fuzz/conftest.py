"""Saved artefacts to corrupt: a reduced model folder (plan.json + model.safetensors) and an .ngz file."""

from __future__ import annotations

import pytest
import torch
from torch import nn


def make_mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3)).eval()


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory):
    """Bytes of every saved artefact, the model they come from, and the expected outputs."""
    from netgraph import apply_plan, plan_reduction, save_reduced
    from netgraph.compress import compress_model
    from netgraph.compress.ngz import encode_ngz

    model = make_mlp()
    batches = [torch.randn(32, 6, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    plan = plan_reduction(model, batches[0], keep=0.5, calibration=batches, random_state=0)
    reduced = apply_plan(model, plan)
    folder = tmp_path_factory.mktemp("reduced")
    save_reduced(reduced, plan, folder)
    plan_folder = tmp_path_factory.mktemp("plan")
    plan.save(plan_folder / "plan.json")  # a plan with its compensation tensors, for apply_plan
    pruned, _ = compress_model(make_mlp(), prune=0.6, quantize_bits=4, seed=0)
    probe = torch.randn(5, 6, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        expected = reduced(probe)
    return {
        "plan": (folder / "plan.json").read_bytes(),
        "weights": (folder / "model.safetensors").read_bytes(),
        "ngz": encode_ngz(pruned, huffman=True),
        "saved_plan": (plan_folder / "plan.json").read_bytes(),
        "plan_tensors": (plan_folder / "plan.json.safetensors").read_bytes(),
        "ngz_template": pruned,
        "probe": probe,
        "expected": expected,
    }
