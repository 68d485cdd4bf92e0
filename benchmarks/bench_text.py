"""MiniLM on real text: held-out and cross-domain fidelity, specialisation, mixing, defaults.

Run: ``python -m benchmarks.bench_text [--quick] [--sections ...]``. Writes
``benchmarks/results/text.json`` (``text_quick.json`` with ``--quick``), ``text.md`` and
``text_mixture.png``.

Every row names its calibration data and every score its evaluation data; all scores are
on *test* splits that no calibration saw. Data (``netgraph.zoo``):

* ``text`` — real English, three sources (``python-docs``, ``api-docs``, ``kjv``);
  calibration draws from the train splits, evaluation from the test splits;
* ``synthetic`` — the template sentences (``zoo:synthetic-sentences``), the narrow
  calibration set the README used before.

Model: all-MiniLM-L6-v2, FFN groups (``intermediate``), ``activation`` selection +
``lstsq`` fold unless a row says otherwise. Scores: mean cosine of normalised mean-pooled
sentence embeddings vs the original, and retrieval agreement (overlap of each sentence's
10 nearest neighbours among the evaluation sentences, before vs after).

Sections: ``domains`` (calibrate on each source / on synthetic, score on every source —
the cross-domain matrix and the specialisation check), ``mixture`` (calibration mixed with
reference text at several weights), ``defaults`` (sequential, ridge, methods, calibration
size, global budget — one shared statistics pass where the setting allows it).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import torch

from benchmarks.common import RESULTS_DIR, SEED, machine_info, write_json

N_CALIBRATION = 160  # sentences per calibration set
N_EVALUATION = 80  # held-out test sentences per source
BATCH = 48
GROUPS = r"intermediate"
SOURCES = ("python-docs", "api-docs", "kjv")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Bench:
    """The original model, tokenised data and original embeddings, computed once."""

    def __init__(self, n_calibration: int, n_evaluation: int) -> None:
        from netgraph import zoo

        self.zoo = zoo
        self.model = zoo.load_model("minilm")
        self.tokenizer = zoo.load_tokenizer()
        self.n_calibration = n_calibration
        self.train = {source: zoo.load_english_text("train", source) for source in SOURCES}
        self.train["text"] = zoo.load_english_text("train")
        self.train["synthetic"] = list(zoo.load_dataset("synthetic-sentences").train)
        self.test = {source: zoo.load_english_text("test", source)[:n_evaluation] for source in SOURCES}
        self.test["synthetic"] = list(zoo.load_dataset("synthetic-sentences").test)[:n_evaluation]
        self.original = {name: self.embed(self.model, sentences) for name, sentences in self.test.items()}
        self.example = zoo.encode_sentences(self.tokenizer, self.test["kjv"][:4])
        self.rows: list[dict[str, Any]] = []

    def embed(self, model, sentences: list[str]) -> torch.Tensor:
        return self.zoo.embed_sentences(model, self.tokenizer, sentences, batch_size=BATCH).double()

    def batches(self, name: str, n: int | None = None) -> list[dict]:
        sentences = self.train[name][: n or self.n_calibration]
        return [self.zoo.encode_sentences(self.tokenizer, sentences[i : i + BATCH]) for i in range(0, len(sentences), BATCH)]

    def score(self, reduced) -> dict[str, dict[str, float]]:
        from netgraph.fidelity import compare_outputs

        scores = {}
        for name, sentences in self.test.items():
            fidelity = compare_outputs(self.original[name], self.embed(reduced, sentences), kind="encoder")
            scores[name] = {"cosine": fidelity.mean_cosine, "retrieval": fidelity.retrieval_agreement}
        real = [scores[source] for source in SOURCES]
        scores["text"] = {key: sum(s[key] for s in real) / len(real) for key in ("cosine", "retrieval")}
        return scores

    def run(self, section: str, label: str, calibration_name: str, calibration, *, keep: float, **settings: Any) -> dict:
        """Plan on ``calibration`` (batches or a Calibration), apply, score on every test split."""
        import netgraph

        started = time.perf_counter()
        options = dict(method="activation", fold="lstsq", sequential=False)
        options.update(settings)
        plan = netgraph.plan_reduction(self.model, self.example, keep=keep, groups=GROUPS, calibration=calibration,
                                       random_state=SEED, **options)
        reduced = netgraph.apply_plan(self.model, plan)
        seconds = time.perf_counter() - started
        scores = self.score(reduced)
        row = {"section": section, "label": label, "calibration": calibration_name, "keep": keep,
               "settings": {k: v for k, v in options.items()}, "plan_s": seconds, "scores": scores,
               "output_error_mean": _mean([g.metrics.get("output_error") for g in plan.groups])}
        self.rows.append(row)
        log(f"[{section}] {label} keep={keep} cal={calibration_name}: "
            + " ".join(f"{k}={v['cosine']:.4f}/{v['retrieval']:.3f}" for k, v in scores.items()) + f" ({seconds:.0f}s)")
        return row


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def shared_statistics(bench: Bench, batches: list):
    """One statistics pass of the original network over ``batches`` for the FFN groups."""
    import re

    from netgraph.calibrate.calibrate import stream_statistics
    from netgraph.graph.groups import find_unit_groups

    groups = [g for g in find_unit_groups(bench.model, bench.example) if re.search(GROUPS, g.name)]
    return stream_statistics(bench.model, batches, groups)


# (calibration data, keep) of each run; quick runs fit a loaded 2-core machine in about 30 minutes.
DOMAIN_RUNS = {
    True: [("text", 0.5), ("text", 0.75), ("synthetic", 0.5), ("python-docs", 0.75)],
    False: [(name, keep) for keep in (0.5, 0.75) for name in ("text", *SOURCES, "synthetic")],
}
MIXTURE_RUNS = {  # (user data, keep, mixing weights); mix 0 is the matching domains run
    True: [("python-docs", 0.75, (0.25, 0.5)), ("synthetic", 0.5, (0.5,))],
    False: [("python-docs", 0.75, (0.1, 0.25, 0.5)), ("synthetic", 0.5, (0.1, 0.25, 0.5)), ("kjv", 0.75, (0.25, 0.5))],
}


def _specialisation(row: dict, inside: str) -> dict:
    from netgraph.fidelity import Fidelity, check_specialisation

    checks = {}
    for target in ("text", *SOURCES):
        if target != inside:
            checks[target] = check_specialisation(
                Fidelity("encoder", 1, row["scores"][inside]["cosine"]),
                Fidelity("encoder", 1, row["scores"][target]["cosine"]),
            ).to_dict()
    return checks


def domains(bench: Bench, quick: bool) -> None:
    """Calibrate on each source (and on synthetic), score everywhere; the specialisation check."""
    for name, keep in DOMAIN_RUNS[quick]:
        row = bench.run("domains", f"calibrated on {name}", name, bench.batches(name), keep=keep)
        row["in_domain"] = name
        row["specialisation"] = _specialisation(row, name)


def _reference_batches(bench: Bench, sources: list[str]) -> list[dict]:
    reference = bench.zoo.load_english_text("train", sources)[: bench.n_calibration]
    return [bench.zoo.encode_sentences(bench.tokenizer, reference[i : i + BATCH]) for i in range(0, len(reference), BATCH)]


def mixture(bench: Bench, quick: bool) -> None:
    """Calibration = (1 − mix) user data + mix reference text (the other sources), scored both ways."""
    from netgraph.fidelity import mix_calibration

    for user, keep, weights in MIXTURE_RUNS[quick]:
        reference_sources = [s for s in SOURCES if s != user]
        reference_batches = _reference_batches(bench, reference_sources)
        rows = []
        base = [r for r in bench.rows if r["section"] == "domains" and r["calibration"] == user and r["keep"] == keep]
        if base:  # mix 0 is the domains run: reuse it instead of planning again
            rows.append(dict(base[0], section="mixture", label=f"{user} + reference text, mix 0.0"))
            bench.rows.append(rows[-1])
        for mix in ([] if base else [0.0]) + list(weights):
            calibration = mix_calibration(bench.batches(user), reference_batches, mix, batch_rows=BATCH)
            rows.append(bench.run("mixture", f"{user} + reference text, mix {mix}",
                                  f"{user} ({1 - mix:.2f}) + {'+'.join(reference_sources)} ({mix:.2f})",
                                  calibration, keep=keep))
        for row, mix in zip(rows, [0.0] + list(weights)):
            reference = [row["scores"][s]["cosine"] for s in reference_sources]
            row.update(user=user, mix=mix, reference_sources=reference_sources,
                       in_domain_cosine=row["scores"][user]["cosine"], reference_cosine=sum(reference) / len(reference))


def defaults(bench: Bench, quick: bool) -> None:
    """Ridge, methods, budget (one shared statistics pass) and calibration size, calibrated on ``text``."""
    statistics = shared_statistics(bench, bench.batches("text"))
    for ridge in ((1e-3, 1e-1) if quick else (1e-8, 1e-3, 1e-1)):
        bench.run("defaults", f"ridge {ridge:g}", "text", statistics, keep=0.5, ridge=ridge)
    for method in (("dpp",) if quick else ("magnitude", "dpp", "submodular")):
        bench.run("defaults", f"method {method}", "text", statistics, keep=0.5, method=method)
    bench.run("defaults", "budget global", "text", statistics, keep=0.5, budget="global")
    if not quick:
        bench.run("defaults", "budget global", "text", statistics, keep=0.75, budget="global")
        for n in (bench.n_calibration // 4, bench.n_calibration // 2, 2 * bench.n_calibration):
            bench.run("defaults", f"calibration {n} sentences", "text", bench.batches("text", n), keep=0.5)
        bench.run("defaults", "sequential", "text", bench.batches("text"), keep=0.5, sequential=True)


def markdown(rows: list[dict]) -> str:
    lines = ["| section | run | calibrated on | keep | text (3 sources) | python-docs | api-docs | kjv | synthetic |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = [f"{row['scores'][k]['cosine']:.3f} / {row['scores'][k]['retrieval']:.2f}"
                 for k in ("text", *SOURCES, "synthetic")]
        lines.append(f"| {row['section']} | {row['label']} | {row['calibration']} | {row['keep']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\nCells: mean cosine / retrieval agreement (10 nearest neighbours) on held-out test sentences.\n"


def plot(rows: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mixed = [r for r in rows if r["section"] == "mixture"]
    if not mixed:
        return
    figure, axis = plt.subplots(figsize=(6, 4))
    for user in dict.fromkeys(r["user"] for r in mixed):
        part = sorted((r for r in mixed if r["user"] == user), key=lambda r: r["mix"])
        keep = part[0]["keep"]
        axis.plot([r["mix"] for r in part], [r["in_domain_cosine"] for r in part], "o-", label=f"{user} (in-domain), keep {keep}")
        axis.plot([r["mix"] for r in part], [r["reference_cosine"] for r in part], "s--", label=f"other sources (reference), keep {keep}")
    axis.set_xlabel("share of reference text in the calibration set (mix)")
    axis.set_ylabel("held-out mean cosine to the original")
    axis.set_title("MiniLM FFN: in-domain vs reference fidelity when mixing")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer settings (about a third of the runs)")
    parser.add_argument("--sections", default="domains,mixture,defaults", help="comma-separated subset")
    parser.add_argument("--calibration", type=int, default=N_CALIBRATION, help="sentences per calibration set")
    parser.add_argument("--evaluation", type=int, default=N_EVALUATION, help="held-out test sentences per source")
    parser.add_argument("--output", default=None, help="result JSON path (default results/text[_quick].json)")
    args = parser.parse_args(argv)
    torch.manual_seed(SEED)
    bench = Bench(args.calibration, args.evaluation)
    started = time.perf_counter()
    suffix = "_quick" if args.quick else ""
    output = args.output or RESULTS_DIR / f"text{suffix}.json"
    result: dict[str, Any] = {}
    for section in args.sections.split(","):
        {"domains": domains, "mixture": mixture, "defaults": defaults}[section](bench, args.quick)
        result = {
            "benchmark": "text", "quick": args.quick, "machine": machine_info(),
            "seconds": time.perf_counter() - started, "model": "all-MiniLM-L6-v2, FFN groups (intermediate)",
            "n_calibration": args.calibration, "n_evaluation_per_source": args.evaluation, "rows": bench.rows,
        }
        write_json(output, result)  # after every section, so a long run keeps what it measured
        (RESULTS_DIR / f"text{suffix}.md").write_text(markdown(bench.rows), encoding="utf-8")
    plot(bench.rows, RESULTS_DIR / f"text{suffix}_mixture.png")
    return result


if __name__ == "__main__":
    main()
