"""Planning speed of issue 14 (helper "speed"): CPU seconds of data-free plans on a ViT-B/16
layout and of a calibrated MiniLM FFN plan beside one forward pass, in one process.

Run: ``python -m benchmarks.bench_planning_speed [--cases vit,minilm] [--methods m1,m2]
[--profile] [--compare] [--sentences N]``. Times are ``time.process_time`` (CPU seconds of this process: the machine is
shared, so wall time measures the neighbours too) with ``torch.set_num_threads(1)``.

* ``vit`` — transformers ``ViTModel`` with the ViT-B/16 configuration (12 blocks,
  Linear(768, 3072) → GELU → Linear(3072, 768) FFN groups), random init, 64×64 images: a
  data-free ``fold="exact"`` plan of the twelve FFN groups at keep 0.5 with each data-free
  method (target ≤ 10 s each).
* ``minilm`` — all-MiniLM-L6-v2 on real text from ``zoo:text``: ``activation``/``lstsq``
  FFN keep 0.5, ``sequential=False``, plan + apply, beside one forward pass over the same
  calibration batches (target ≤ 2×), with the mean cosine of sentence embeddings on
  held-out sentences.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import torch

SEED = 0


def _cpu(fn):
    start = time.process_time()
    result = fn()
    return result, time.process_time() - start


def vit_rows(methods: list[str] | None, profile: bool) -> list[tuple[str, float]]:
    from transformers import ViTConfig, ViTModel

    from netgraph import plan_reduction
    from netgraph.select import available_methods, method_needs_data

    torch.manual_seed(SEED)
    model = ViTModel(ViTConfig(image_size=64, patch_size=16), add_pooling_layer=False).eval()
    example = {"pixel_values": torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(SEED))}
    methods = methods or [m for m in available_methods() if not method_needs_data(m)]
    rows = []
    for method in methods:
        def plan():
            return plan_reduction(model, example, keep=0.5, method=method, fold="exact", groups="intermediate",
                                  random_state=SEED)
        if profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        _, seconds = _cpu(plan)
        if profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        rows.append((f"ViT-B/16 data-free {method} keep 0.5 (12 FFN groups)", seconds))
        print(f"{rows[-1][0]:<60} {seconds:7.2f} s CPU", flush=True)
    return rows


def minilm_rows(n_calibration: int, n_held_out: int, profile: bool, compare: bool) -> list[tuple[str, float]]:
    import torch.nn.functional as F

    from netgraph import apply_plan, calibrate, find_unit_groups, plan_reduction, zoo
    from netgraph.reduce.planning import select_groups

    model = zoo.load_model("minilm").eval()
    tokenizer = zoo.load_tokenizer()
    batches = zoo.calibration_batches("minilm", n_calibration, 64, seed=SEED)
    example = zoo.example_inputs("minilm")
    held_out = zoo.load_dataset("text").test[:n_held_out]
    reference = zoo.embed_sentences(model, tokenizer, held_out)

    def forward():
        with torch.inference_mode():
            for batch in batches:
                model(**batch)

    forward()  # warm-up
    _, forward_s = _cpu(forward)
    rows = [(f"MiniLM one forward pass ({n_calibration} sentences)", forward_s)]
    chosen, _ = select_groups(find_unit_groups(model, example), "intermediate")
    _, seconds = _cpu(lambda: calibrate(model, batches, chosen))
    rows.append(("MiniLM calibrate (FFN statistics alone)", seconds))

    def plan_and_apply():
        plan = plan_reduction(model, example, keep=0.5, method="activation", fold="lstsq", calibration=batches,
                              groups="intermediate", sequential=False, random_state=SEED)
        return apply_plan(model, plan)

    def cosine(net) -> float:
        return float(F.cosine_similarity(zoo.embed_sentences(net, tokenizer, held_out), reference, dim=1).mean())

    if compare:  # the general product the Grams used before the symmetric update, same process
        from netgraph.calibrate import stats

        def general_product(target, samples):
            stats._accumulate(target, samples.T, samples)

        symmetric = stats._accumulate_gram
        stats._accumulate_gram = general_product
        try:
            reduced, seconds = _cpu(plan_and_apply)
        finally:
            stats._accumulate_gram = symmetric
        rows.append((f"  same, Grams by general product (cosine {cosine(reduced):.4f})", seconds))
    if profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    reduced, seconds = _cpu(plan_and_apply)
    if profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    rows.append((f"MiniLM activation/lstsq FFN keep 0.5 plan + apply (cosine {cosine(reduced):.4f})", seconds))
    for name, value in rows:
        print(f"{name:<72} {value:7.2f} s CPU  ({value / forward_s:.2f}x forward)", flush=True)
    print(f"(held-out mean cosine of sentence embeddings on {n_held_out} zoo:text test sentences)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="vit,minilm")
    parser.add_argument("--methods", default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--compare", action="store_true", help="MiniLM: also time the former Gram product")
    parser.add_argument("--sentences", type=int, default=256, help="MiniLM calibration sentences")
    args = parser.parse_args()
    torch.set_num_threads(1)
    methods = args.methods.split(",") if args.methods else None
    for case in args.cases.split(","):
        if case == "vit":
            vit_rows(methods, args.profile)
        elif case == "minilm":
            minilm_rows(args.sentences, 128, args.profile, args.compare)


if __name__ == "__main__":
    main()
