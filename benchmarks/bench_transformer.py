"""Transformers in full: MiniLM per unit kind, one budget, distillation; a 1 B-shape decoder.

Run: ``python -m benchmarks.bench_transformer [--sections kinds,distill,decoder]
[--distill-seconds 600]``. Writes ``benchmarks/results/transformer_<section>.json`` for each
section run and prints a Markdown table.

Data: netgraph's real English text (``zoo.english_text``): calibration from the *train*
split, fidelity on 300 sentences of the *test* split (held out). Fidelity is the mean
cosine between the reduced and the original model's normalised mean-pooled sentence
embeddings; a model whose vocabulary was trimmed reads the text through its remapped
tokenizer. Latency: median CPU time of one batch of 32 test sentences, all models
interleaved (``common.paired_latency``); MACs from Torch-Pruning's counter on that batch.

Sections
--------
kinds    one row per kind — FFN keep 0.5; heads keep 0.5 with the least-squares fold (global
         budget) and dropped without it; one block dropped (with and without refitting the
         next block); the first 3 of 6 layers; vocabulary trimmed to the train split; all
         kinds at ``target_params=0.5`` in one call — and Torch-Pruning's head recipe (heads
         + hidden + FFN, magnitude, no compensation) at about the same parameter count.
distill  the one-call 50 % model and the first-3-layers model, each distilled for the same
         wall-clock budget on token states (cosine loss, Adam 1e-4, train split).
decoder  a randomly initialised TinyLlama-shape decoder (22 layers, hidden 2048, 32 heads,
         4 KV heads, FFN 5632, bfloat16): heads and FFN keep 0.75 block by block; time,
         peak RSS against the model's bytes and one forward pass over the same data.
"""

from __future__ import annotations

import argparse
import copy
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import PeakRSS, RESULTS_DIR, machine_info, macs_and_params, paired_latency, write_json

N_CALIBRATION = 320
N_TEST = 300
BATCH = 32


def _count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def _text():
    from netgraph.zoo.english_text import load_english_text

    return load_english_text("train"), load_english_text("test")[:N_TEST]


def _batches(tokenizer, sentences):
    from netgraph.zoo.text import encode_sentences

    return [encode_sentences(tokenizer, sentences[i : i + BATCH]) for i in range(0, len(sentences), BATCH)]


def _torch_pruning_heads_ffn(model: nn.Module, example: dict, ratio: float) -> nn.Module:
    """Torch-Pruning's Hugging Face BERT recipe: whole heads and FFN by group magnitude, then
    the attention attributes updated as its example does. The hidden size stays: pruning
    it through the embeddings fails inside Torch-Pruning 1.6 on BertModel (IndexError in
    ``prune_out_channels`` of a reshape), so the embeddings are ignored."""
    import torch_pruning as tp

    model = copy.deepcopy(model)
    num_heads = {}
    for module in model.modules():
        if hasattr(module, "query") and hasattr(module, "num_attention_heads"):
            for part in (module.query, module.key, module.value):
                num_heads[part] = module.num_attention_heads
    with torch.enable_grad():
        pruner = tp.pruner.MetaPruner(
            model, example, importance=tp.importance.GroupMagnitudeImportance(p=2), pruning_ratio=ratio,
            num_heads=num_heads, prune_num_heads=True, prune_head_dims=False, head_pruning_ratio=ratio,
            output_transform=lambda output: output.last_hidden_state.sum(), ignored_layers=[model.embeddings],
        )
        pruner.step()
    for module in model.modules():
        if hasattr(module, "query") and hasattr(module, "num_attention_heads"):
            module.num_attention_heads = pruner.num_heads[module.query]
            module.attention_head_size = module.query.out_features // module.num_attention_heads
            module.all_head_size = module.query.out_features
    return model


