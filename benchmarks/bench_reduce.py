"""One-shot reduction, side by side: netgraph methods × folds vs Torch-Pruning vs random.

Run: ``python -m benchmarks.bench_reduce [--quick] [--cases lenet,cnn,resnet,minilm]``
(full run about 15 minutes on 2 CPU cores, ``--quick`` — best methods, LeNet + CNN — about
3 minutes). Writes ``benchmarks/results/reduce.json`` (``reduce_quick.json`` with
``--quick``) and ``reduce.png``.

Cases (see ``/work/shared/BENCHMARKS.md``):

* ``lenet``  — LeNet-300-100 on the 5,000 MNIST digits, keep 0.5 / 0.25 / 0.1, test accuracy;
* ``cnn``    — digits CNN (conv-BN-ReLU ×2), keep 0.5 / 0.25 / 0.1, test accuracy;
* ``resnet`` — small residual digits CNN: shapes, MACs, test accuracy and argmax agreement
  with the original;
* ``minilm`` — all-MiniLM-L6-v2, FFN groups only (``intermediate``), keep 0.75 / 0.5 / 0.25,
  mean cosine of normalised mean-pooled sentence embeddings vs the original and retrieval
  agreement (10 nearest neighbours) on held-out real English (``zoo:text`` test split, 600
  sentences from its three sources), calibrated on 800 sentences of its train split.
  Cross-domain MiniLM figures are in ``bench_text.py``.

For every reduced model: fidelity, mean per-group error / rank-k SVD bound (with
calibration), params, MACs, safetensors bytes, median CPU latency reduced vs original
(interleaved runs) next to the MACs ratio, the tool's wall time (plan + apply) as a ratio
to one inference pass over the calibration data, and the peak RSS growth while reducing.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import (
    RESULTS_DIR,
    SEED,
    fmt,
    targets_markdown,
    forward_seconds,
    statistics_seconds,
    machine_info,
    macs_and_params,
    mean,
    measure,
    paired_latency,
    serialized_bytes,
    target_row,
    write_json,
)

ALL_METHODS = ("magnitude", "random", "activation", "dpp", "dpp-sample", "submodular", "sbm", "summarize", "embedding")
GRAPH_METHODS = ("dpp", "dpp-sample", "submodular", "sbm", "summarize", "embedding")
QUICK_METHODS = ("magnitude", "random", "activation", "submodular", "summarize", "embedding")
# (fold, uses calibration data)
FOLD_VARIANTS = (("none", False), ("exact", False), ("none", True), ("lstsq", True))
QUICK_FOLDS = (("exact", False), ("lstsq", True))

VISION = {
    "lenet": {"model": "lenet-300-100", "keeps": (0.5, 0.25, 0.1), "head": "fc3"},
    "cnn": {"model": "cnn-digits", "keeps": (0.5, 0.25, 0.1), "head": "fc"},
    "resnet": {"model": "resnet-digits", "keeps": (0.5, 0.25, 0.1), "head": "fc"},
}
MINILM_KEEPS = (0.75, 0.5, 0.25)
# MiniLM plans cost ~30-60 s each with calibration on 2 cores: a chosen subset per keep.
MINILM_PLAN = {
    0.75: [("magnitude", "exact", False), ("magnitude", "lstsq", True), ("activation", "lstsq", True)],
    0.5: [
        ("magnitude", "none", False), ("magnitude", "exact", False), ("activation", "exact", False),
        ("random", "lstsq", True), ("magnitude", "lstsq", True), ("activation", "none", True),
        ("activation", "lstsq", True), ("dpp", "lstsq", True), ("submodular", "lstsq", True),
        ("summarize", "lstsq", True),
    ],
    0.25: [("magnitude", "exact", False), ("magnitude", "lstsq", True), ("activation", "lstsq", True)],
}
MINILM_QUICK = {0.5: [("magnitude", "exact", False), ("activation", "lstsq", True)]}
N_CALIBRATION = 512
N_MINILM_CALIBRATION = 800  # zoo:text train split, the three sources interleaved
N_MINILM_EVALUATION = 600  # zoo:text test split, the three sources interleaved


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Torch-Pruning baseline --------------------------------------------------------------
def tp_prune(model: nn.Module, example: Any, keep: float, *, importance: str, ignored: Callable[[nn.Module], list],
             grad_fn: Callable[[nn.Module], torch.Tensor] | None = None) -> nn.Module:
    """Torch-Pruning's own pruner at the same keep fraction, on a deep copy."""
    import torch_pruning as tp

    pruned = copy.deepcopy(model).eval()
    if importance == "magnitude":
        imp = tp.importance.GroupMagnitudeImportance(p=2)
    elif importance == "taylor":
        imp = tp.importance.GroupTaylorImportance()
    else:
        raise ValueError(importance)
    pruner = tp.pruner.MagnitudePruner(pruned, example, importance=imp, pruning_ratio=1.0 - keep,
                                       ignored_layers=ignored(pruned))
    if importance == "taylor":
        assert grad_fn is not None
        pruned.zero_grad()
        grad_fn(pruned).backward()
    pruner.step()
    pruned.zero_grad(set_to_none=True)
    return pruned.eval()


