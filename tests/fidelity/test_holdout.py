import json

import pytest
import torch
from torch import nn

from netgraph import plan_reduction
from netgraph.errors import InvalidParameterError
from netgraph.fidelity import split_holdout


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 4)).eval()


def _batches(seed, n=4, rows=40, shift=0.0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(rows, 6, generator=generator) + shift for _ in range(n)]


def test_split_takes_rows_from_every_batch_and_skips_tiny_data():
    calibration, held = split_holdout(_batches(0), 0.25)
    assert [b.shape[0] for b in calibration] == [30] * 4 and [b.shape[0] for b in held] == [10] * 4
    assert torch.equal(torch.cat([calibration[0], held[0]]), _batches(0)[0])
    tiny = [torch.zeros(10, 6)]
    assert split_holdout(tiny, 0.2) == (tiny, [])
    dict_batch = [{"x": torch.zeros(100, 3), "mask": torch.ones(100, 3)}]
    calibration, held = split_holdout(dict_batch, 0.2)
    assert calibration[0]["x"].shape[0] == 80 and held[0]["mask"].shape[0] == 20
    with pytest.raises(InvalidParameterError, match="'holdout' parameter"):
        split_holdout(tiny, 1.0)


def test_plan_records_held_out_fidelity_beside_calibration_fit():
    model, data = _mlp(), _batches(1)
    plan = plan_reduction(model, data[0], keep=0.25, method="activation", calibration=data, holdout=0.2)
    record = plan.diagnostics["fidelity"]
    assert record["holdout"] == 0.2 and "output_error_mean" in record["calibration_fit"]
    held = record["held_out"]
    assert held["kind"] == "classifier" and held["n_samples"] == 32
    assert 0.0 <= held["agreement"] <= 1.0 and held["mean_cosine"] > 0.5
    assert "reference" not in record and "specialisation" not in record
    json.dumps(plan.to_dict() if hasattr(plan, "to_dict") else plan.diagnostics)  # JSON-ready
    assert plan.diagnostics["calibration_batches"] == 4


def test_holdout_leaves_calibration_unchanged_by_default():
    model, data = _mlp(), _batches(1)
    plan = plan_reduction(model, data[0], keep=0.25, method="activation", calibration=data)
    assert "fidelity" not in plan.diagnostics


def test_reference_is_scored_and_specialisation_recorded():
    model = _mlp()
    narrow = [b * 0.05 for b in _batches(2)]  # tiny inputs: a near-linear regime of the ReLUs
    far = _batches(3, shift=3.0)
    plan = plan_reduction(model, narrow[0], keep=0.2, method="activation", calibration=narrow, holdout=0.2,
                          reference=far)
    record = plan.diagnostics["fidelity"]
    assert record["reference"]["n_samples"] == 160
    check = record["specialisation"]
    assert check["in_domain"] == record["held_out"]["agreement"] and check["reference"] == record["reference"]["agreement"]
    assert isinstance(check["specialised"], bool) and check["sentence"]


def test_mix_brings_reference_fidelity_up():
    model = _mlp()
    narrow = [b * 0.05 for b in _batches(2, n=6)]
    far = _batches(3, n=8, shift=2.0)
    scores = {}
    for mix in (0.0, 0.5):
        plan = plan_reduction(model, narrow[0], keep=0.2, method="activation", calibration=narrow, holdout=0.2,
                              reference=far, mix=mix)
        record = plan.diagnostics["fidelity"]
        scores[mix] = record["reference"]["mean_cosine"]
        assert record["mix"] == mix and record["reference"]["n_samples"] == (320 if mix == 0 else 160)
    assert scores[0.5] > scores[0.0]


def test_bad_mixing_is_refused():
    model, data = _mlp(), _batches(1)
    with pytest.raises(InvalidParameterError, match="needs reference data"):
        plan_reduction(model, data[0], keep=0.5, method="activation", calibration=data, mix=0.3)
    with pytest.raises(InvalidParameterError, match="'mix' parameter"):
        plan_reduction(model, data[0], keep=0.5, method="activation", calibration=data, reference=data, mix=2)
