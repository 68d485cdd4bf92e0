"""CPU latency of original vs reduced models, in PyTorch and in onnxruntime, next to MACs.

Run: ``python -m benchmarks.bench_latency [--cases resnet18,minilm,cnn-digits] [--threads 1]
[--repeats 30] [--no-onnx]`` (about 5 minutes on 2 shared CPU cores; the ONNX exports take
most of it). Writes ``benchmarks/results/latency.json`` and prints a Markdown table.

Cases (each reduced data-free, ``method="magnitude"``, ``fold="none"``: latency depends on
the shapes, not on which units were kept):

* ``resnet18``   — a ResNet-18-shaped network (torchvision's layout, built here because the
  mirror has no CPU torchvision), one 3×224×224 image, keep 0.5 of every reducible
  channel group, ``round_to=8``;
* ``minilm``     — all-MiniLM-L6-v2, one sequence of 128 tokens, FFN groups keep 0.5,
  ``round_to=8``;
* ``cnn-digits`` — the zoo's digits CNN on one 8×8 image, keep 0.25, with and without
  ``round_to=8``: tiny, so its latency is fixed per-call overhead; the table reports that
  overhead instead of a ratio.

Latency is the median of interleaved runs (original, reduced, original, …) so load on a
shared machine hits both alike; PyTorch and onnxruntime use the same number of intra-op
threads (``--threads``). The target (issue 15): on the compute-bound cases the latency
ratio reduced/original is within 1.3× of the MACs ratio, in both runtimes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from benchmarks.common import RESULTS_DIR, SEED, machine_info, macs_and_params, paired_latency, write_json

TARGET_FACTOR = 1.3
#: Below this many MACs a model is overhead-bound: per-call costs, not arithmetic, set latency.
TINY_MACS = 5_000_000


# --------------------------------------------------------------------------- models
class _BasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + identity)


class ResNet18(nn.Module):
    """torchvision's resnet18 layout (stem 7×7/2 + max-pool, 2-2-2-2 basic blocks, 64-512)."""

    def __init__(self, n_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, inplanes = [], 64
        for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers.append(nn.Sequential(_BasicBlock(inplanes, planes, stride), _BasicBlock(planes, planes)))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(512, n_classes)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def _resnet18() -> tuple[nn.Module, Any]:
    torch.manual_seed(SEED)
    model = ResNet18().eval()
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():  # non-trivial BatchNorm statistics, as a trained network has
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2, generator=generator)
                module.running_var.uniform_(0.5, 1.5, generator=generator)
    return model, torch.randn(1, 3, 224, 224, generator=generator)


def _minilm() -> tuple[nn.Module, Any]:
    from netgraph import zoo

    model = zoo.load_model("minilm").eval()
    tokenizer = zoo.load_tokenizer()
    text = " ".join(zoo.calibration_sentences(64))
    batch = tokenizer([text], truncation=True, max_length=128, padding="max_length", return_tensors="pt")
    return model, {key: batch[key] for key in ("input_ids", "attention_mask", "token_type_ids") if key in batch}


def _cnn_digits() -> tuple[nn.Module, Any]:
    from netgraph import zoo

    return zoo.load_model("cnn-digits").eval(), zoo.example_inputs("cnn-digits", 1)


CASES = {
    "resnet18": {"build": _resnet18, "keep": 0.5, "round_to": (8,), "groups": None},
    "minilm": {"build": _minilm, "keep": 0.5, "round_to": (8,), "groups": "intermediate"},
    "cnn-digits": {"build": _cnn_digits, "keep": 0.25, "round_to": (1, 8), "groups": None},
}


# --------------------------------------------------------------------------- timing
def _onnx_latency(paths: dict[str, Path], batch: Any, threads: int, repeats: int, warmup: int = 3) -> dict[str, float]:
    """Median onnxruntime latency (ms) per file, runs interleaved like :func:`paired_latency`."""
    from netgraph.export import onnx_session, run_onnx

    sessions = {name: onnx_session(path, threads=threads) for name, path in paths.items()}
    samples: dict[str, list[float]] = {name: [] for name in sessions}
    for session in sessions.values():
        for _ in range(warmup):
            run_onnx(session, batch)
    for _ in range(repeats):
        for name, session in sessions.items():
            started = time.perf_counter()
            run_onnx(session, batch)
            samples[name].append((time.perf_counter() - started) * 1e3)
    return {name: statistics.median(values) for name, values in samples.items()}


def _reduce(model: nn.Module, example: Any, keep: float, round_to: int, groups: str | None) -> nn.Module:
    from netgraph import apply_plan, plan_reduction

    plan = plan_reduction(model, example, keep=keep, method="magnitude", fold="none", groups=groups,
                          random_state=SEED, round_to=round_to)
    return apply_plan(model, plan).eval()