# --- shared measurement of one reduced model -------------------------------------------
class Case:
    """The original model of one case and everything measured on it once."""

    def __init__(self, name: str, model: nn.Module, example: Any, calibration: list, latency_batch: Any,
                 fidelity: Callable[[nn.Module], dict], metric: str, groups: str | None = None) -> None:
        self.name, self.model, self.example, self.calibration = name, model, example, calibration
        self.latency_batch, self.fidelity, self.metric, self.groups = latency_batch, fidelity, metric, groups
        self.calibration_pass_s = forward_seconds(model, calibration)
        self.statistics_pass_s = statistics_seconds(model, example, calibration, groups)
        self.macs, self.params = macs_and_params(model, latency_batch)
        self.bytes = serialized_bytes(model)
        self.original = fidelity(model)
        self._sizes: dict[tuple, dict] = {}
        self.rows: list[dict] = []

    def sizes(self, reduced: nn.Module) -> dict:
        """Params, MACs, bytes and paired latency — once per distinct architecture."""
        key = tuple((k, tuple(v.shape)) for k, v in reduced.state_dict().items())
        if key not in self._sizes:
            macs, params = macs_and_params(reduced, self.latency_batch)
            size = serialized_bytes(reduced)
            latency = paired_latency({"original": self.model, "reduced": reduced}, self.latency_batch)
            self._sizes[key] = {
                "params": params, "macs": macs, "bytes": size,
                "params_ratio": params / self.params, "macs_ratio": macs / self.macs, "bytes_ratio": size / self.bytes,
                "latency_ms": latency["reduced"], "latency_original_ms": latency["original"],
                "latency_ratio": latency["reduced"] / latency["original"],
            }
        return self._sizes[key]

    def record(self, keep: float, tool: str, method: str, fold: str, data: str, build: Callable[[], Any],
               **extra: Any) -> dict:
        label = f"{self.name} keep={keep} {tool}:{method}/{fold} ({data})"
        row: dict[str, Any] = {"case": self.name, "keep": keep, "tool": tool, "method": method, "fold": fold,
                               "data": data, **extra}
        try:
            result, seconds, peak = measure(build)
        except Exception as error:  # noqa: BLE001 - a failing variant is a finding, not a crash
            row["error"] = f"{type(error).__name__}: {error}"[:500]
            log(f"  {label}: ERROR {row['error']}")
            self.rows.append(row)
            return row
        plan, reduced = result if isinstance(result, tuple) else (None, result)
        row.update({"tool_s": seconds, "tool_ratio": seconds / self.calibration_pass_s,
                    "tool_ratio_statistics": seconds / self.statistics_pass_s, "peak_rss_mb": peak})
        if plan is not None:
            summary = plan.summary()
            row["svd_ratio_mean"] = mean([r.get("svd_ratio") for r in summary])
            row["output_error_mean"] = mean([r.get("output_error") for r in summary])
            row["groups"] = [
                {k: r.get(k) for k in ("group", "units", "kept", "output_error", "unit_error", "svd_bound", "svd_ratio")}
                for r in summary
            ]
            row["timings"] = dict(plan.timings)
        row.update(self.fidelity(reduced))
        row["fidelity_drop"] = self.original[self.metric] - row[self.metric]
        row.update(self.sizes(reduced))
        log(f"  {label}: {self.metric}={row[self.metric]:.4f} svd={fmt(row.get('svd_ratio_mean'), 2)} "
            f"tool={seconds:.2f}s ({row['tool_ratio']:.1f}x pass) lat={row['latency_ratio']:.2f} macs={row['macs_ratio']:.2f}")
        self.rows.append(row)
        return row

    def netgraph(self, keep: float, method: str, fold: str, data: bool, *, sequential: bool = True) -> dict:
        import netgraph

        def build():
            plan = netgraph.plan_reduction(
                self.model, self.example, keep=keep, method=method, fold=fold,
                calibration=self.calibration if data else None, groups=self.groups, sequential=sequential,
                random_state=SEED,
            )
            return plan, netgraph.apply_plan(self.model, plan)

        return self.record(keep, "netgraph", method, fold, "calibration" if data else "free", build,
                           sequential=sequential)

    def to_dict(self) -> dict:
        return {
            "case": self.name, "metric": self.metric, "original": self.original,
            "params": self.params, "macs": self.macs, "bytes": self.bytes,
            "calibration_pass_s": self.calibration_pass_s, "statistics_pass_s": self.statistics_pass_s,
            "calibration_batches": len(self.calibration),
            "rows": self.rows,
        }


