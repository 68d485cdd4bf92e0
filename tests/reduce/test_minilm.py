import pytest
import torch

from netgraph import apply_plan, load_reduced, plan_reduction, save_reduced


@pytest.mark.slow
def test_minilm_ffn_reduces_runs_and_round_trips(minilm, tmp_path):
    from netgraph import zoo

    model, _ = minilm
    tokenizer = zoo.load_tokenizer()
    sentences = list(zoo.load_dataset("text").train[:256])
    batches = [zoo.encode_sentences(tokenizer, sentences[i : i + 32]) for i in range(0, 256, 32)]
    plan = plan_reduction(
        model, batches[0], keep=0.5, method="activation", fold="lstsq", calibration=batches, groups="intermediate"
    )
    assert len(plan.groups) == 6
    reduced = apply_plan(model, plan)
    assert all(layer.intermediate.dense.out_features == 768 for layer in reduced.encoder.layer)
    assert model.encoder.layer[0].intermediate.dense.out_features == 1536  # original untouched

    held_out = list(zoo.load_dataset("text").test[:64])
    cosine = zoo.mean_cosine(reduced, model, tokenizer, held_out)
    assert cosine > 0.92, cosine  # real held-out text (three sources)

    save_reduced(reduced, plan, tmp_path / "minilm")
    loaded = load_reduced(zoo.load_model("minilm"), tmp_path / "minilm")
    batch = zoo.encode_sentences(tokenizer, held_out[:8])
    with torch.no_grad():
        assert torch.equal(loaded(**batch).last_hidden_state, reduced(**batch).last_hidden_state)
