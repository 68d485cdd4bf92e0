"""The graph-based selection methods on a planted MLP: recover groups, keep n_keep, validate params."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score
from torch import nn

from netgraph.calibrate.stats import UnitStats
from netgraph.errors import InvalidParameterError
from netgraph.select.base import SelectionContext, get_method

GRAPH_METHODS = ["dpp", "dpp-sample", "submodular", "sbm", "summarize", "embedding"]
CLUSTERING_METHODS = ["sbm", "summarize", "embedding"]
N_GROUPS, PER_GROUP, N_INPUTS, N_OUTPUTS = 6, 10, 16, 5


@pytest.fixture(scope="module")
def planted_mlp():
    """An MLP 16 → 60 → 5 whose hidden units form 6 groups of near-duplicates (positive scales)."""
    generator = np.random.default_rng(0)
    truth = np.repeat(np.arange(N_GROUPS), PER_GROUP)
    centres = generator.normal(size=(N_GROUPS, N_INPUTS + 1))
    scales = generator.uniform(0.5, 2.0, size=truth.size)
    rows = centres[truth] * scales[:, None] + 0.02 * generator.normal(size=(truth.size, N_INPUTS + 1))
    model = nn.Sequential(nn.Linear(N_INPUTS, truth.size), nn.ReLU(), nn.Linear(truth.size, N_OUTPUTS)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(rows[:, :-1]))
        model[0].bias.copy_(torch.from_numpy(rows[:, -1]))
    inputs = torch.randn(400, N_INPUTS, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    stats = UnitStats.empty(truth.size)
    with torch.no_grad():
        stats.update(model[1](model[0](inputs)))
    incoming = np.hstack([model[0].weight.detach().numpy(), model[0].bias.detach().numpy()[:, None]])
    outgoing = model[2].weight.detach().numpy().T.copy()
    return SimpleNamespace(truth=truth, incoming=incoming, outgoing=outgoing, stats=stats)


def make_context(planted, n_keep, *, with_stats, params=None, seed=0):
    return SelectionContext(
        group=SimpleNamespace(name="0", size=planted.truth.size),
        n_keep=n_keep,
        incoming=planted.incoming,
        outgoing=planted.outgoing,
        stats=planted.stats if with_stats else None,
        homogeneous=True,
        random_state=np.random.default_rng(seed),
        params=dict(params or {}),
    )


@pytest.mark.parametrize("with_stats", [False, True], ids=["data-free", "data"])
@pytest.mark.parametrize("method", CLUSTERING_METHODS)
def test_clustering_methods_recover_planted_groups(planted_mlp, method, with_stats):
    selection = get_method(method)(make_context(planted_mlp, N_GROUPS, with_stats=with_stats))
    assert adjusted_rand_score(planted_mlp.truth, selection.assignment) >= 0.9


@pytest.mark.parametrize("method", ["dpp", "submodular"])
def test_diversity_methods_keep_one_unit_per_planted_group(planted_mlp, method):
    selection = get_method(method)(make_context(planted_mlp, N_GROUPS, with_stats=False))
    assert sorted(planted_mlp.truth[selection.kept].tolist()) == list(range(N_GROUPS))
    assert adjusted_rand_score(planted_mlp.truth, selection.assignment) >= 0.9


@pytest.mark.parametrize("n_keep", [1, 5, 6, 13, 59, 60])
@pytest.mark.parametrize("with_stats", [False, True], ids=["data-free", "data"])
@pytest.mark.parametrize("method", GRAPH_METHODS)
def test_keeps_exactly_n_keep(planted_mlp, method, with_stats, n_keep):
    selection = get_method(method)(make_context(planted_mlp, n_keep, with_stats=with_stats))
    selection.validate(planted_mlp.truth.size)
    assert selection.kept.size == n_keep
    assert (selection.assignment >= 0).all(), "graph methods merge every dropped unit"


@pytest.mark.parametrize("method", GRAPH_METHODS)
def test_exact_duplicates_still_give_n_keep(method):
    # 3 distinct units repeated 4 times; asking for 5 must still keep 5.
    generator = np.random.default_rng(1)
    base = generator.normal(size=(3, 7))
    planted = SimpleNamespace(
        truth=np.repeat(np.arange(3), 4), incoming=np.repeat(base, 4, axis=0), outgoing=np.ones((12, 2)), stats=None
    )
    selection = get_method(method)(make_context(planted, 5, with_stats=False))
    selection.validate(12)
    assert selection.kept.size == 5


@pytest.mark.parametrize("method", GRAPH_METHODS)
def test_same_seed_same_selection(planted_mlp, method):
    first = get_method(method)(make_context(planted_mlp, 9, with_stats=True, seed=3))
    second = get_method(method)(make_context(planted_mlp, 9, with_stats=True, seed=3))
    np.testing.assert_array_equal(first.assignment, second.assignment)


@pytest.mark.parametrize(
    "method, params, parameter",
    [
        ("dpp", {"source": "magic"}, "source"),
        ("dpp-sample", {"bogus": 1}, "bogus"),
        ("submodular", {"source": 3}, "source"),
        ("sbm", {"max_blocks": 0}, "max_blocks"),
        ("sbm", {"algorithm": "spectral"}, "algorithm"),
        ("sbm", {"resolution": -1.0}, "resolution"),
        ("summarize", {"n_init": 0}, "n_init"),
        ("summarize", {"max_iter": 2.5}, "max_iter"),
        ("embedding", {"embedding": "umap"}, "embedding"),
        ("embedding", {"n_components": 0}, "n_components"),
    ],
)
def test_invalid_parameters_name_the_parameter(planted_mlp, method, params, parameter):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter"):
        get_method(method)(make_context(planted_mlp, 6, with_stats=False, params=params))


@pytest.mark.parametrize("method", GRAPH_METHODS)
def test_activations_source_without_stats_is_an_error(planted_mlp, method):
    with pytest.raises(InvalidParameterError, match="'source' parameter"):
        get_method(method)(make_context(planted_mlp, 6, with_stats=False, params={"source": "activations"}))


def test_sbm_shares_budget_across_blocks(planted_mlp):
    selection = get_method("sbm")(make_context(planted_mlp, 12, with_stats=False))
    assert selection.info["n_blocks"] == N_GROUPS
    assert sum(selection.info["block_quota"]) == 12
    assert min(selection.info["block_quota"]) >= 1


def test_sbm_leiden_recovers_planted_groups(planted_mlp):
    selection = get_method("sbm")(
        make_context(planted_mlp, N_GROUPS, with_stats=False, params={"algorithm": "leiden", "n_neighbors": 5})
    )
    assert adjusted_rand_score(planted_mlp.truth, selection.assignment) >= 0.9


@pytest.mark.parametrize("embedding", ["lse", "ase"])
def test_embedding_variants(planted_mlp, embedding):
    selection = get_method("embedding")(
        make_context(planted_mlp, N_GROUPS, with_stats=False, params={"embedding": embedding, "n_components": 6})
    )
    assert selection.kept.size == N_GROUPS
    if embedding == "ase":
        assert adjusted_rand_score(planted_mlp.truth, selection.assignment) >= 0.9


@pytest.mark.slow
def test_embedding_node2vec_runs(planted_mlp):
    selection = get_method("embedding")(
        make_context(planted_mlp, N_GROUPS, with_stats=False, params={"embedding": "node2vec", "n_components": 8})
    )
    assert selection.kept.size == N_GROUPS


def test_exact_duplicate_merge_preserves_outputs():
    """Merging by the selection with the best positive scale keeps a ReLU MLP's output."""
    generator = np.random.default_rng(2)
    base = generator.normal(size=(4, 6))
    scales = generator.uniform(0.5, 2.0, size=12)
    rows = np.repeat(base, 3, axis=0) * scales[:, None]
    outgoing = generator.normal(size=(12, 3))
    context = SelectionContext(
        SimpleNamespace(name="0", size=12), 4, rows, outgoing, None, True, np.random.default_rng(0), {}
    )
    selection = get_method("summarize")(context)
    inputs = generator.normal(size=(50, 5))
    hidden = np.maximum(inputs @ rows[:, :-1].T + rows[:, -1], 0)
    folded = np.zeros_like(outgoing)
    for unit, target in enumerate(selection.assignment):
        folded[target] += scales[unit] / scales[target] * outgoing[unit]
    np.testing.assert_allclose(hidden @ outgoing, hidden[:, selection.kept] @ folded[selection.kept], atol=1e-9)