# --- vision cases ------------------------------------------------------------------------
def vision_case(key: str, methods: tuple[str, ...], folds: tuple, quick: bool) -> Case:
    from netgraph import zoo

    spec = VISION[key]
    name = spec["model"]
    recipe = zoo.RECIPES[name]
    splits = zoo.load_dataset(recipe.dataset, as_images=recipe.as_images)
    model = zoo.load_model(name)
    X_test, y_test = splits.test.tensors
    with torch.inference_mode():
        reference = model(X_test).argmax(1)

    def fidelity(net: nn.Module) -> dict:
        with torch.inference_mode():
            predicted = net.eval()(X_test).argmax(1)
        return {"accuracy": float((predicted == y_test).float().mean()),
                "agreement": float((predicted == reference).float().mean())}

    calibration = zoo.calibration_batches(name, N_CALIBRATION, 128, seed=SEED)
    case = Case(key, model, zoo.example_inputs(name), calibration, X_test[:256], fidelity, "accuracy")
    log(f"{key}: original accuracy {case.original['accuracy']:.4f}, calibration pass {case.calibration_pass_s * 1e3:.1f} ms")
    X_train, y_train = splits.train.tensors
    head = spec["head"]

    def ignored(net: nn.Module) -> list:
        return [getattr(net, head)]

    def taylor_loss(net: nn.Module) -> torch.Tensor:
        return F.cross_entropy(net(X_train[:N_CALIBRATION]), y_train[:N_CALIBRATION])

    for keep in spec["keeps"]:
        for importance in ("magnitude", "taylor"):
            case.record(keep, "torch-pruning", importance, "-", "free" if importance == "magnitude" else "labels",
                        lambda imp=importance: tp_prune(model, case.example, keep, importance=imp, ignored=ignored,
                                                        grad_fn=taylor_loss))
        for method in methods:
            for fold, data in folds:
                if method == "random" and not data and fold == "exact" and quick:
                    continue
                case.netgraph(keep, method, fold, data)
    if key == "resnet":
        for row in case.rows:
            row["shapes"] = None
        # shapes of the reduced convolutions for the record (one example per keep)
        import netgraph

        for keep in spec["keeps"]:
            plan = netgraph.plan_reduction(model, case.example, keep=keep, method="activation", fold="lstsq",
                                           calibration=calibration, random_state=SEED)
            reduced = netgraph.apply_plan(model, plan)
            case.rows.append({
                "case": key, "keep": keep, "tool": "netgraph", "method": "activation", "fold": "lstsq",
                "data": "calibration", "kind": "shapes",
                "shapes": {n: list(m.weight.shape) for n, m in reduced.named_modules() if isinstance(m, nn.Conv2d)},
                "skipped_groups": plan.parameters.get("skipped_groups"),
            })
            pruned = tp_prune(model, case.example, keep, importance="magnitude", ignored=ignored)
            case.rows.append({
                "case": key, "keep": keep, "tool": "torch-pruning", "method": "magnitude", "fold": "-",
                "data": "free", "kind": "shapes",
                "shapes": {n: list(m.weight.shape) for n, m in pruned.named_modules() if isinstance(m, nn.Conv2d)},
            })
    return case