def kinds_section() -> dict[str, Any]:
    from netgraph.transformer import apply_heads, plan_heads
    from netgraph.transformer.budget import reduce_transformer
    from netgraph.transformer.depth import drop_blocks, reduce_depth
    from netgraph.transformer.ffn import apply_ffn, plan_ffn
    from netgraph.transformer.vocabulary import apply_vocabulary, plan_vocabulary, unseen_fraction
    from netgraph.zoo.text import embed_sentences, load_minilm, load_tokenizer

    torch.manual_seed(0)
    train, test = _text()
    model, tokenizer = load_minilm(), load_tokenizer()
    batches = _batches(tokenizer, train[:N_CALIBRATION])
    reference = embed_sentences(model, tokenizer, test)
    models: dict[str, tuple[nn.Module, Any, float, dict]] = {"original": (model, tokenizer, 0.0, {})}

    def timed(name, build):
        started = time.perf_counter()
        reduced, reduced_tokenizer, info = build()
        models[name] = (reduced, reduced_tokenizer, time.perf_counter() - started, info)

    timed("ffn keep 0.5", lambda: (apply_ffn(copy.deepcopy(model), plan_ffn(model, batches, keep=0.5)), tokenizer, {}))
    timed("heads keep 0.5, fold (global)", lambda: (apply_heads(copy.deepcopy(model), plan_heads(model, batches, keep=0.5, budget="global")), tokenizer, {}))
    timed("heads keep 0.5, drop", lambda: (apply_heads(copy.deepcopy(model), plan_heads(model, batches, keep=0.5, fold="none")), tokenizer, {}))

    def depth(refit_steps):
        reduced, plan = reduce_depth(model, batches, 1, refit_steps=refit_steps, learning_rate=3e-4)
        return reduced, tokenizer, {"dropped": plan.dropped}

    timed("depth -1 block", lambda: depth(0))
    timed("depth -1 block, next refit", lambda: depth(80))
    timed("first 3 of 6 layers", lambda: (drop_blocks(copy.deepcopy(model), [3, 4, 5]), tokenizer, {}))

    def vocabulary():
        plan = plan_vocabulary(tokenizer, train)
        reduced, reduced_tokenizer = apply_vocabulary(copy.deepcopy(model), tokenizer, plan)
        return reduced, reduced_tokenizer, {"kept": int(plan.kept.size), "unseen_test_tokens": unseen_fraction(tokenizer, plan, test)}

    timed("vocabulary (train split)", vocabulary)

    def everything():
        reduced, reduced_tokenizer, result = reduce_transformer(
            model, batches, 0.5, kinds=("ffn", "heads", "vocab"), tokenizer=tokenizer, texts=train
        )
        return reduced, reduced_tokenizer, {
            "heads_kept": result.heads_kept, "ffn_kept": result.ffn_kept, "vocabulary_kept": result.vocabulary_kept,
            "predicted_error": result.predicted_error,
        }

    timed("all kinds, target_params 0.5", everything)
    example = _batches(tokenizer, test[:BATCH])[0]
    def heads_and_ffn():
        reduced = apply_heads(copy.deepcopy(model), plan_heads(model, batches, keep=0.5, budget="global"))
        return apply_ffn(reduced, plan_ffn(reduced, batches, keep=0.5)), tokenizer, {}

    timed("heads + FFN keep 0.5 (netgraph fold)", heads_and_ffn)
    try:
        timed("Torch-Pruning heads + FFN 0.5", lambda: (_torch_pruning_heads_ffn(model, example, 0.5), tokenizer, {"ratio": 0.5}))
    except Exception as error:  # noqa: BLE001 - the baseline's failure is a result, not a crash
        torch_pruning_error = f"{type(error).__name__}: {error}"
    else:
        torch_pruning_error = None

    rows = []
    latency_inputs = {}
    for name, (reduced, reduced_tokenizer, seconds, info) in models.items():
        embeddings = embed_sentences(reduced, reduced_tokenizer, test)
        batch = _batches(reduced_tokenizer, test[:BATCH])[0]
        macs, _ = macs_and_params(reduced, batch)
        latency_inputs[name] = batch
        rows.append({
            "case": name, "params": _count(reduced), "fraction": _count(reduced) / _count(model), "macs": macs,
            "cosine": float(F.cosine_similarity(embeddings, reference).mean()), "seconds": seconds, **info,
        })
    # Same sentences for every model, each through its own tokenizer (a trimmed vocabulary
    # has other ids); models sharing a tokenizer are timed interleaved.
    for row in rows:
        name = row["case"]
        row["latency_ms"] = paired_latency({name: models[name][0]}, latency_inputs[name], repeats=15)[name]
    return {"rows": rows, "n_calibration": N_CALIBRATION, "n_test": N_TEST, "torch_pruning_error": torch_pruning_error}


