import pytest
from torch import nn

from netgraph.errors import UnsupportedModelError
from netgraph.transformer import find_attention
from netgraph.transformer.attention import layer_index


@pytest.mark.parametrize(
    "kind, style, units, group",
    [("bert", "bert", 4, 1), ("gpt2", "gpt2", 4, 1), ("llama", "llama", 4, 2), ("qwen2", "llama", 2, 4), ("vit", "bert", 4, 1)],
)
def test_layouts_of_each_family(tiny_transformer, kind, style, units, group):
    model, _ = tiny_transformer(kind)
    layouts = find_attention(model)
    assert len(layouts) == model.config.num_hidden_layers
    assert {layout.style for layout in layouts} == {style}
    assert all(layout.n_units == units and layout.group_size == group for layout in layouts)
    modules = dict(model.named_modules())
    assert all(layout.output in modules for layout in layouts)
    # Every unit's columns tile the output projection's input exactly once.
    layout = layouts[0]
    assert sorted(layout.columns(range(layout.n_units)).tolist()) == list(range(layout.context_width))


def test_model_without_attention_is_refused():
    with pytest.raises(UnsupportedModelError, match="no attention module"):
        find_attention(nn.Sequential(nn.Linear(3, 3)))


def test_layer_index_reads_block_number():
    assert layer_index("encoder.layer.3.attention") == 3
    assert layer_index("model.layers.12.self_attn") == 12