# --- MiniLM FFN ----------------------------------------------------------------------------
def minilm_case(quick: bool, methods: tuple[str, ...] | None = None) -> Case:
    from netgraph import zoo

    model = zoo.load_model("minilm")
    tokenizer = zoo.load_tokenizer()
    held_out = zoo.load_dataset("text").test[:N_MINILM_EVALUATION]
    reference = zoo.embed_sentences(model, tokenizer, held_out)

    def fidelity(net: nn.Module) -> dict:
        embedded = zoo.embed_sentences(net, tokenizer, held_out)
        cosine = F.cosine_similarity(embedded, reference, dim=1)
        from netgraph.fidelity import retrieval_agreement

        return {"cosine": float(cosine.mean()), "cosine_min": float(cosine.min()),
                "retrieval": retrieval_agreement(reference, embedded)}

    calibration = zoo.calibration_batches("minilm", N_MINILM_CALIBRATION, 64, seed=SEED)
    latency_batch = zoo.encode_sentences(tokenizer, held_out[:64])
    case = Case("minilm", model, zoo.example_inputs("minilm"), calibration, latency_batch, fidelity, "cosine",
                groups=r"intermediate")
    log(f"minilm: {len(held_out)} held-out sentences, calibration pass {case.calibration_pass_s:.2f} s")

    def ignored(net: nn.Module) -> list:
        # Torch-Pruning may then only prune the FFN intermediate channels: like for like.
        return [m for n, m in net.named_modules() if isinstance(m, nn.Linear) and not n.endswith("intermediate.dense")]

    plan = MINILM_QUICK if quick else MINILM_PLAN
    for keep in MINILM_KEEPS:
        if keep not in plan:
            continue
        case.record(keep, "torch-pruning", "magnitude", "-", "free",
                    lambda: tp_prune(model, case.example, keep, importance="magnitude", ignored=ignored))
        for method, fold, data in plan[keep]:
            if methods is not None and method not in methods:
                continue
            case.netgraph(keep, method, fold, data)
        if keep == 0.5:
            case.netgraph(keep, "activation", "lstsq", True, sequential=False)
    return case


# --- targets, tables, plot ------------------------------------------------------------------
def _rows(cases: dict, key: str, keep: float, **match: Any) -> list[dict]:
    if key not in cases:
        return []
    return [r for r in cases[key]["rows"]
            if r.get("keep") == keep and "error" not in r and r.get("kind") != "shapes"
            and all((r.get(k) in v) if isinstance(v, tuple) else r.get(k) == v for k, v in match.items())]


def _best(rows: list[dict], metric: str) -> dict | None:
    rows = [r for r in rows if r.get(metric) is not None]
    return max(rows, key=lambda r: r[metric]) if rows else None


