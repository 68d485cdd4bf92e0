import numpy as np
import pytest
import torch
from torch import nn

from netgraph import UnsupportedModelError, find_unit_groups


def test_mlp_groups_exclude_the_output_layer(tiny_mlp):
    groups = find_unit_groups(tiny_mlp, torch.randn(2, 10))
    assert [(g.name, g.size) for g in groups] == [("0", 24), ("2", 16)]
    assert all(g.foldable and g.homogeneous and g.activation == "relu" for g in groups)
    assert [c.module for c in groups[0].consumers] == ["2"]


def test_cnn_groups_carry_batchnorm_and_flatten_columns(tiny_cnn):
    groups = {g.name: g for g in find_unit_groups(tiny_cnn, torch.randn(2, 1, 8, 8))}
    assert set(groups) == {"conv1", "conv2"}
    assert [n.module for n in groups["conv1"].norms] == ["bn1"]
    flatten = groups["conv2"].consumers[0]
    assert flatten.module == "fc"
    # Flatten maps channel c to the 4 spatial columns c*4 .. c*4+3.
    np.testing.assert_array_equal(flatten.columns, np.arange(32).reshape(8, 4))
    assert groups["conv2"].homogeneous  # ReLU and max pooling scale with positive factors


def test_gelu_path_is_not_homogeneous():
    model = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2)).eval()
    (group,) = find_unit_groups(model, torch.randn(3, 4))
    assert group.activation == "gelu" and group.foldable and not group.homogeneous


def test_residual_stream_is_one_coupled_group(tiny_resnet):
    groups = {g.name: g for g in find_unit_groups(tiny_resnet, torch.randn(2, 1, 8, 8))}
    stream = groups["conv1"]
    producers = {p.module for p in stream.producers}
    assert {"conv1", "layer1.0.conv2"} <= producers and stream.residual
    assert not stream.homogeneous
    assert groups["layer1.0.conv1"].foldable and not groups["layer1.0.conv1"].residual


def test_untraceable_input_raises_unsupported(tiny_mlp):
    with pytest.raises(UnsupportedModelError, match="example_inputs"):
        find_unit_groups(tiny_mlp, torch.randn(2, 7))


def test_group_round_trips_through_dict(tiny_cnn):
    from netgraph.graph.groups import UnitGroup

    group = find_unit_groups(tiny_cnn, torch.randn(2, 1, 8, 8))[1]
    again = UnitGroup.from_dict(group.to_dict())
    assert again.to_dict() == group.to_dict()


@pytest.mark.slow
def test_minilm_ffn_groups_are_foldable_and_attention_is_not(minilm):
    model, batches = minilm
    groups = find_unit_groups(model, batches[0])
    ffn = [g for g in groups if g.name.endswith("intermediate.dense")]
    assert len(ffn) == 6 and all(g.foldable and g.size == 1536 and g.activation == "gelu" for g in ffn)
    assert ffn[0].name == "encoder.layer.0.intermediate.dense"
    assert [c.module for c in ffn[0].consumers] == ["encoder.layer.0.output.dense"]
    others = [g for g in groups if g not in ffn]
    assert others and not any(g.foldable for g in others)


def test_depthwise_convolution_passes_units_through():
    """MobileNet's expand → depthwise → project: one group, the depthwise conv cut in and out."""
    model = nn.Sequential(
        nn.Conv2d(3, 8, 1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2),
    ).eval()
    groups = {g.name: g for g in find_unit_groups(model, torch.randn(2, 3, 8, 8))}
    group = groups["0"]
    assert group.foldable and [m.module for m in group.consumers] == ["6"]
    assert {(m.module, m.kind) for m in group.norms} >= {("3", "depthwise"), ("1", "batchnorm"), ("4", "batchnorm")}
    assert not group.homogeneous  # several channel-wise layers: only equal units merge


