"""Which architectures reduce: netgraph beside Torch-Pruning on every family of the coverage suite.

Run: ``python -m benchmarks.bench_coverage`` (writes ``benchmarks/results/coverage.json``
and prints a Markdown table). ``--families vgg,gpt2`` runs a subset.

Each family (``tests/coverage/families.py``: small random-initialised builds of the
torchvision / timm / Hugging Face families from their public definitions) is reduced at
``keep=0.5`` four ways, one after the other in one process, each under a time limit:

- Torch-Pruning's ``MagnitudePruner`` with ``GroupMagnitudeImportance`` (pruning ratio 0.5,
  the output layer ignored), and, where the model has attention, its documented head
  recipe (``num_heads`` per q/k/v projection, ``prune_num_heads=True``,
  ``prune_head_dims=False``, ``head_pruning_ratio=0.5``);
- netgraph data-free (``magnitude`` / ``fold="none"``) and calibrated (``activation`` /
  ``fold="lstsq"``, defaults otherwise) on 4 batches of 8 random inputs.

Reported per case: success (a forward pass of the reduced model with the original's
output shape), parameters kept (reduced / original) and seconds (plan + apply). The time of
one forward pass over the calibration batches is reported beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from benchmarks.common import RESULTS_DIR, machine_info, write_json

RESULT = RESULTS_DIR / "coverage.json"
FAMILIES_FILE = Path(__file__).resolve().parents[1] / "tests" / "coverage" / "families.py"
TIME_LIMIT_S = 60


def load_families():
    name = "netgraph_coverage_families"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FAMILIES_FILE)
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


class _TimeLimit(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    def on_alarm(signum, frame):
        raise _TimeLimit(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _attention_heads(model: nn.Module) -> dict[nn.Module, int]:
    """Torch-Pruning's head recipe: the number of heads of each q/k/v projection."""
    heads: dict[nn.Module, int] = {}
    for module in model.modules():
        config = getattr(module, "config", None)
        if hasattr(module, "q_proj") and config is not None:
            n_heads = config.num_attention_heads
            n_kv = getattr(config, "num_key_value_heads", n_heads) or n_heads
            heads.update({module.q_proj: n_heads, module.k_proj: n_kv, module.v_proj: n_kv})
        elif hasattr(module, "query") and hasattr(module, "num_attention_heads"):
            heads.update({module.query: module.num_attention_heads, module.key: module.num_attention_heads,
                          module.value: module.num_attention_heads})
        elif hasattr(module, "qkv") and hasattr(module, "heads"):
            heads[module.qkv] = module.heads
        elif hasattr(module, "c_attn") and hasattr(module, "num_heads"):
            heads[module.c_attn] = module.num_heads
    return heads


def _output_layer(model: nn.Module) -> list[nn.Module]:
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    last = linears[-1:] if linears else convs[-1:]
    return last


def torch_pruning_case(model: nn.Module, example: Any, heads: bool) -> nn.Module:
    import torch_pruning as tp

    model = copy.deepcopy(model)
    kwargs: dict[str, Any] = {}
    if heads:
        kwargs = dict(num_heads=_attention_heads(model), prune_num_heads=True, prune_head_dims=False,
                      head_pruning_ratio=0.5)
    with torch.enable_grad():
        pruner = tp.pruner.MagnitudePruner(
            model, example, importance=tp.importance.GroupMagnitudeImportance(p=2), pruning_ratio=0.5,
            ignored_layers=_output_layer(model), **kwargs,
        )
        pruner.step()
    _update_attention_attributes(model, pruner)
    return model


def _update_attention_attributes(model: nn.Module, pruner) -> None:
    """The recipe's last step (Torch-Pruning's examples): attention modules read their head
    count and width from attributes, which pruning does not change."""
    heads = getattr(pruner, "num_heads", {})
    for module in model.modules():
        if hasattr(module, "query") and hasattr(module, "all_head_size"):
            module.num_attention_heads = heads.get(module.query, module.num_attention_heads)
            module.attention_head_size = module.query.out_features // module.num_attention_heads
            module.all_head_size = module.query.out_features
        elif hasattr(module, "qkv") and hasattr(module, "heads"):
            module.heads = heads.get(module.qkv, module.heads)


def netgraph_case(model: nn.Module, example: Any, batches: list | None) -> nn.Module:
    from netgraph import apply_plan, plan_reduction

    if batches is None:
        plan = plan_reduction(model, example, keep=0.5, method="magnitude", fold="none")
    else:
        plan = plan_reduction(model, example, keep=0.5, method="activation", fold="lstsq", calibration=batches)
    return apply_plan(model, plan)


