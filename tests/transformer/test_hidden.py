import copy

import pytest
import torch

from netgraph.errors import UnsupportedModelError
from netgraph.transformer.export import save_pretrained
from netgraph.transformer.hidden import rotate_and_slice, stream_rotation


@pytest.fixture
def causal(request):
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    common = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=4, intermediate_size=96,
                  vocab_size=60, max_position_embeddings=64)
    model = (Qwen2ForCausalLM(Qwen2Config(**common)) if request.param == "qwen2" else LlamaForCausalLM(LlamaConfig(**common))).eval()
    with torch.no_grad():  # trained models have non-trivial norm scales: make them so
        for name, parameter in model.named_parameters():
            if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
                parameter.uniform_(0.5, 1.5)
    generator = torch.Generator().manual_seed(3)
    batches = [{"input_ids": torch.randint(0, 60, (4, 16), generator=generator)} for _ in range(3)]
    return model, batches


def _logits(model, batch):
    with torch.no_grad():
        return model(**batch).logits


@pytest.mark.parametrize("causal", ["llama", "qwen2"], indirect=True)
def test_rotation_without_slicing_is_invariant(causal):
    model, batches = causal
    rotation, values = stream_rotation(model, batches)
    assert torch.allclose(torch.from_numpy(rotation.T @ rotation), torch.eye(64, dtype=torch.float64), atol=1e-10)
    assert values[0] >= values[-1]
    rotated = rotate_and_slice(copy.deepcopy(model), rotation)
    for batch in batches:
        assert (_logits(rotated, batch) - _logits(model, batch)).abs().max() < 1e-4


@pytest.mark.parametrize("causal", ["llama"], indirect=True)
def test_slicing_shrinks_and_principal_directions_beat_random_ones(causal, tmp_path):
    from transformers import AutoModelForCausalLM

    model, batches = causal
    rotation, _ = stream_rotation(model, batches)
    sliced = rotate_and_slice(copy.deepcopy(model), rotation, 48)
    random_rotation, _ = torch.linalg.qr(torch.randn(64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    random_sliced = rotate_and_slice(copy.deepcopy(model), random_rotation.numpy(), 48)
    assert sliced.config.hidden_size == 48
    assert sum(p.numel() for p in sliced.parameters()) < sum(p.numel() for p in model.parameters())

    def error(candidate):
        return sum(float(((_logits(candidate, b) - _logits(model, b)) ** 2).sum()) for b in batches)

    assert error(sliced) < error(random_sliced)
    folder = save_pretrained(sliced, tmp_path / "sliced")
    loaded = AutoModelForCausalLM.from_pretrained(folder).eval()
    assert torch.allclose(_logits(loaded, batches[0]), _logits(sliced, batches[0]), atol=1e-5)


def test_post_norm_encoders_are_refused(tiny_transformer):
    model, batches = tiny_transformer("bert")
    with pytest.raises(UnsupportedModelError, match="Llama-family"):
        stream_rotation(model, batches)
