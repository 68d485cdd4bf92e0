"""What every column and figure of a report means, in one place.

Tables name their columns with these keys; HTML shows the definitions as tooltips on the
column headers and Markdown/terminal reports end with a glossary section, so no figure
depends on the README to be read.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["GLOSSARY", "glossary_for", "define"]

GLOSSARY: dict[str, str] = {
    "group": "A set of coupled units (neurons or channels) removed together, named by its first producer layer.",
    "units": "Neurons or channels in the group.",
    "kind": "The producer layer's type (linear, conv, ...).",
    "activation": "The non-linearity after the producer; ReLU-like ones allow exact merges of scaled copies.",
    "foldable": "Whether dropped units can be compensated in the consumers (every consumer reads them linearly); "
                "if not, the reason.",
    "consumers": "Layers that read the group's units as inputs; they absorb the compensation.",
    "verdict": "Blocks compared with weight-shuffled copies of the same group, in one sentence.",
    "what": "What the command reduces.",
    "command": "The exact command to run next.",
    "expected cost": "Predicted relative output error (and accuracy, with labels) of running the command.",
    "held-out metric": "A fidelity measure on data not used for calibration.",
    "epoch": "One pass over the fine-tuning data.",
    "stage": "One step of the compression pipeline, in order.",
    "dead": "Units with all-zero incoming or outgoing weights: removable at no cost.",
    "silent": "Units never active on the calibration data (they may still fire on other inputs).",
    "exact dup": "Units that are exact positive multiples of another unit: mergeable with no change to the output.",
    "near dup": "Units whose incoming weights have cosine > 0.999 with another unit's: mergeable at almost no cost.",
    "eff rank": "Effective rank of the activations, exp(entropy of the normalised covariance spectrum): "
                "roughly how many independent directions the units use.",
    "blocks": "Communities of units with similar incoming and outgoing weights (Leiden on a cosine kNN graph).",
    "modularity": "Modularity of this group's blocks (higher: more separated). Computed per group.",
    "vs chance": "Permutation p-value of the group's modularity against weight-shuffled copies of the group: "
                 "(1 + #copies at least as modular) / (1 + #copies); below 0.05 means blocks beyond chance.",
    "untrained": "The same modularity on an untrained (random-init) copy of the architecture.",
    "keep@1%": "Smallest keep fraction at which the best method reconstructs the units within 1% of their variance; "
               "in brackets the SVD bound, which no method can beat.",
    "keep@5%": "Same as keep@1% for 5% of the variance.",
    "recommended keep": "Smallest keep fraction on the grid whose best method leaves at most 5% of the units' "
                        "variance unexplained, with that method.",
    "predicted error": "Predicted relative output error of the model (‖Y' − Y‖ / ‖Y‖) when only this group is "
                       "reduced to the recommended keep with a least-squares fold, simulated on the original model "
                       "(on held-out data when there is some, else on calibration data, which is optimistic).",
    "predicted accuracy": "Predicted accuracy at the recommended keep, on the labelled data the prediction ran on.",
    "measured": "Measured on held-out data with the reduced model.",
    "predicted": "Predicted before reducing, from the original model's activation statistics.",
    "kept": "Units left after the reduction.",
    "output error": "Relative error of the consumer layer's output on the calibration data after the fold.",
    "unit error": "Share of the group's activation variance the kept units cannot reconstruct.",
    "SVD bound": "The unit error of the best rank-k approximation: no choice of k units does better.",
    "ratio to bound": "unit error / SVD bound; 1.0 = as good as any k units can be.",
    "parameters": "Number of weights and biases.",
    "MACs": "Multiply-accumulates of one forward pass on the example batch.",
    "size on disk": "Bytes of the weights saved as safetensors.",
    "CPU latency": "Median wall time of one forward pass on one batch, one thread, after warm-up; original and "
                   "reduced runs interleaved.",
    "relative output error": "‖Y' − Y‖_F / ‖Y‖_F between the reduced and the original model's outputs.",
    "mean cosine": "Mean cosine similarity between the reduced and the original outputs (1 = same direction).",
    "agreement (argmax)": "Share of samples where the reduced classifier predicts the same class as the original.",
    "retrieval agreement": "Share of samples whose nearest neighbour (cosine) among the held-out samples is the same "
                           "for the reduced and the original embeddings.",
    "accuracy": "Share of held-out samples classified correctly.",
    "after fine-tuning": "The reduced model after fine-tuning.",
    "before fine-tuning": "The reduced model right after the fold, before any training.",
    "n-cut": "Normalised cut of a spectral partition of the whole neuron graph (lower: more modular).",
    "bytes": "Size of the compressed model after this stage.",
    "ratio": "Original dense bytes / bytes after this stage.",
}


def define(term: str) -> str | None:
    return GLOSSARY.get(term)


def glossary_for(report: Mapping[str, Any]) -> dict[str, str]:
    """The definitions of every column the report's tables use, in table order."""
    from netgraph.report.tables import report_tables

    used: dict[str, str] = {}
    for table in report_tables(report):
        for column in table.columns:
            definition = GLOSSARY.get(column)
            if definition and column not in used:
                used[column] = definition
        for row in table.rows:
            definition = GLOSSARY.get(row[0]) if row else None
            if definition and row[0] not in used:
                used[row[0]] = definition
    return used