class _Remapped(nn.Module):
    """A vocabulary-trimmed student fed the teacher's token ids (mapped to its own)."""

    def __init__(self, student: nn.Module, lookup: torch.Tensor, unknown: int) -> None:
        super().__init__()
        self.student = student
        self.register_buffer("lookup", lookup)
        self.unknown = unknown

    def forward(self, input_ids, **kwargs):
        ids = self.lookup[input_ids]
        return self.student(input_ids=torch.where(ids < 0, torch.full_like(ids, self.unknown), ids), **kwargs)


def _distill(student: nn.Module, teacher: nn.Module, batches: list, seconds: float) -> int:
    from netgraph.zoo.text import token_states

    optimiser = torch.optim.Adam(student.parameters(), lr=1e-4)
    student.train()
    started, steps = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        batch = batches[steps % len(batches)]
        with torch.no_grad():
            target = token_states(teacher, batch)
        loss = (1 - F.cosine_similarity(token_states(student, batch), target, dim=-1)).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        steps += 1
    student.eval()
    return steps


def distill_section(seconds: float) -> dict[str, Any]:
    from netgraph.transformer.budget import reduce_transformer
    from netgraph.transformer.depth import drop_blocks
    from netgraph.zoo.text import embed_sentences, load_minilm, load_tokenizer

    torch.manual_seed(0)
    train, test = _text()
    model, tokenizer = load_minilm(), load_tokenizer()
    calibration = _batches(tokenizer, train[:N_CALIBRATION])
    training = _batches(tokenizer, train)
    reference = embed_sentences(model, tokenizer, test)
    small, small_tokenizer, result = reduce_transformer(
        model, calibration, 0.5, kinds=("ffn", "heads", "vocab"), tokenizer=tokenizer, texts=train
    )
    lookup = torch.full((tokenizer.vocab_size,), -1, dtype=torch.long)
    vocabulary = small_tokenizer.get_vocab()
    for token, index in tokenizer.get_vocab().items():
        if token in vocabulary:
            lookup[index] = vocabulary[token]
    rows = []
    for name, student, student_tokenizer in (
        ("all kinds, target_params 0.5", small, small_tokenizer),
        ("first 3 of 6 layers", drop_blocks(copy.deepcopy(model), [3, 4, 5]), tokenizer),
    ):
        before = float(F.cosine_similarity(embed_sentences(student, student_tokenizer, test), reference).mean())
        wrapped = _Remapped(student, lookup, small_tokenizer.unk_token_id) if student is small else student
        steps = _distill(wrapped, model, training, seconds)
        after = float(F.cosine_similarity(embed_sentences(student, student_tokenizer, test), reference).mean())
        rows.append({"case": name, "params": _count(student), "fraction": _count(student) / _count(model),
                     "one_shot": before, "distilled": after, "steps": steps, "seconds": seconds})
    return {"rows": rows, "train_sentences": len(train)}