def targets(cases: dict) -> list[dict]:
    out = []

    def value(row, metric):
        return None if row is None else row[metric]

    if "minilm" in cases:
        c = cases["minilm"]
        best = _best(_rows(cases, "minilm", 0.5, tool="netgraph", sequential=True), "cosine")
        tp_row = _best(_rows(cases, "minilm", 0.5, tool="torch-pruning"), "cosine")
        out.append(target_row("MiniLM FFN keep 0.5 one-shot mean cosine", value(best, "cosine"), ">= 0.97",
                              None if best is None else best["cosine"] >= 0.97,
                              f"TP magnitude {fmt(value(tp_row, 'cosine'))} (expected ≈ 0.74); best = "
                              f"{best and best['method']}/{best and best['fold']}"))
        if best is not None:
            out.append(target_row("MiniLM plan+apply / one calibration pass", best["tool_ratio"], "<= 3x",
                                  best["tool_ratio"] <= 3.0,
                                  f"{best['tool_s']:.1f} s vs forward pass {c['calibration_pass_s']:.2f} s "
                                  f"({best['method']}/{best['fold']}, sequential); vs one netgraph.calibrate "
                                  f"pass ({c.get('statistics_pass_s', float('nan')):.2f} s): "
                                  f"{best.get('tool_ratio_statistics', float('nan')):.1f}x"))
        par = _best(_rows(cases, "minilm", 0.5, tool="netgraph", sequential=False), "cosine")
        if par is not None:
            out.append(target_row("MiniLM keep 0.5 sequential=False (info)", par["cosine"], "-", None,
                                  f"tool ratio {par['tool_ratio']:.1f}x forward pass, "
                                  f"{par.get('tool_ratio_statistics', float('nan')):.1f}x calibrate pass"))
    if "lenet" in cases:
        orig = cases["lenet"]["original"]["accuracy"]
        for keep, points, ref in ((0.25, 1.0, "46–56 %"), (0.1, 3.0, "19–24 %")):
            best = _best(_rows(cases, "lenet", keep, tool="netgraph"), "accuracy")
            tp_row = _best(_rows(cases, "lenet", keep, tool="torch-pruning", method="magnitude"), "accuracy")
            out.append(target_row(f"LeNet keep {keep} best one-shot accuracy", value(best, "accuracy"),
                                  f">= original - {points:g} pt ({orig - points / 100:.3f})",
                                  None if best is None else best["accuracy"] >= orig - points / 100 - 1e-9,
                                  f"TP magnitude {fmt(value(tp_row, 'accuracy'))} (expected {ref}); best = "
                                  f"{best and best['method']}/{best and best['fold']}"))
        best = _best(_rows(cases, "lenet", 0.25, tool="netgraph", data="free", method=GRAPH_METHODS), "accuracy")
        out.append(target_row("LeNet keep 0.25 data-free best graph method", value(best, "accuracy"), ">= 0.85",
                              None if best is None else best["accuracy"] >= 0.85,
                              f"{best and best['method']}/{best and best['fold']}"))
    if "cnn" in cases:
        orig = cases["cnn"]["original"]["accuracy"]
        best = _best(_rows(cases, "cnn", 0.5, tool="netgraph"), "accuracy")
        tp5 = _best(_rows(cases, "cnn", 0.5, tool="torch-pruning", method="magnitude"), "accuracy")
        out.append(target_row("CNN keep 0.5 best one-shot accuracy", value(best, "accuracy"),
                              f">= original - 1 pt ({orig - 0.01:.3f})",
                              None if best is None else best["accuracy"] >= orig - 0.01 - 1e-9,
                              f"TP magnitude {fmt(value(tp5, 'accuracy'))} (expected 18 %)"))
        best = _best(_rows(cases, "cnn", 0.25, tool="netgraph"), "accuracy")
        tp25 = _best(_rows(cases, "cnn", 0.25, tool="torch-pruning", method="magnitude"), "accuracy")
        out.append(target_row("CNN keep 0.25 best one-shot accuracy", value(best, "accuracy"), ">= 0.93",
                              None if best is None else best["accuracy"] >= 0.93,
                              f"TP magnitude {fmt(value(tp25, 'accuracy'))} (expected 19 %)"))
    # best graph method's per-group error vs the SVD bound, with calibration (lstsq)
    ratios = []
    for key in cases:
        for row in cases[key]["rows"]:
            if row.get("method") in GRAPH_METHODS and row.get("data") == "calibration" and row.get("svd_ratio_mean"):
                ratios.append((row["svd_ratio_mean"], f"{key} keep {row['keep']} {row['method']}/{row['fold']}"))
    if ratios:
        low = min(ratios)
        out.append(target_row("best graph method mean per-group error / SVD bound", low[0], "<= 1.15",
                              low[0] <= 1.15, low[1]))
    return out


