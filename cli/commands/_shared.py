"""Steps several commands share: checking every input first, then loading MODEL and DATA.

The checks (:func:`check_inputs`, :func:`check_output_dir`) look only at names, paths and
numbers, so a typo is reported in a second, before a model loads or a zoo model trains.
Loading itself is :mod:`netgraph.sources`; this module only adds status messages.
"""

from __future__ import annotations

from pathlib import Path

from netgraph_cli.errors import BadInput

__all__ = ["load_inputs", "check_output_dir", "check_inputs", "check_keep"]


def check_output_dir(out: Path) -> None:
    """Before any work: ``--out`` must be creatable and replaceable (see
    :mod:`netgraph.report.directory`); staging folders of dead runs beside it are removed and listed."""
    from netgraph.report.directory import check_output_folder, clean_stale_staging
    from netgraph_cli.progress import status

    target = check_output_folder(out)
    for path in clean_stale_staging(target):
        status(f"Removed {path}, left behind by an interrupted run.")


def check_keep(keep: float) -> None:
    if not (0 < keep <= 1):
        raise BadInput(f"--keep must be a fraction in (0, 1], e.g. 0.5; got {keep}.")


def check_inputs(model_spec: str, data_spec: str | None, weights: Path | None) -> None:
    """MODEL, --weights and --data as far as they can be checked without loading anything."""
    from netgraph.sources import check_data_spec, check_model_spec

    check_model_spec(model_spec, weights)
    if data_spec is not None:
        check_data_spec(data_spec)


def load_inputs(model_spec: str, data_spec: str | None, weights: Path | None, unsafe_pickle: bool, *,
                samples: int, batch_size: int, seed: int, need_data: bool = False):
    """``(model, example_inputs, info, data or None)``; example inputs fall back to the data."""
    from netgraph.sources import default_data_spec, load_data, load_model
    from netgraph_cli.progress import status

    check_inputs(model_spec, data_spec, weights)
    status(f"Loading {model_spec} …")
    model, example, info = load_model(model_spec, weights, allow_pickle=unsafe_pickle, progress=status)
    data = None
    spec = data_spec or default_data_spec(info)
    if spec is not None:
        status(f"Reading data {spec} …")
        data = load_data(spec, model, info, n_samples=samples, batch_size=batch_size, seed=seed)
    elif need_data:
        raise BadInput(f"MODEL {model_spec!r} has no built-in data; pass --data (a .npy/.npz/.pt file, .txt, or zoo:NAME).")
    if example is None:
        if data is None:
            raise BadInput(
                f"netgraph needs example inputs to trace {model_spec!r}; pass --data, or define "
                "example_inputs() next to the factory."
            )
        from netgraph.batches import first_rows

        example = first_rows(data.calibration[0], 4)
    return model, example, info, data
