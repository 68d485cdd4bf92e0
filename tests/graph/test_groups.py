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
