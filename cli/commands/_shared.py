"""Steps several commands share: loading MODEL and DATA with status messages."""

from __future__ import annotations

from pathlib import Path

from netgraph_cli.errors import BadInput

__all__ = ["load_inputs", "check_output_dir"]


def check_output_dir(out: Path) -> None:
    """Before any work: ``--out`` must be creatable and replaceable (see
    :mod:`netgraph.report.directory`); staging folders of dead runs beside it are removed and listed."""
    from netgraph.report.directory import check_output_folder, clean_stale_staging
    from netgraph_cli.progress import status

    target = check_output_folder(out)
    for path in clean_stale_staging(target):
        status(f"Removed {path}, left behind by an interrupted run.")


def load_inputs(model_spec: str, data_spec: str | None, weights: Path | None, unsafe_pickle: bool, *,
                samples: int, batch_size: int, seed: int, need_data: bool = False):
    """``(model, example_inputs, info, data or None)``; example inputs fall back to the data."""
    from netgraph_cli.loading import default_data_spec, load_data_spec, load_model_spec
    from netgraph_cli.progress import status

    status(f"Loading {model_spec} …")
    model, example, info = load_model_spec(model_spec, weights, unsafe_pickle)
    data = None
    spec = data_spec or default_data_spec(info)
    if spec is not None:
        status(f"Reading data {spec} …")
        data = load_data_spec(spec, model, info, n_samples=samples, batch_size=batch_size, seed=seed)
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
