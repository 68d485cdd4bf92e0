"""JSON schema of netgraph reports (``schema_version`` 2).

Every report kind is a plain dict of JSON types; ``json.dumps(report)`` works as is.
Numbers are Python floats/ints; ``null`` marks what could not be measured (e.g. MACs of
an untraceable model, activation facts without data). ``timings`` are wall-clock seconds
and the only values that change between identical runs. Every report carries a
``glossary`` {column: definition} of the columns its tables show.

Version 2 (from 1): per-group block statistics computed per group and tested against
weight-shuffled copies (``blocks.chance``, ``structure``); recommendations, predictions
and ``next_steps`` commands; ``glossary``; the reduction report's latency measured with
its spread and predicted-vs-measured fidelity; the compression report.

Analysis report (``kind == "analysis"``)::

    schema_version   int, 2
    kind             "analysis"
    netgraph_version str
    model            {spec?, kind?, name?, text?, class, parameters, macs|null, size_bytes,
                      n_groups, n_foldable_groups, n_units, n_foldable_units}
    data             null | {source?, n_batches, n_samples}
    settings         {methods, keep_grid, error_levels, recommend_error, n_shuffles,
                      compare_untrained, prediction_data, prediction_samples, max_blocks,
                      random_state}
    unit_groups      [{name, units, kind, activation, foldable, reason|null, residual,
                       homogeneous, producers: [module], consumers: [module]}]   every group
    groups           [{group, units,                                  one per foldable group
                       dead_units        units with zero incoming or outgoing weights
                       silent_units      units never active on the data (null without data)
                       exact_duplicates  units removable as exact (scaled) copies
                       near_duplicates   units removable as near copies (cosine > 0.999)
                       effective_rank    exp(entropy of covariance spectrum) (null w/o data)
                       effective_rank_ratio
                       blocks            {method, n_blocks, block_sizes, modularity (this
                                          group's), labels: [block of unit i],
                                          chance: null | {statistic, observed, n_blocks,
                                          null: [per shuffled copy], null_median, n_draws,
                                          p_value, beyond_chance, untrained|null, info}}
                       structure         one sentence: blocks vs chance
                       curve             null | {keep: [f], units_kept: [k],
                                          svd_bound: [error], methods: {name: [error]}}
                       keep_for_error    null | {"0.01"|"0.05": {keep, method|null,
                                          svd_bound_keep}}
                       recommendation    null | {keep, method|null, units_kept?, unit_error,
                                          reason|null}
                       prediction        null | {keep, method, relative_error, mean_cosine,
                                          agreement?, accuracy?}   this group reduced alone
                       skipped_methods   [methods not drawn for this group's size]}]
    prediction       null | {groups, units, units_kept, relative_error, mean_cosine,
                             accuracy?, original_accuracy?}  every recommendation at once
    next_steps       null | {groups: [{group, keep, method?, command|null,
                             predicted_error?, predicted_accuracy?, why?}],
                             all: null | {command, keep, predicted_error, ...},
                             python: str|null}
    clusterability   null | {skipped} | {n_clusters, n_cut, shuffled_mean,
                             shuffled_n_cuts, z_score, p_value, n_shuffles, sentence}
    glossary         {column: definition}
    timings          {name: seconds}

Curve errors are the share of a group's centred activation variance that the best linear
map from the kept units cannot reconstruct; ``svd_bound`` is the floor any k units obey.
``keep_for_error[level].keep`` is the smallest keep fraction of the grid at which some
method stays under ``level`` (1.0 when none does).

Reduction report (``kind == "reduction"``)::

    schema_version, kind ("reduction"), netgraph_version
    model            as above (identity only: spec, kind, name, text?, class)
    data             null | {source, n_calibration, n_held_out}
    plan             {method, fold, keep, groups_pattern, random_state, skipped_groups}
    before, after    {parameters, macs|null, size_bytes, latency_ms}
    latency          {threads, warmup, repeats, before_ms: [..], after_ms: [..],
                      before_median, after_median, ratio|null, spread, note}
    change           {parameters, macs|null, size_bytes, latency_ms|null}  after / before
    task             "classification" | "embedding" | "regression"
    fidelity         null | {relative_error, mean_cosine, agreement? (classification),
                             retrieval_agreement? (embedding), accuracy?,
                             original_accuracy?}   held-out data, reduced vs original
    fidelity_before_finetune  null | same keys      (when fine-tuned)
    predicted        null | {relative_error, mean_cosine, accuracy?, ...}  from statistics
    finetune         null | {epochs, distill, history: {name: [per-epoch values]}}
    groups           [{group, units, kept, output_error?, unit_error?, svd_bound?,
                       svd_ratio?, exact_duplicates}]
    files            {plan: "plan.json", weights: "model.safetensors"}
    glossary, timings

Compression report (``kind == "compression"``)::

    schema_version, kind ("compression"), netgraph_version, model {spec}
    settings         {lowrank, prune, quantize_bits, huffman, finetune_epochs, seed}
    stages           [{stage, bytes, ratio, accuracy|null}]
    accuracy_before, accuracy_after   null | float
    dense_bytes_before, ngz_bytes, compression_ratio
    load             {python: str, file: "model.ngz"}
    details          the library's own compression record
    glossary, timings
"""

from __future__ import annotations

__all__ = ["SCHEMA_VERSION", "ANALYSIS_KEYS", "REDUCTION_KEYS", "GROUP_KEYS", "COMPRESSION_KEYS"]

SCHEMA_VERSION = 2

ANALYSIS_KEYS = (
    "schema_version", "kind", "netgraph_version", "model", "data", "settings", "unit_groups", "groups",
    "prediction", "clusterability", "timings", "next_steps", "glossary",
)
GROUP_KEYS = (
    "group", "units", "dead_units", "silent_units", "exact_duplicates", "near_duplicates", "effective_rank",
    "effective_rank_ratio", "blocks", "structure", "curve", "keep_for_error", "recommendation", "prediction",
    "skipped_methods",
)
REDUCTION_KEYS = (
    "schema_version", "kind", "netgraph_version", "model", "data", "plan", "before", "after", "latency", "change",
    "task", "fidelity", "fidelity_before_finetune", "predicted", "finetune", "groups", "files", "timings", "glossary",
)
COMPRESSION_KEYS = (
    "schema_version", "kind", "netgraph_version", "model", "settings", "stages", "accuracy_before", "accuracy_after",
    "dense_bytes_before", "ngz_bytes", "compression_ratio", "load", "details", "timings", "glossary",
)
