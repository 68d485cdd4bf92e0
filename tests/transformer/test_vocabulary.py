import copy

import pytest
import torch

from netgraph.errors import InvalidParameterError
from netgraph.transformer.vocabulary import apply_vocabulary, plan_vocabulary, unseen_fraction


@pytest.fixture(scope="module")
def minilm_and_text():
    from netgraph.zoo.english_text import load_english_text
    from netgraph.zoo.text import load_minilm, load_tokenizer

    return load_minilm(), load_tokenizer(), load_english_text("train")[:300], load_english_text("test")[:100]


@pytest.mark.slow
def test_trimmed_vocabulary_reproduces_seen_text_exactly(minilm_and_text, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    from netgraph.zoo.text import embed_sentences

    model, tokenizer, train, test = minilm_and_text
    plan = plan_vocabulary(tokenizer, train)
    assert plan.kept.size < 0.25 * plan.vocabulary_size
    assert set(tokenizer.all_special_ids) <= set(plan.kept.tolist())
    assert 0 < unseen_fraction(tokenizer, plan, test) < 0.5
    assert unseen_fraction(tokenizer, plan, train) == 0.0
    small, small_tokenizer = apply_vocabulary(copy.deepcopy(model), tokenizer, plan)
    assert small.config.vocab_size == plan.kept.size == len(small_tokenizer)
    # Text whose tokens were all seen tokenises to the same tokens and embeds identically.
    before = embed_sentences(model, tokenizer, train[:40])
    after = embed_sentences(small, small_tokenizer, train[:40])
    assert torch.allclose(before, after, atol=1e-5)
    # Saved with the tokenizer, it loads with plain Hugging Face classes.
    small.save_pretrained(tmp_path)
    small_tokenizer.save_pretrained(tmp_path)
    loaded, loaded_tokenizer = AutoModel.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)
    assert torch.allclose(embed_sentences(loaded, loaded_tokenizer, train[:8]), before[:8], atol=1e-5)


@pytest.mark.slow
def test_planning_needs_text(minilm_and_text):
    _, tokenizer, _, _ = minilm_and_text
    with pytest.raises(InvalidParameterError, match="at least one text"):
        plan_vocabulary(tokenizer, [])
