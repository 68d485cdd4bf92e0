import pytest
import torch

from netgraph.errors import InvalidParameterError
from netgraph.transformer import find_attention
from netgraph.transformer.budget import reduce_and_save, reduce_transformer
from netgraph.transformer.ffn import find_ffn


@pytest.mark.parametrize("kinds", [("ffn",), ("heads",), ("ffn", "heads"), ("ffn", "heads", "depth")])
def test_one_budget_lands_under_the_target(tiny_transformer, hidden_states, kinds):
    model, batches = tiny_transformer("llama")
    small, _, result = reduce_transformer(model, batches, 0.8, kinds=kinds)
    total = sum(p.numel() for p in model.parameters())
    assert result.parameters_after == sum(p.numel() for p in small.parameters())
    assert result.parameters_after <= 0.8 * total
    # Uniform: every layer the same size.
    assert len({layout.n_units for layout in find_attention(small)}) == 1
    assert len({layout.width for layout in find_ffn(small)}) == 1
    if "heads" not in kinds:
        assert find_attention(small)[0].n_units == find_attention(model)[0].n_units
    assert torch.isfinite(hidden_states(small, batches[0])).all()
    # The original is not modified.
    assert sum(p.numel() for p in model.parameters()) == total


def test_out_of_reach_target_names_the_fix(tiny_transformer):
    model, batches = tiny_transformer("bert")
    with pytest.raises(InvalidParameterError, match="out of reach"):
        reduce_transformer(model, batches, 0.05, kinds=("heads",))


@pytest.mark.parametrize(
    "options, message",
    [({"kinds": ("width",)}, "kinds"), ({"kinds": ("vocab",)}, "tokenizer"), ({"target_params": 1.5}, "target_params")],
)
def test_bad_options(tiny_transformer, options, message):
    model, batches = tiny_transformer("bert")
    options = {"target_params": 0.5, **options}
    with pytest.raises(InvalidParameterError, match=message):
        reduce_transformer(model, batches, **options)


def test_reduce_and_save_writes_a_loadable_folder(tiny_transformer, tmp_path):
    from transformers import AutoModel

    model, batches = tiny_transformer("bert")
    summary = reduce_and_save(model, batches, tmp_path / "small", 0.8, held_out=batches[:1])
    assert summary["fraction"] <= 0.8 and 0 < summary["held_out_cosine"] <= 1.0 + 1e-6
    loaded = AutoModel.from_pretrained(tmp_path / "small")
    assert sum(p.numel() for p in loaded.parameters()) == summary["parameters_after"]
