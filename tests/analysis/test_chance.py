"""Block structure against chance: shuffled copies get no verdict, planted blocks do."""

from __future__ import annotations

import numpy as np
import pytest

from netgraph.analysis.chance import SIGNIFICANCE, block_structure_test, shuffled_weights
from netgraph.errors import InvalidParameterError


def _planted(rng: np.random.Generator, n: int = 120, n_blocks: int = 4):
    labels = rng.integers(0, n_blocks, n)
    incoming = rng.normal(size=(n_blocks, 30))[labels] + 0.4 * rng.normal(size=(n, 30))
    outgoing = rng.normal(size=(n_blocks, 12))[labels] + 0.4 * rng.normal(size=(n, 12))
    return incoming, outgoing


@pytest.mark.slow
def test_shuffled_copies_show_no_structure_in_95_percent_of_seeds():
    rng = np.random.default_rng(0)
    incoming, outgoing = _planted(rng, n=80)
    verdicts = []
    for seed in range(40):
        shuffle = np.random.default_rng(1000 + seed)
        test = block_structure_test(shuffled_weights(incoming, shuffle), shuffled_weights(outgoing, shuffle),
                                    n_draws=39, random_state=seed)
        verdicts.append(test.beyond_chance)
        if not test.beyond_chance:
            assert "no block structure beyond chance" in test.sentence("fc1")
    assert np.mean(verdicts) <= 0.05


def test_planted_blocks_are_beyond_chance_and_counted():
    incoming, outgoing = _planted(np.random.default_rng(1))
    test = block_structure_test(incoming, outgoing, n_draws=39, random_state=0)
    assert test.beyond_chance and test.p_value == pytest.approx(1 / 40)
    assert test.n_blocks == 4
    assert test.sentence("fc1").startswith("fc1 has 4 blocks, more modular than")
    assert test.to_dict()["n_draws"] == 39 and len(test.labels) == incoming.shape[0]
    # 19 draws cannot reach p < 0.05: the verdict needs enough draws to mean something.
    assert not block_structure_test(incoming, outgoing, n_draws=19, random_state=0).beyond_chance


def test_untrained_copy_is_scored_with_the_same_statistic():
    rng = np.random.default_rng(2)
    incoming, outgoing = _planted(rng)
    untrained = (rng.normal(size=incoming.shape), rng.normal(size=outgoing.shape))
    test = block_structure_test(incoming, outgoing, n_draws=9, untrained=untrained, random_state=0)
    assert test.untrained is not None and test.untrained < test.observed
    assert "untrained copy scores" in test.sentence("fc1")


def test_large_groups_are_sampled_and_p_value_floor_is_stated():
    rng = np.random.default_rng(3)
    test = block_structure_test(rng.normal(size=(600, 40)), rng.normal(size=(600, 20)), n_draws=5, max_units=64)
    assert test.info["units_tested"] == 64 and len(test.labels) == 600
    assert test.p_value >= 1 / 6 and not (test.p_value < SIGNIFICANCE)


def test_same_seed_same_result_and_bad_parameters():
    incoming, outgoing = _planted(np.random.default_rng(4), n=40)
    first = block_structure_test(incoming, outgoing, n_draws=5, random_state=7)
    second = block_structure_test(incoming, outgoing, n_draws=5, random_state=7)
    assert np.array_equal(first.null, second.null) and first.observed == second.observed
    with pytest.raises(InvalidParameterError):
        block_structure_test(incoming, outgoing, n_draws=-1)
    with pytest.raises(InvalidParameterError):
        block_structure_test(incoming, outgoing[:5])


@pytest.mark.slow
def test_report_verdict_differs_between_structured_and_untrained_copies():
    import torch
    from torch import nn

    from netgraph.analysis.run import analyze_model, untrained_copy

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 60), nn.ReLU(), nn.Linear(60, 4)).eval()
    incoming, outgoing = _planted(np.random.default_rng(5), n=60, n_blocks=3)
    with torch.no_grad():
        model[0].weight.copy_(torch.as_tensor(incoming[:, :20], dtype=torch.float32))
        model[2].weight.copy_(torch.as_tensor(outgoing[:, :4].T, dtype=torch.float32))
    example = torch.randn(4, 20)
    trained = analyze_model(model, example, None, n_shuffles=39, random_state=0)["groups"][0]
    fresh = analyze_model(untrained_copy(model, seed=1), example, None, n_shuffles=39, random_state=0)["groups"][0]
    assert trained["blocks"]["chance"]["beyond_chance"] and trained["structure"].startswith("0 has 3 blocks")
    assert not fresh["blocks"]["chance"]["beyond_chance"]
    assert "no block structure beyond chance" in fresh["structure"]
    # The untrained architecture is scored beside the trained one, with the same statistic.
    assert trained["blocks"]["chance"]["untrained"] < trained["blocks"]["modularity"]