def run_case(function: Callable[[], nn.Module], model: nn.Module, example: Any, limit: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with time_limit(limit), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reduced = function()
            with torch.no_grad():
                out, expected = reduced(example), model(example)
        if tuple(out.shape) != tuple(expected.shape):
            raise RuntimeError(f"output shape {tuple(out.shape)} != {tuple(expected.shape)}")
        return {"ok": True, "kept": _params(reduced) / _params(model), "seconds": time.perf_counter() - started}
    except BaseException as error:  # noqa: BLE001 - every failure is a row in the table
        if isinstance(error, KeyboardInterrupt):
            raise
        message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]
        return {"ok": False, "error": message, "seconds": time.perf_counter() - started}


def _build(families, name: str) -> tuple[nn.Module, Any, list]:
    if name == "vgg11_bn_full":  # torchvision's size, 64×64 images as in issue 11
        torch.manual_seed(0)
        model = families.vgg11_bn_full().eval()
        generator = torch.Generator().manual_seed(1)
        images = [torch.randn(8, 3, 64, 64, generator=generator) for _ in range(5)]
        return model, images[0], images[1:]
    model, kind = families.build(name)
    return model, families.inputs(kind), [families.inputs(kind, 8, seed=seed) for seed in range(1, 5)]


def run(names: list[str], limit: float) -> list[dict[str, Any]]:
    families = load_families()
    rows = []
    for name in names:
        model, example, batches = _build(families, name)
        with torch.no_grad():
            started = time.perf_counter()
            for batch in batches:
                model(batch)
            forward_s = time.perf_counter() - started
        row: dict[str, Any] = {"family": name, "params": _params(model), "forward_s": forward_s}
        row["torch_pruning"] = run_case(lambda: torch_pruning_case(model, example, False), model, example, limit)
        if _attention_heads(model):
            row["torch_pruning_heads"] = run_case(lambda: torch_pruning_case(model, example, True), model, example, limit)
        row["netgraph_data_free"] = run_case(lambda: netgraph_case(model, example, None), model, example, limit)
        row["netgraph_calibrated"] = run_case(lambda: netgraph_case(model, example, batches), model, example, limit)
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _cell(case: dict[str, Any] | None) -> str:
    if case is None:
        return "—"
    if not case["ok"]:
        return f"fails ({case['error'].split(':')[0]})"
    return f"{case['kept']:.2f} ({case['seconds']:.2f} s)"


def _line(row: dict[str, Any]) -> str:
    cells = [row["family"], f"{row['params']:,}", _cell(row["torch_pruning"]), _cell(row.get("torch_pruning_heads")),
             _cell(row["netgraph_data_free"]), _cell(row["netgraph_calibrated"]), f"{row['forward_s']:.3f}"]
    return "| " + " | ".join(cells) + " |"


def markdown(rows: list[dict[str, Any]]) -> str:
    header = [
        "| family | params | Torch-Pruning magnitude | Torch-Pruning + heads | netgraph data-free (magnitude/none) "
        "| netgraph calibrated (activation/lstsq) | forward over calibration (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    counts = {key: sum(bool(r.get(key, {}).get("ok")) for r in rows)
              for key in ("torch_pruning", "torch_pruning_heads", "netgraph_data_free", "netgraph_calibrated")}
    best_tp = sum(bool(r["torch_pruning"]["ok"] or r.get("torch_pruning_heads", {}).get("ok")) for r in rows)
    footer = (
        f"\nParameters kept at keep=0.5 (seconds for plan + apply). Reduced: Torch-Pruning {counts['torch_pruning']}/"
        f"{len(rows)} ({best_tp} with its head recipe), netgraph data-free {counts['netgraph_data_free']}/{len(rows)}, "
        f"calibrated {counts['netgraph_calibrated']}/{len(rows)}."
    )
    return "\n".join(header + [_line(r) for r in rows]) + footer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=None, help="comma-separated subset (default: all)")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_S, help="seconds per case")
    parser.add_argument("--large", action="store_true", help="add torchvision-size VGG-11-BN (133 M parameters)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    families = load_families()
    names = args.families.split(",") if args.families else list(families.FAMILIES)
    if args.large:
        names.append("vgg11_bn_full")
    rows = run(names, args.time_limit)
    table = markdown(rows)
    write_json(RESULT, {"machine": machine_info(), "keep": 0.5, "time_limit_s": args.time_limit, "rows": rows,
                        "markdown": table})
    print(table)


if __name__ == "__main__":
    main()
