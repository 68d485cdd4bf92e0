import copy

import pytest
import torch

from netgraph.transformer import find_attention
from netgraph.transformer.export import save_pretrained
from netgraph.transformer.ffn import find_ffn
from netgraph.transformer.layerwise import reduce_decoder_layerwise


@pytest.fixture
def causal_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(hidden_size=64, num_hidden_layers=3, num_attention_heads=8, num_key_value_heads=4,
                                         intermediate_size=96, vocab_size=60, max_position_embeddings=64)).eval()
    generator = torch.Generator().manual_seed(2)
    batches = [{"input_ids": torch.randint(0, 60, (4, 16), generator=generator)} for _ in range(3)]
    return model, batches


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_block_by_block_reduction_of_a_gqa_decoder(causal_llama, dtype, tmp_path):
    from transformers import AutoModelForCausalLM

    model, batches = causal_llama
    small = copy.deepcopy(model).to(dtype)
    seen = []
    reduce_decoder_layerwise(small, batches, keep_heads=0.5, keep_ffn=0.5, progress=lambda i, n, s: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [layout.n_kv_heads for layout in find_attention(small)] == [2, 2, 2]
    assert [layout.width for layout in find_ffn(small)] == [48, 48, 48]
    assert all(p.dtype == dtype for p in small.parameters())
    with torch.no_grad():
        reference = model(**batches[0]).logits
        logits = small(**batches[0]).logits.float()
    cosine = torch.nn.functional.cosine_similarity(logits, reference, dim=-1).mean()
    assert cosine > 0.85
    folder = save_pretrained(small, tmp_path / "small")
    loaded = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=dtype).eval()
    with torch.no_grad():
        assert torch.allclose(loaded(**batches[0]).logits.float(), logits, atol=1e-2 if dtype == torch.bfloat16 else 1e-5)


def test_keep_everything_is_the_identity(causal_llama):
    model, batches = causal_llama
    small = reduce_decoder_layerwise(copy.deepcopy(model), batches, keep_heads=1.0, keep_ffn=1.0)
    with torch.no_grad():
        assert torch.allclose(small(**batches[0]).logits, model(**batches[0]).logits, atol=1e-6)