def _widths(model: nn.Module) -> list[int]:
    return [m.out_channels if isinstance(m, nn.Conv2d) else m.out_features
            for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def run_case(name: str, *, threads: int, repeats: int, onnx: bool, folder: Path) -> list[dict]:
    spec = CASES[name]
    model, batch = spec["build"]()
    macs, params = macs_and_params(model, batch)
    rows = []
    for round_to in spec["round_to"]:
        reduced = _reduce(model, batch, spec["keep"], round_to, spec["groups"])
        reduced_macs, reduced_params = macs_and_params(reduced, batch)
        torch_ms = paired_latency({"original": model, "reduced": reduced}, batch, repeats=repeats)
        row: dict[str, Any] = {
            "case": name, "keep": spec["keep"], "round_to": round_to, "threads": threads, "repeats": repeats,
            "macs": macs, "reduced_macs": reduced_macs, "macs_ratio": reduced_macs / macs,
            "params": params, "reduced_params": reduced_params,
            "widths_multiple_of_8": all(w % 8 == 0 for w in _widths(reduced)),
            "torch_ms": torch_ms, "torch_ratio": torch_ms["reduced"] / torch_ms["original"],
            "overhead_bound": macs < TINY_MACS,
        }
        if onnx:
            from netgraph.export import export_onnx

            paths = {}
            for label, net in (("original", model), ("reduced", reduced)):
                paths[label] = export_onnx(net, batch, folder / f"{name}-{round_to}-{label}.onnx").path
            onnx_ms = _onnx_latency(paths, batch, threads, repeats)
            row["onnx_ms"] = onnx_ms
            row["onnx_ratio"] = onnx_ms["reduced"] / onnx_ms["original"]
        _judge(row)
        rows.append(row)
        print(_markdown_row(row), flush=True)
    return rows


def _judge(row: dict) -> None:
    """Compute-bound: latency ratio / MACs ratio within TARGET_FACTOR. Tiny: the fixed
    per-call overhead (the reduced model's latency, whose arithmetic is negligible)."""
    if row["overhead_bound"]:
        row["fixed_overhead_ms"] = {"torch": row["torch_ms"]["reduced"],
                                    **({"onnx": row["onnx_ms"]["reduced"]} if "onnx_ms" in row else {})}
        row["status"] = "overhead-bound"
        return
    factors = {"torch": row["torch_ratio"] / row["macs_ratio"]}
    if "onnx_ratio" in row:
        factors["onnx"] = row["onnx_ratio"] / row["macs_ratio"]
    row["latency_over_macs"] = factors
    row["status"] = "PASS" if all(f <= TARGET_FACTOR for f in factors.values()) else "MISS"


HEADER = ("| case | keep | round_to | MACs ratio | PyTorch ms orig → red | ratio | onnxruntime ms orig → red | ratio | "
          "verdict |\n|---|---|---|---|---|---|---|---|---|")


def _markdown_row(row: dict) -> str:
    def pair(ms: dict | None) -> str:
        return "–" if ms is None else f"{ms['original']:.2f} → {ms['reduced']:.2f}"

    onnx_ms = row.get("onnx_ms")
    if row["overhead_bound"]:
        overhead = row["fixed_overhead_ms"]
        verdict = "overhead-bound: " + ", ".join(f"{k} {v:.2f} ms/call" for k, v in overhead.items())
    else:
        verdict = f"{row['status']} (latency/MACs " + ", ".join(f"{k} {v:.2f}×" for k, v in row["latency_over_macs"].items()) + ")"
    onnx_ratio = f"{row['onnx_ratio']:.2f}" if "onnx_ratio" in row else "–"
    return (f"| {row['case']} | {row['keep']} | {row['round_to']} | {row['macs_ratio']:.2f} | {pair(row['torch_ms'])} | "
            f"{row['torch_ratio']:.2f} | {pair(onnx_ms)} | {onnx_ratio} | {verdict} |")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads for PyTorch and onnxruntime")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-onnx", action="store_true", help="PyTorch only (no export extra needed)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {', '.join(CASES)}")
    print(HEADER, flush=True)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            rows += run_case(name, threads=args.threads, repeats=args.repeats, onnx=not args.no_onnx, folder=Path(folder))
    result = {"machine": machine_info(), "threads": args.threads, "target_factor": TARGET_FACTOR, "rows": rows}
    write_json(RESULTS_DIR / "latency.json", result)
    return result


if __name__ == "__main__":
    main()