def headline(cases: dict) -> list[dict]:
    """One row per (case, keep): original, Torch-Pruning, random, best netgraph (free / calibrated)."""
    table = []
    for key, c in cases.items():
        metric = c["metric"]
        keeps = sorted({r["keep"] for r in c["rows"] if "keep" in r}, reverse=True)
        for keep in keeps:
            rows = _rows(cases, key, keep)
            tp_mag = _best([r for r in rows if r["tool"] == "torch-pruning" and r["method"] == "magnitude"], metric)
            tp_tay = _best([r for r in rows if r["tool"] == "torch-pruning" and r["method"] == "taylor"], metric)
            rnd = _best([r for r in rows if r["tool"] == "netgraph" and r["method"] == "random"], metric)
            free = _best([r for r in rows if r["tool"] == "netgraph" and r["data"] == "free"], metric)
            calib = _best([r for r in rows if r["tool"] == "netgraph" and r["data"] == "calibration"
                           and r.get("sequential", True)], metric)

            def v(row):
                return None if row is None else row[metric]

            def label(row):
                return None if row is None else f"{row['method']}/{row['fold']}"

            ref = calib or free
            table.append({
                "case": key, "keep": keep, "metric": metric, "original": c["original"][metric],
                "tp_magnitude": v(tp_mag), "tp_taylor": v(tp_tay), "random": v(rnd), "random_how": label(rnd),
                "netgraph_free": v(free), "netgraph_free_how": label(free),
                "netgraph_calibrated": v(calib), "netgraph_calibrated_how": label(calib),
                "svd_ratio": None if calib is None else calib.get("svd_ratio_mean"),
                "params_ratio": None if ref is None else ref["params_ratio"],
                "macs_ratio": None if ref is None else ref["macs_ratio"],
                "latency_ratio": None if ref is None else ref["latency_ratio"],
                "bytes_ratio": None if ref is None else ref["bytes_ratio"],
                "tool_ratio": None if calib is None else calib["tool_ratio"],
                "tool_s": None if calib is None else calib["tool_s"],
                "peak_rss_mb": None if calib is None else calib["peak_rss_mb"],
            })
    return table


def markdown(table: list[dict], target_rows: list[dict]) -> str:
    lines = [
        "| case | keep | metric | original | Torch-Pruning magnitude | TP Taylor | random | netgraph data-free (best) "
        "| netgraph calibrated (best) | error / SVD bound | MACs ratio | latency ratio | bytes ratio | tool time / calib pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['case']} | {r['keep']} | {r['metric']} | {fmt(r['original'])} | {fmt(r['tp_magnitude'])} "
            f"| {fmt(r['tp_taylor'])} | {fmt(r['random'])} "
            f"| {fmt(r['netgraph_free'])} ({r['netgraph_free_how'] or '–'}) "
            f"| {fmt(r['netgraph_calibrated'])} ({r['netgraph_calibrated_how'] or '–'}) "
            f"| {fmt(r['svd_ratio'], 2)} | {fmt(r['macs_ratio'], 2)} | {fmt(r['latency_ratio'], 2)} "
            f"| {fmt(r['bytes_ratio'], 2)} | {fmt(r['tool_ratio'], 0)}× |"
        )
    lines += targets_markdown(target_rows)
    return "\n".join(lines) + "\n"


