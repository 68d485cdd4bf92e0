import copy
import itertools

import numpy as np
import pytest
import torch

from netgraph.errors import InvalidParameterError, UnsupportedModelError
from netgraph.transformer.depth import drop_blocks, find_blocks, plan_depth, reduce_depth, stream_distances


def _brute_force(distances, n_drop):
    n_blocks = distances.shape[0] - 1
    best = (np.inf, None)
    for dropped in itertools.combinations(range(n_blocks), n_drop):
        cost, index = 0.0, 0
        dropped_set = set(dropped)
        while index < n_blocks:
            if index in dropped_set:
                end = index
                while end + 1 in dropped_set:
                    end += 1
                cost += distances[index, end + 1]
                index = end + 1
            else:
                index += 1
        best = min(best, (cost, list(dropped)), key=lambda item: item[0])
    return best


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_drop", [1, 2, 3])
def test_shortest_path_finds_the_cheapest_blocks(seed, n_drop):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(7, 3))
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    plan = plan_depth(distances, n_drop)
    cost, _ = _brute_force(distances, n_drop)
    assert len(plan.dropped) == n_drop
    assert plan.cost == pytest.approx(cost)


def test_plan_depth_rejects_dropping_everything():
    with pytest.raises(InvalidParameterError, match="n_drop"):
        plan_depth(np.zeros((4, 4)), 3)


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama", "qwen2", "vit"])
def test_dropping_blocks_keeps_a_working_model(tiny_transformer, hidden_states, kind):
    model, batches = tiny_transformer(kind)
    distances = stream_distances(model, batches)
    n_blocks = len(find_blocks(model)[1])
    assert distances.shape == (n_blocks + 1, n_blocks + 1)
    assert np.allclose(distances, distances.T) and np.allclose(np.diag(distances), 0, atol=1e-6)
    small = drop_blocks(copy.deepcopy(model), [0])
    assert len(find_blocks(small)[1]) == n_blocks - 1
    assert small.config.num_hidden_layers == n_blocks - 1
    assert torch.isfinite(hidden_states(small, batches[0])).all()


def test_identity_block_is_dropped_first_and_for_free(tiny_transformer, hidden_states):
    model, batches = tiny_transformer("llama")
    # A block whose writers are zero leaves the stream unchanged: distance 0, dropped for free.
    with torch.no_grad():
        model.layers[1].self_attn.o_proj.weight.zero_()
        model.layers[1].mlp.down_proj.weight.zero_()
    distances = stream_distances(model, batches)
    plan = plan_depth(distances, 1)
    assert plan.dropped == [1] and plan.cost == pytest.approx(0, abs=1e-6)
    small = drop_blocks(copy.deepcopy(model), plan.dropped)
    # Llama's final norm sees the same stream, so the output is unchanged.
    assert torch.allclose(hidden_states(small, batches[0]), hidden_states(model, batches[0]), atol=1e-5)


def test_refitting_the_next_block_brings_the_output_closer(tiny_transformer, hidden_states):
    model, batches = tiny_transformer("bert")

    def error(small):
        return sum(float(((hidden_states(small, b) - hidden_states(model, b)) ** 2).sum()) for b in batches)

    plain, plan = reduce_depth(model, batches, 1, refit_steps=0)
    refit, _ = reduce_depth(model, batches, 1, refit_steps=60, learning_rate=1e-3)
    assert error(refit) < error(plain)


def test_models_without_blocks_are_refused():
    with pytest.raises(UnsupportedModelError, match="blocks"):
        find_blocks(torch.nn.Sequential(torch.nn.Linear(2, 2)))
