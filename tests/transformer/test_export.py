import copy

import pytest
import torch

from netgraph.errors import InvalidParameterError, UnsupportedModelError
from netgraph.transformer import apply_heads, plan_heads
from netgraph.transformer.depth import drop_blocks
from netgraph.transformer.export import save_pretrained
from netgraph.transformer.ffn import apply_ffn, find_ffn, plan_ffn


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama", "qwen2", "vit"])
def test_reduced_model_loads_with_plain_from_pretrained(tiny_transformer, hidden_states, kind, tmp_path):
    from transformers import AutoModel

    model, batches = tiny_transformer(kind)
    small = copy.deepcopy(model)
    apply_heads(small, plan_heads(small, batches, keep=0.5))
    apply_ffn(small, plan_ffn(small, batches, keep=0.5))
    drop_blocks(small, [0])
    folder = save_pretrained(small, tmp_path / "small")
    loaded = AutoModel.from_pretrained(folder).eval()
    assert sum(p.numel() for p in loaded.parameters()) == sum(p.numel() for p in small.parameters())
    assert sum(p.numel() for p in loaded.parameters()) < 0.8 * sum(p.numel() for p in model.parameters())
    for batch in batches[:2]:
        assert torch.allclose(hidden_states(loaded, batch), hidden_states(small, batch), atol=1e-5)
    assert loaded.config.num_hidden_layers == model.config.num_hidden_layers - 1


def test_ffn_fold_keeps_all_units_exactly(tiny_transformer, hidden_states):
    model, batches = tiny_transformer("llama")
    small = apply_ffn(copy.deepcopy(model), plan_ffn(model, batches, keep=1.0))
    assert torch.allclose(hidden_states(small, batches[0]), hidden_states(model, batches[0]), atol=1e-5)
    assert [layout.width for layout in find_ffn(small)] == [96, 96]


def test_non_uniform_sizes_are_refused(tiny_transformer, tmp_path):
    model, batches = tiny_transformer("llama")
    layouts = find_ffn(model)
    apply_ffn(model, plan_ffn(model, batches, keep={layouts[0].name: 0.5}))
    with pytest.raises(UnsupportedModelError, match="uniform"):
        save_pretrained(model, tmp_path / "x")


def test_existing_folder_is_not_overwritten(tiny_transformer, tmp_path):
    model, _ = tiny_transformer("bert")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(InvalidParameterError, match="not empty"):
        save_pretrained(model, tmp_path / "taken")