def plot(cases: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in cases if any(r.get("kind") != "shapes" for r in cases[k]["rows"])]
    if not keys:
        return
    fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys), 3.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        c = cases[key]
        metric = c["metric"]
        rows = [r for r in c["rows"] if "error" not in r and r.get("kind") != "shapes" and r.get("sequential", True)]
        series: dict[str, dict[float, float]] = {}
        for r in rows:
            if r["tool"] == "torch-pruning":
                name = f"TP {r['method']}"
            else:
                name = f"{r['method']} ({'calib ' if r['data'] == 'calibration' else 'free '}{r['fold']})"
            series.setdefault(name, {})[r["keep"]] = r[metric]
        # keep the plot readable: Torch-Pruning, random, and the best few netgraph series
        ranked = sorted((n for n in series if not n.startswith("TP")), key=lambda n: -sum(series[n].values()) / len(series[n]))
        chosen = [n for n in series if n.startswith("TP")] + ranked[:5] + [n for n in ranked if n.startswith("random") and "lstsq" in n][:1]
        for name in dict.fromkeys(chosen):
            points = sorted(series[name].items())
            style = "--" if name.startswith("TP") else "-"
            ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", label=name)
        ax.axhline(c["original"][metric], color="k", lw=0.8, ls=":", label="original")
        ax.set_title(key)
        ax.set_xlabel("fraction of units kept")
        ax.set_ylabel(metric)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="best methods, LeNet + CNN only (~3 minutes)")
    parser.add_argument("--cases", default=None, help="comma-separated subset of lenet,cnn,resnet,minilm")
    parser.add_argument("--methods", default=None, help="comma-separated subset of netgraph methods")
    parser.add_argument("--output", default=None, help="result JSON path (default results/reduce[_quick].json)")
    args = parser.parse_args(argv)
    torch.manual_seed(SEED)
    default_cases = "lenet,cnn" if args.quick else "lenet,cnn,resnet,minilm"
    keys = [k.strip() for k in (args.cases or default_cases).split(",") if k.strip()]
    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods else (
        QUICK_METHODS if args.quick else ALL_METHODS)
    folds = QUICK_FOLDS if args.quick else FOLD_VARIANTS
    started = time.perf_counter()
    cases: dict[str, dict] = {}
    stem = "reduce_quick" if args.quick else "reduce"
    output = args.output or RESULTS_DIR / f"{stem}.json"
    payload: dict[str, Any] = {"benchmark": "reduce", "quick": args.quick, "machine": machine_info(), "seed": SEED,
                               "methods": list(methods), "folds": [list(f) for f in folds], "cases": cases}
    for key in keys:
        case_started = time.perf_counter()
        if key == "minilm":
            case = minilm_case(args.quick, None if args.methods is None else methods)
        elif key in VISION:
            case = vision_case(key, methods, folds, args.quick)
        else:
            parser.error(f"unknown case {key!r}")
        cases[key] = case.to_dict()
        cases[key]["wall_s"] = time.perf_counter() - case_started
        payload["headline"] = headline(cases)
        payload["targets"] = targets(cases)
        payload["wall_s"] = time.perf_counter() - started
        write_json(output, payload)  # after each case, so a partial run still leaves results
        log(f"{key}: done in {cases[key]['wall_s']:.0f} s")
    plot(cases, RESULTS_DIR / f"{stem}.png")
    table = markdown(payload["headline"], payload["targets"])
    payload["markdown"] = table
    write_json(output, payload)
    print(table)
    print(f"wall time {payload['wall_s']:.0f} s; wrote {output}")
    return payload


if __name__ == "__main__":
    main()
