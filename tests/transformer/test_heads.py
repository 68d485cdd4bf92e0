import copy
import numpy as np
import pytest
import torch

from netgraph.errors import InvalidParameterError
from netgraph.transformer import apply_heads, find_attention, plan_heads, reduce_heads


def _duplicate_unit(model, layout, source: int, copy_to: int) -> None:
    """Make unit ``copy_to`` an exact copy of unit ``source`` (q, k, v rows)."""
    modules = dict(model.named_modules())
    with torch.no_grad():
        if layout.style == "gpt2":
            weight, bias = modules[layout.query].weight, modules[layout.query].bias  # (in, 3d), columns
            d = layout.context_width
            for part in range(3):
                for index in range(layout.head_dim):
                    weight[:, part * d + copy_to * layout.head_dim + index] = weight[:, part * d + source * layout.head_dim + index]
                    bias[part * d + copy_to * layout.head_dim + index] = bias[part * d + source * layout.head_dim + index]
            return
        width_q = layout.group_size * layout.head_dim
        for name, width in ((layout.query, width_q), (layout.key, layout.head_dim), (layout.value, layout.head_dim)):
            module = modules[name]
            module.weight[copy_to * width : (copy_to + 1) * width] = module.weight[source * width : (source + 1) * width]
            if module.bias is not None:
                module.bias[copy_to * width : (copy_to + 1) * width] = module.bias[source * width : (source + 1) * width]


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama", "vit"])
@pytest.mark.parametrize("fold", ["lstsq", "exact"])
def test_merging_an_exact_duplicate_head_keeps_outputs(tiny_transformer, hidden_states, kind, fold):
    model, batches = tiny_transformer(kind)
    model = model.double()
    layouts = find_attention(model)
    _duplicate_unit(model, layouts[0], source=0, copy_to=1)
    keep = {layouts[0].name: (layouts[0].n_units - 1) / layouts[0].n_units}
    # DPP never keeps two identical units (their kernel determinant is zero).
    batches = [{k: (v.double() if v.is_floating_point() else v) for k, v in b.items()} for b in batches]
    # A negligible ridge: random tiny models have nearly rank-deficient context Grams.
    plans = plan_heads(model, batches, keep=keep, method="dpp", fold=fold, ridge=1e-12)
    assert 0 in plans[0].kept.tolist() or 1 in plans[0].kept.tolist()
    assert not {0, 1} <= set(plans[0].kept.tolist())
    small = apply_heads(copy.deepcopy(model), plans)
    for batch in batches:
        assert torch.allclose(hidden_states(small, batch), hidden_states(model, batch), atol=1e-5, rtol=0)
    removed = sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in small.parameters())
    assert removed > 0


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama", "qwen2", "vit"])
def test_halving_heads_shrinks_and_runs(tiny_transformer, hidden_states, kind):
    model, batches = tiny_transformer(kind)
    small, plans = reduce_heads(model, batches, keep=0.5, method="activation")
    layout = plans[0].layout
    per_unit = layout.group_size * layout.head_dim
    for plan in plans:
        assert plan.kept.size == layout.n_units // 2
        assert 0 <= plan.error < 1
    after = find_attention(small)
    assert [a.n_units for a in after] == [layout.n_units // 2] * len(plans)
    assert after[0].context_width == layout.context_width // 2 == per_unit * (layout.n_units // 2)
    out = hidden_states(small, batches[0])
    assert out.shape == hidden_states(model, batches[0]).shape and torch.isfinite(out).all()
    # The original is untouched.
    assert find_attention(model)[0].n_units == layout.n_units


def test_fold_beats_plain_drop_on_calibration_error(tiny_transformer):
    model, batches = tiny_transformer("gpt2")
    folded = plan_heads(model, batches, keep=0.5, fold="lstsq")
    dropped = plan_heads(model, batches, keep=0.5, fold="none")
    assert all(f.error <= d.error + 1e-9 for f, d in zip(folded, dropped))


def test_keep_all_changes_nothing(tiny_transformer, hidden_states):
    model, batches = tiny_transformer("bert")
    small, _ = reduce_heads(model, batches, keep=1.0)
    assert torch.allclose(hidden_states(small, batches[0]), hidden_states(model, batches[0]), atol=1e-5)


def test_pruned_bert_heads_are_recorded_in_config(tiny_transformer, hidden_states):
    model, batches = tiny_transformer("bert")
    small, plans = reduce_heads(model, batches, keep=0.5)
    assert {layer: len(heads) for layer, heads in small.config.pruned_heads.items()} == {0: 2, 1: 2, 2: 2}
    # Pruning again maps current indices back to the original heads.
    smaller, _ = reduce_heads(small, batches, keep=0.5)
    assert {layer: len(heads) for layer, heads in smaller.config.pruned_heads.items()} == {0: 3, 1: 3, 2: 3}
    assert torch.isfinite(hidden_states(smaller, batches[0])).all()


def test_global_budget_keeps_the_total_and_varies_per_layer(tiny_transformer, hidden_states):
    model, batches = tiny_transformer("bert")
    plans = plan_heads(model, batches, keep=0.5, budget="global")
    assert sum(plan.kept.size for plan in plans) == 6
    assert all(plan.kept.size >= 1 for plan in plans)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"fold": "magic"}, "fold"),
        ({"keep": 1.5}, "keep"),
        ({"keep": 0.5, "budget": "everywhere"}, "budget"),
        ({"method": "nonexistent"}, "method"),
    ],
)
def test_bad_parameters_raise_one_clear_error(tiny_transformer, hidden_states, options, message):
    model, batches = tiny_transformer("bert")
    with pytest.raises(InvalidParameterError, match=message):
        plan_heads(model, batches, **options)


def test_lstsq_without_data_is_refused(tiny_transformer, hidden_states):
    model, _ = tiny_transformer("bert")
    with pytest.raises(InvalidParameterError, match="calibration"):
        plan_heads(model, None, keep=0.5)
    # Data-free selection with a plain drop works.
    assert plan_heads(model, None, keep=0.5, method="magnitude", fold="none")[0].kept.size == 2


@pytest.mark.slow
def test_minilm_half_the_heads_on_real_text(minilm_text):
    from netgraph.zoo.text import mean_cosine

    model, tokenizer, batches, held_out = minilm_text
    folded, _ = reduce_heads(model, batches, keep=0.5, budget="global")
    dropped, _ = reduce_heads(model, batches, keep=0.5, method="activation", fold="none")
    folded_cosine = mean_cosine(folded, model, tokenizer, held_out)
    dropped_cosine = mean_cosine(dropped, model, tokenizer, held_out)
    # Measured on 320 calibration / 200 held-out sentences: about 0.93 folded, 0.87 dropped.
    assert folded_cosine > dropped_cosine + 0.02
    assert folded_cosine > 0.9
