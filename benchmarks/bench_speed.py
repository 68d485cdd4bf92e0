"""How fast netgraph's own work is, next to one forward pass and Torch-Pruning, in one process.

Run: ``python -m benchmarks.bench_speed [--quick] [--cases minilm,lenet,analyze,help,vit]``
(default cases: minilm, lenet, analyze, help — about 4 minutes on 2 idle CPU cores; ``vit``
adds a randomly initialised ViT-B/16 at 64×64, about 2 more minutes; ``--quick`` uses 200
calibration sentences instead of 800). Writes ``benchmarks/results/speed.json`` and prints a
Markdown table.

The rows are those of issue 14's table. Every time is measured in this process, right after
the unit it is compared with, so ratios survive the drift of a shared machine:

* ``minilm`` — all-MiniLM-L6-v2, FFN groups (``intermediate``) keep 0.5,
  ``method="activation"``, ``fold="lstsq"``, calibrated on the zoo's real English text
  (800 training sentences, 64 per batch): one plain forward pass over that data; one
  ``netgraph.calibrate`` pass; plan + apply with ``sequential=False`` and ``True``;
  Torch-Pruning's magnitude pruner on the same groups; held-out mean cosine of sentence
  embeddings (600 test sentences) for each netgraph variant;
* ``lenet`` — LeNet-300-100 (zoo ``lenet-300-100``), data-free ``sbm``, ``summarize`` and
  ``embedding`` at keep 0.5 and 0.25, next to Torch-Pruning's magnitude pruner and one
  forward pass over 1,024 samples;
* ``vit`` — ViT-B/16 layout (transformers ``ViTModel``, random init, 64×64 images), FFN
  groups keep 0.5, activation/lstsq on 64 images, next to Torch-Pruning (data-free);
* ``analyze`` — ``netgraph analyze zoo:minilm --samples 300`` in a subprocess: wall time
  and the time after the model is loaded (the command's own ``Loading`` status lines);
* ``help`` — ``netgraph --help``: min and median of 20 fresh processes
  (``benchmarks.bench_startup``).

Peak memory is the resident-set growth over each step (``benchmarks.common.PeakRSS``).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import RESULTS_DIR, SEED, forward_seconds, machine_info, measure, write_json

CASES = ("minilm", "lenet", "analyze", "help", "vit")
DEFAULT_CASES = ("minilm", "lenet", "analyze", "help")


def _row(case: str, work: str, seconds: float, unit_seconds: float | None, **extra: Any) -> dict:
    return {"case": case, "work": work, "seconds": seconds,
            "ratio_to_forward": None if not unit_seconds else seconds / unit_seconds, **extra}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    result, seconds, peak_mb = measure(fn)
    return result, seconds, peak_mb


def _tp_magnitude(model: nn.Module, example: Any, keep: float, ignored: list[str]) -> nn.Module:
    import torch_pruning as tp

    pruned = copy.deepcopy(model).eval()
    skip = [m for n, m in pruned.named_modules() if n in ignored]
    pruner = tp.pruner.MagnitudePruner(pruned, example, importance=tp.importance.GroupMagnitudeImportance(p=2),
                                       pruning_ratio=1.0 - keep, ignored_layers=skip)
    pruner.step()
    return pruned.eval()


# --------------------------------------------------------------------------- MiniLM
def minilm_rows(n_calibration: int) -> list[dict]:
    from netgraph import apply_plan, calibrate, find_unit_groups, plan_reduction, zoo
    from netgraph.reduce.planning import select_groups

    model = zoo.load_model("minilm").eval()
    tokenizer = zoo.load_tokenizer()
    batches = zoo.calibration_batches("minilm", n_calibration, 64, seed=SEED)
    example = zoo.example_inputs("minilm")
    held_out = zoo.load_dataset("text").test[:600]
    reference = zoo.embed_sentences(model, tokenizer, held_out)

    def cosine(net: nn.Module) -> float:
        return float(F.cosine_similarity(zoo.embed_sentences(net, tokenizer, held_out), reference, dim=1).mean())

    case = f"MiniLM FFN keep 0.5, {n_calibration} sentences"
    forward = forward_seconds(model, batches, repeats=3)
    rows = [_row(case, "one forward pass", forward, forward)]
    chosen, _ = select_groups(find_unit_groups(model, example), "intermediate")
    _, seconds, peak = _timed(lambda: calibrate(model, batches, chosen))
    rows.append(_row(case, "netgraph.calibrate (statistics alone)", seconds, forward, peak_mb=peak))
    for sequential in (False, True):
        def plan_and_apply():
            plan = plan_reduction(model, example, keep=0.5, method="activation", fold="lstsq", calibration=batches,
                                  groups="intermediate", sequential=sequential, random_state=SEED)
            return apply_plan(model, plan)

        reduced, seconds, peak = _timed(plan_and_apply)
        rows.append(_row(case, f"plan + apply, sequential={sequential}", seconds, forward, peak_mb=peak,
                         cosine=cosine(reduced)))
    ignored = [n for n, m in model.named_modules() if isinstance(m, nn.Linear) and not n.endswith("intermediate.dense")]
    pruned, seconds, peak = _timed(lambda: _tp_magnitude(model, example, 0.5, ignored))
    rows.append(_row(case, "Torch-Pruning magnitude (data-free)", seconds, forward, peak_mb=peak, cosine=cosine(pruned)))
    return rows


# --------------------------------------------------------------------------- LeNet
def lenet_rows() -> list[dict]:
    from netgraph import apply_plan, plan_reduction, zoo

    model = zoo.load_model("lenet-300-100").eval()
    batches = zoo.calibration_batches("lenet-300-100", 1024, 128, seed=SEED)
    example = batches[0][:8]
    forward = forward_seconds(model, batches, repeats=5)
    case = "LeNet-300-100, data-free"
    rows = [_row(case, "one forward pass (1,024 samples)", forward, forward)]
    for keep in (0.5, 0.25):
        for method in ("sbm", "summarize", "embedding"):
            def plan_and_apply():
                plan = plan_reduction(model, example, keep=keep, method=method, fold="exact", random_state=SEED)
                return apply_plan(model, plan)

            _, seconds, peak = _timed(plan_and_apply)
            rows.append(_row(case, f"{method} keep {keep}", seconds, forward, peak_mb=peak, target_s=0.5,
                             status="PASS" if seconds <= 0.5 else "MISS"))
        _, seconds, peak = _timed(lambda: _tp_magnitude(model, example, keep, ["fc3"]))
        rows.append(_row(case, f"Torch-Pruning magnitude keep {keep}", seconds, forward, peak_mb=peak))
    return rows


# --------------------------------------------------------------------------- ViT-B/16
def vit_rows() -> list[dict]:
    from transformers import ViTConfig, ViTModel

    from netgraph import apply_plan, plan_reduction

    torch.manual_seed(SEED)
    model = ViTModel(ViTConfig(image_size=64, patch_size=16), add_pooling_layer=False).eval()
    generator = torch.Generator().manual_seed(SEED)
    images = torch.randn(64, 3, 64, 64, generator=generator)
    batches = [{"pixel_values": images[i:i + 16]} for i in range(0, 64, 16)]
    example = batches[0]
    case = "ViT-B/16 (random init, 64×64), FFN keep 0.5"
    forward = forward_seconds(model, batches, repeats=3)
    rows = [_row(case, "one forward pass (64 images)", forward, forward)]

    def plan_and_apply():
        plan = plan_reduction(model, example, keep=0.5, method="activation", fold="lstsq", calibration=batches,
                              groups="intermediate", random_state=SEED)
        return apply_plan(model, plan)

    _, seconds, peak = _timed(plan_and_apply)
    rows.append(_row(case, "activation/lstsq plan + apply", seconds, forward, peak_mb=peak, target_s=10.0,
                     status="PASS" if seconds <= 10.0 else "MISS"))
    ignored = [n for n, m in model.named_modules() if isinstance(m, nn.Linear) and not n.endswith("intermediate.dense")]
    _, seconds, peak = _timed(lambda: _tp_magnitude(model, example["pixel_values"], 0.5, ignored))
    rows.append(_row(case, "Torch-Pruning magnitude (data-free)", seconds, forward, peak_mb=peak))
    return rows


# --------------------------------------------------------------------------- CLI
def _netgraph() -> list[str]:
    script = Path(sys.executable).with_name("netgraph")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "netgraph_cli.main"]


def analyze_rows() -> list[dict]:
    """Wall time of the command, and the part after the model has loaded (stderr status lines
    are time-stamped as they arrive)."""
    with tempfile.TemporaryDirectory() as folder:
        command = [*_netgraph(), "analyze", "zoo:minilm", "--samples", "300", "--out", str(Path(folder) / "analysis")]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        loaded_at = None
        for line in process.stderr:
            if loaded_at is None and "Reading data" in line:
                loaded_at = time.perf_counter()
        process.wait()
        total = time.perf_counter() - started
    if process.returncode != 0:
        return [_row("netgraph analyze zoo:minilm --samples 300", f"failed (exit {process.returncode})", total, None)]
    after = None if loaded_at is None else total - (loaded_at - started)
    return [_row("netgraph analyze zoo:minilm --samples 300", "whole command", total, None),
            _row("netgraph analyze zoo:minilm --samples 300", "after the model is loaded", after or float("nan"), None,
                 target_s=10.0, status=None if after is None else ("PASS" if after <= 10.0 else "MISS"))]


def help_rows() -> list[dict]:
    from benchmarks.bench_startup import TARGET_SECONDS, time_runs

    seconds = time_runs([*_netgraph(), "--help"], 20)
    best, median = min(seconds), statistics.median(seconds)
    return [_row("netgraph --help (20 runs)", "min", best, None, target_s=TARGET_SECONDS,
                 status="PASS" if best < TARGET_SECONDS else "MISS"),
            _row("netgraph --help (20 runs)", "median", median, None)]


# --------------------------------------------------------------------------- main
def markdown(rows: list[dict]) -> str:
    lines = ["| case | work | seconds | ratio to one forward pass | peak MB | cosine | target |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        ratio = "–" if row.get("ratio_to_forward") is None else f"{row['ratio_to_forward']:.1f}×"
        peak = "–" if row.get("peak_mb") is None else f"{row['peak_mb']:.0f}"
        cosine = "–" if row.get("cosine") is None else f"{row['cosine']:.4f}"
        target = "–" if row.get("target_s") is None else f"≤ {row['target_s']:g} s: {row.get('status')}"
        lines.append(f"| {row['case']} | {row['work']} | {row['seconds']:.2f} | {ratio} | {peak} | {cosine} | {target} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES), help=f"comma-separated subset of {','.join(CASES)}")
    parser.add_argument("--quick", action="store_true", help="200 calibration sentences instead of 800")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {', '.join(CASES)}")
    builders = {"minilm": lambda: minilm_rows(200 if args.quick else 800), "lenet": lenet_rows, "vit": vit_rows,
                "analyze": analyze_rows, "help": help_rows}
    rows: list[dict] = []
    for name in names:
        new = builders[name]()
        rows += new
        print(markdown(new).split("\n", 2)[2], flush=True)
    result = {"machine": machine_info(), "quick": args.quick, "rows": rows}
    write_json(RESULTS_DIR / ("speed_quick.json" if args.quick else "speed.json"), result)
    print()
    print(markdown(rows))
    return result


if __name__ == "__main__":
    main()