def decoder_section(n_tokens: int = 256, n_layers: int = 22) -> dict[str, Any]:
    from transformers import LlamaConfig, LlamaForCausalLM

    from netgraph.transformer.export import save_pretrained
    from netgraph.transformer.layerwise import reduce_decoder_layerwise

    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=2048, num_hidden_layers=n_layers, num_attention_heads=32, num_key_value_heads=4,
                         intermediate_size=5632, vocab_size=32000, max_position_embeddings=2048, torch_dtype="bfloat16")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # build in bfloat16: never hold a float32 copy
    try:
        with PeakRSS() as build_peak:
            model = LlamaForCausalLM(config).eval()
    finally:
        torch.set_default_dtype(default)
    model_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    params_before = _count(model)
    generator = torch.Generator().manual_seed(1)
    batches = [{"input_ids": torch.randint(0, 32000, (2, n_tokens // 4), generator=generator)} for _ in range(2)]
    started = time.perf_counter()
    with torch.no_grad():
        for batch in batches:
            model(**batch, use_cache=False)
    forward = time.perf_counter() - started
    per_block = []
    with PeakRSS() as peak:
        started = time.perf_counter()
        reduce_decoder_layerwise(model, batches, keep_heads=0.75, keep_ffn=0.75,
                                 progress=lambda i, n, s: per_block.append(round(s, 1)))
        seconds = time.perf_counter() - started
    with torch.no_grad():
        runs = bool(torch.isfinite(model(**batches[0], use_cache=False).logits.float()).all())
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        save_pretrained(model, f"{folder}/small")
        saved = True
    return {
        "params_before": params_before, "params_after": _count(model),
        "model_bytes": model_bytes, "peak_rss_growth_bytes": int(peak.growth_mb * 2**20), "peak_rss_bytes": int(peak.peak), "rss_at_start_mb": build_peak.growth_mb,
        "seconds": seconds, "forward_seconds": forward, "time_ratio": seconds / forward, "per_block_seconds": per_block,
        "runs": runs, "saved": saved, "tokens": n_tokens, "layers": n_layers, "torch_threads": torch.get_num_threads(),
    }


def _markdown(results: dict[str, Any]) -> str:
    lines = []
    if "kinds" in results:
        lines += ["| MiniLM | params | of original | MACs (32 sentences) | CPU latency ms | held-out cosine | plan s |",
                  "|---|---|---|---|---|---|---|"]
        for row in results["kinds"]["rows"]:
            lines.append(f"| {row['case']} | {row['params'] / 1e6:.2f} M | {row['fraction']:.0%} | {row['macs'] / 1e9:.2f} G | "
                         f"{row['latency_ms']:.1f} | {row['cosine']:.4f} | {row['seconds']:.0f} |")
    if "distill" in results:
        lines += ["", "| distilled | params | one-shot | after | steps | seconds |", "|---|---|---|---|---|---|"]
        for row in results["distill"]["rows"]:
            lines.append(f"| {row['case']} | {row['fraction']:.0%} | {row['one_shot']:.4f} | {row['distilled']:.4f} | {row['steps']} | {row['seconds']:.0f} |")
    if "decoder" in results:
        d = results["decoder"]
        lines += ["", f"TinyLlama shape ({d['layers']} blocks), bf16: {d['seconds']:.0f} s ({d['time_ratio']:.1f}× one forward), peak RSS growth "
                  f"{d['peak_rss_growth_bytes'] / d['model_bytes']:.2f}× model bytes (whole process {d['peak_rss_bytes'] / d['model_bytes']:.2f}×), runs {d['runs']}, saved {d['saved']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="kinds,distill")
    parser.add_argument("--distill-seconds", type=float, default=600.0)
    parser.add_argument("--decoder-layers", type=int, default=22, help="blocks of the TinyLlama-shape decoder (22 = full)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    results = {}
    runners = {"kinds": kinds_section, "distill": lambda: distill_section(args.distill_seconds), "decoder": lambda: decoder_section(n_layers=args.decoder_layers)}
    for section in args.sections.split(","):
        results[section] = runners[section]()
        write_json(RESULTS_DIR / f"transformer_{section}.json", {section: results[section], "machine": machine_info()})
    print(_markdown(results))


if __name__ == "__main__":
    main()
