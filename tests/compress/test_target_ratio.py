"""compress_model(target_ratio=...): the least pruning that makes the .ngz file that much smaller."""

import pytest
import torch
from torch import nn

from netgraph.compress import compress_model
from netgraph.compress.pipeline import sparsity_for_ratio
from netgraph.errors import InvalidParameterError


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 10))


def test_target_ratio_is_reached_and_large_layers_are_pruned_more():
    model = _mlp()
    _, report = compress_model(model, target_ratio=12, huffman=True)
    assert report["compression_ratio"] >= 12 and report["target_ratio"] == 12
    sparsity = report["stages"][0]["sparsity"]
    assert sparsity["0"] > sparsity["2"] > sparsity["4"] > 0
    assert report["stages"][1]["bits"] == 5  # the default weight-sharing width


def test_found_pruning_is_close_to_the_least_needed():
    model = _mlp()
    found = sparsity_for_ratio(model, 12)
    _, report = compress_model(model, prune={k: v - 0.02 for k, v in found.items()}, quantize_bits=5, huffman=True)
    assert report["compression_ratio"] < 12


def test_unreachable_and_conflicting_settings_are_refused():
    with pytest.raises(InvalidParameterError, match="out of reach"):
        sparsity_for_ratio(_mlp(), 10_000)
    with pytest.raises(InvalidParameterError, match="not both"):
        compress_model(_mlp(), target_ratio=10, prune=0.5)
    with pytest.raises(InvalidParameterError, match="'target_ratio' parameter"):
        sparsity_for_ratio(_mlp(), 0.5)


@pytest.mark.slow
def test_cli_target_ratio(tmp_path):
    from typer.testing import CliRunner

    from netgraph_cli.main import app

    out = tmp_path / "c"
    result = CliRunner().invoke(app, ["compress", "zoo:mlp-digits", "--target-ratio", "20", "--finetune-epochs", "1",
                                      "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    import json

    report = json.loads((out / "report.json").read_text())
    assert report["compression_ratio"] >= 20
    conflict = CliRunner().invoke(app, ["compress", "zoo:mlp-digits", "--target-ratio", "20", "--prune", "0.9",
                                        "--out", str(tmp_path / "d")])
    assert conflict.exit_code == 2 and "not both" in conflict.output
