"""How SBM blocks and graph summaries scale: synthetic MLP graphs of 10k → 100k hidden units.

Run: ``python -m benchmarks.bench_graph_scale`` (writes ``benchmarks/results/graph_scale.json``).

The graph is a 10-layer MLP's neuron graph built directly as a sparse matrix (a dense
10,000 × 10,000 layer would be 10⁸ edges per layer; trained-and-pruned or kNN-sparsified
graphs are what whole-model analysis meets in practice): every unit feeds ``degree``
units of the same planted block in the next layer plus one random unit. Each size runs in
a fresh process so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

N_LAYERS = 10
SIZES = (1_000, 3_000, 10_000)  # units per layer → 10k, 30k, 100k units
RESULT = Path(__file__).resolve().parent / "results" / "graph_scale.json"


class SyntheticNeuronGraph:
    """NeuronGraph-like: ``node_ids``, ``adjacency``, ``layers``, ``group_names``."""

    def __init__(self, units_per_layer: int, *, n_layers: int = N_LAYERS, n_blocks: int = 20, degree: int = 16, seed: int = 0):
        from netgraph.graph.neuron_graph import NeuronId

        generator = np.random.default_rng(seed)
        self.layers = [f"fc{i}" for i in range(n_layers)]
        self.group_names = list(self.layers)
        self.node_ids = [NeuronId(name, i) for name in self.layers for i in range(units_per_layer)]
        n = units_per_layer * n_layers
        self.truth = generator.integers(0, n_blocks, size=n)
        rows, cols = [], []
        for layer in range(n_layers - 1):
            sources = np.arange(layer * units_per_layer, (layer + 1) * units_per_layer)
            targets = np.arange((layer + 1) * units_per_layer, (layer + 2) * units_per_layer)
            order = targets[np.argsort(self.truth[targets], kind="stable")]
            counts = np.bincount(self.truth[targets], minlength=n_blocks)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            block = self.truth[sources]
            picks = starts[block][:, None] + (generator.random((sources.size, degree)) * counts[block][:, None]).astype(np.int64)
            rows.append(np.repeat(sources, degree + 1))
            chosen = np.hstack([order[picks], generator.choice(targets, size=(sources.size, 1))])
            cols.append(chosen.ravel())
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        weights = generator.uniform(0.5, 1.5, size=rows.size)
        self.adjacency = sp.csr_array((weights, (rows, cols)), shape=(n, n))
        self.adjacency.sum_duplicates()


def run_one(units_per_layer: int) -> dict:
    from sklearn.metrics import adjusted_rand_score

    from netgraph.analysis import sbm_blocks, summarize_graph

    start = time.perf_counter()
    graph = SyntheticNeuronGraph(units_per_layer)
    build = time.perf_counter() - start
    start = time.perf_counter()
    blocks = sbm_blocks(graph, n_neighbors=10, random_state=0)
    sbm_seconds = time.perf_counter() - start
    start = time.perf_counter()
    summary = summarize_graph(graph, keep=0.01, random_state=0)
    summary_seconds = time.perf_counter() - start
    layer = np.repeat(np.arange(N_LAYERS), units_per_layer)
    hidden = (layer > 0) & (layer < N_LAYERS - 1)  # first/last layers see only one side
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "units": int(units_per_layer * N_LAYERS),
        "edges": int(graph.adjacency.nnz),
        "build_seconds": round(build, 2),
        "sbm_seconds": round(sbm_seconds, 2),
        "summary_seconds": round(summary_seconds, 2),
        "total_seconds": round(sbm_seconds + summary_seconds, 2),
        "n_blocks": blocks.n_blocks,
        "modularity": round(blocks.modularity, 4),
        "block_ari_inner_layers": round(float(adjusted_rand_score(graph.truth[hidden] + 100 * layer[hidden], blocks.labels[hidden])), 4),
        "n_supernodes": summary.n_supernodes,
        "summary_reconstruction_error": round(summary.reconstruction_error, 4),
        "peak_memory_mb": round(peak_mb, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", type=int, help="run one size in this process and print its JSON")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES), help="units per layer")
    args = parser.parse_args(argv)
    if args.one:
        result = run_one(args.one)
        sys.stdout.write(json.dumps(result) + "\n")
        return result
    rows = []
    for size in args.sizes:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_graph_scale", "--one", str(size)],
            capture_output=True, text=True, check=True,
        )
        rows.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        row = rows[-1]
        sys.stdout.write(
            f"{row['units']:>7} units {row['edges']:>9} edges: sbm {row['sbm_seconds']:6.2f} s, summary "
            f"{row['summary_seconds']:6.2f} s, {row['n_blocks']} blocks (ARI {row['block_ari_inner_layers']}), "
            f"peak {row['peak_memory_mb']:.0f} MB\n"
        )
    growth = None
    if len(rows) >= 2:
        growth = float(np.log(rows[-1]["total_seconds"] / rows[0]["total_seconds"]) / np.log(rows[-1]["units"] / rows[0]["units"]))
        sys.stdout.write(f"time grows as units^{growth:.2f} from {rows[0]['units']} to {rows[-1]['units']} units\n")
    report = {"n_layers": N_LAYERS, "runs": rows, "time_exponent": growth, "budget": {"seconds": 60, "memory_mb": 4096}}
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
