"""JSON schema of netgraph reports (``schema_version`` 1).

Both report kinds are plain dicts of JSON types; ``json.dumps(report)`` works as is.
Numbers are Python floats/ints; ``null`` marks what could not be measured (e.g. MACs of
an untraceable model, activation facts without data). ``timings`` are wall-clock seconds
and the only values that change between identical runs.

Analysis report (``kind == "analysis"``)::

    schema_version   int, 1
    kind             "analysis"
    netgraph_version str
    model            {spec?, kind?, name?, text?, class, parameters, macs|null, size_bytes,
                      n_groups, n_foldable_groups, n_units, n_foldable_units}
    data             null | {source?, n_batches, n_samples}
    settings         {methods, keep_grid, error_levels, n_shuffles, max_blocks, random_state}
    unit_groups      [{name, units, kind, activation, foldable, reason|null, residual,
                       homogeneous, producers: [module], consumers: [module]}]   every group
    groups           [{group, units,                                  one per foldable group
                       dead_units        units with zero incoming or outgoing weights
                       silent_units      units never active on the data (null without data)
                       exact_duplicates  units removable as exact (scaled) copies
                       near_duplicates   units removable as near copies (cosine > 0.999)
                       effective_rank    exp(entropy of covariance spectrum) (null w/o data)
                       effective_rank_ratio
                       blocks            {method, n_blocks, block_sizes, modularity, bic,
                                          labels: [block of unit i]}
                       curve             null | {keep: [f], units_kept: [k],
                                          svd_bound: [error], methods: {name: [error]}}
                       keep_for_error    null | {"0.01"|"0.05": {keep, method|null,
                                          svd_bound_keep}}}]
    clusterability   null | {n_clusters, n_cut, shuffled_mean, shuffled_n_cuts, z_score,
                             p_value}
    timings          {name: seconds}

Curve errors are the share of a group's centred activation variance that the best linear
map from the kept units cannot reconstruct; ``svd_bound`` is the floor any k units obey.
``keep_for_error[level].keep`` is the smallest keep fraction of the grid at which some
method stays under ``level`` (1.0 when none does).

Reduction report (``kind == "reduction"``)::

    schema_version, kind ("reduction"), netgraph_version
    model            as above (identity only: spec, kind, name, class)
    data             null | {source, n_calibration, n_held_out}
    plan             {method, fold, keep, groups_pattern, random_state, skipped_groups}
    before, after    {parameters, macs|null, size_bytes, latency_ms}
    change           {parameters, macs|null, size_bytes, latency_ms}  after / before ratios
    fidelity         null | {relative_error, mean_cosine, agreement?, accuracy?,
                             original_accuracy?}       held-out data, reduced vs original
    fidelity_before_finetune  null | same keys      (when fine-tuned)
    finetune         null | {epochs, distill, history: {name: [per-epoch values]}}
    groups           [{group, units, kept, output_error?, unit_error?, svd_bound?,
                       svd_ratio?, exact_duplicates}]
    files            {plan: "plan.json", weights: "model.safetensors"}
    timings          {name: seconds}
"""

from __future__ import annotations

__all__ = ["SCHEMA_VERSION", "ANALYSIS_KEYS", "REDUCTION_KEYS", "GROUP_KEYS"]

SCHEMA_VERSION = 1

ANALYSIS_KEYS = (
    "schema_version", "kind", "netgraph_version", "model", "data", "settings", "unit_groups", "groups",
    "clusterability", "timings",
)
GROUP_KEYS = (
    "group", "units", "dead_units", "silent_units", "exact_duplicates", "near_duplicates", "effective_rank",
    "effective_rank_ratio", "blocks", "curve", "keep_for_error",
)
REDUCTION_KEYS = (
    "schema_version", "kind", "netgraph_version", "model", "data", "plan", "before", "after", "change",
    "fidelity", "fidelity_before_finetune", "finetune", "groups", "files", "timings",
)
