import pytest
import torch


def _tiny(kind: str):
    from transformers import (
        BertConfig, BertModel, GPT2Config, GPT2Model, LlamaConfig, LlamaModel, Qwen2Config, Qwen2Model, ViTConfig, ViTModel,
    )

    torch.manual_seed(0)
    if kind == "bert":
        return BertModel(BertConfig(hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64, vocab_size=60))
    if kind == "gpt2":
        return GPT2Model(GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=60, n_positions=64))
    if kind == "llama":
        return LlamaModel(LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=4,
                                      intermediate_size=96, vocab_size=60, max_position_embeddings=64))
    if kind == "qwen2":
        return Qwen2Model(Qwen2Config(hidden_size=64, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=2,
                                      intermediate_size=96, vocab_size=60, max_position_embeddings=64))
    if kind == "vit":
        return ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                                  image_size=32, patch_size=8))
    raise ValueError(kind)


def _batches(kind: str, n: int = 4):
    generator = torch.Generator().manual_seed(1)
    if kind == "vit":
        return [{"pixel_values": torch.randn(6, 3, 32, 32, generator=generator)} for _ in range(n)]
    batches = []
    for _ in range(n):
        ids = torch.randint(0, 60, (6, 20), generator=generator)
        mask = torch.ones_like(ids)
        mask[0, 15:] = 0  # one padded row: padding must never count as data
        batches.append({"input_ids": ids, "attention_mask": mask})
    return batches


@pytest.fixture
def tiny_transformer():
    """Factory: (model in eval mode, calibration batches) for 'bert', 'gpt2', 'llama', 'qwen2', 'vit'."""

    def make(kind: str):
        return _tiny(kind).eval(), _batches(kind)

    return make


@pytest.fixture
def hidden_states():
    """``f(model, batch)``: the last hidden state under no_grad."""

    def run(model, batch):
        with torch.no_grad():
            return model(**batch).last_hidden_state

    return run


@pytest.fixture(scope="session")
def minilm_text():
    """(model, tokenizer, calibration batches, held-out sentences) on netgraph's real English text."""
    from netgraph.zoo.english_text import load_english_text
    from netgraph.zoo.text import encode_sentences, load_minilm, load_tokenizer

    tokenizer = load_tokenizer()
    train = load_english_text("train")[:320]
    batches = [encode_sentences(tokenizer, train[i : i + 32]) for i in range(0, len(train), 32)]
    return load_minilm(), tokenizer, batches, load_english_text("test")[:200]