def test_grouped_convolution_is_skipped_with_its_reason():
    model = nn.Sequential(nn.Conv2d(3, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=2), nn.ReLU(), nn.Conv2d(8, 2, 1)).eval()
    groups = find_unit_groups(model, torch.randn(2, 3, 8, 8))
    assert groups and not any(g.cuttable for g in groups)
    assert all("grouped convolution 2" in g.reason for g in groups)


class _Shuffle(nn.Module):
    """Channel shuffle (ShuffleNet): units map unevenly onto the reader's columns."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.fc = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 4, 1), nn.Linear(8, 2)
        self.mlp = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 8))

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], 1)
        y = y.view(y.shape[0], 2, 4, *y.shape[2:]).transpose(1, 2).reshape(y.shape[0], 8, -1)
        return self.fc(self.mlp(y.mean(-1)))


def test_unmappable_group_is_skipped_and_the_rest_is_found():
    groups = {g.name: g for g in find_unit_groups(_Shuffle().eval(), torch.randn(2, 3, 4, 4))}
    assert groups["mlp.0"].foldable  # the MLP after the shuffle still reduces
    unmappable = [g for g in groups.values() if not g.cuttable]
    assert unmappable and all(g.reason for g in unmappable)


def test_a_trace_that_takes_too_long_is_stopped_with_a_clear_error():
    import time

    class Slow(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 2)

        def forward(self, x):
            time.sleep(2.0)
            return self.fc2(torch.relu(self.fc1(x)))

    started = time.perf_counter()
    with pytest.raises(UnsupportedModelError, match="longer than 0.3 s"):
        find_unit_groups(Slow(), torch.randn(2, 4), trace_seconds=0.3)
    assert time.perf_counter() - started < 1.5


def test_grouped_query_attention_is_opaque_to_the_tracer():
    """Llama with 4 query and 2 key/value heads: traced in well under a second (it used to
    loop for minutes inside repeat_kv); the SwiGLU FFN is found, attention is left alone."""
    import time

    import transformers as hf

    config = hf.LlamaConfig(
        vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=48, max_position_embeddings=32,
    )
    model = hf.LlamaModel(config).eval()
    started = time.perf_counter()
    groups = find_unit_groups(model, {"input_ids": torch.randint(0, 64, (2, 6))})
    assert time.perf_counter() - started < 10
    ffn = [g for g in groups if g.foldable]
    assert [g.size for g in ffn] == [48]
    # No group reaches into the attention layer: heads are netgraph.transformer's units.
    assert not any("self_attn." in m.module for g in groups for m in g.members)


def test_a_model_named_attention_is_still_traced_inside():
    class AttentionNet(nn.Module):  # the class name alone must not hide the model
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 2)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    assert [g.name for g in find_unit_groups(AttentionNet(), torch.randn(2, 4))] == ["fc1"]


class _GatedFFN(nn.Module):
    """silu(gate(x)) * up(x): the product keeps ``up``'s units homogeneous despite SiLU."""

    def __init__(self):
        super().__init__()
        self.gate, self.up, self.down = nn.Linear(4, 8), nn.Linear(4, 8), nn.Linear(8, 4)

    def forward(self, x):
        return self.down(nn.functional.silu(self.gate(x)) * self.up(x))


@pytest.mark.parametrize("build", [
    lambda: nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 5), nn.Sigmoid(),
                          nn.Linear(5, 4), nn.SiLU(), nn.Linear(4, 3), nn.ELU(), nn.Linear(3, 2)),
    lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.LeakyReLU(), nn.Linear(6, 2)),
    _GatedFFN,
])
def test_skipping_smooth_activations_gives_the_forward_check_answer(build, monkeypatch):
    """Groups skipped as never homogeneous get the answer the scaled forward pass gives."""
    import netgraph.graph.groups as groups_module

    torch.manual_seed(0)
    model, example = build().eval(), torch.randn(5, 4)
    fast = [(g.name, g.homogeneous) for g in find_unit_groups(model, example)]
    monkeypatch.setattr(groups_module, "_never_homogeneous", lambda operations: False)
    checked = [(g.name, g.homogeneous) for g in find_unit_groups(model, example)]
    assert fast == checked and fast
