"""``netgraph compress``: low-rank factorization and Deep Compression from the command line.

A thin wrapper over :func:`netgraph.compress.compress_model`: check every input, load
MODEL (and DATA when calibration or fine-tuning needs it), compress, and write one output
folder holding ``model.ngz`` and the report (``report.json``, ``report.md``,
``report.html`` as ``--format`` asks), staged beside ``--out`` and swapped in whole (see
:mod:`netgraph.report.directory`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from netgraph_cli.errors import BadInput, handle_errors
from netgraph_cli.options import (BatchSizeOpt, DataOpt, ModelArg, SamplesOpt, SeedOpt, UnsafePickleOpt, WeightsOpt,
                                  parse_formats)

__all__ = ["compress"]

_TARGET_EPOCHS = 6  # fine-tuning epochs per stage with --target-ratio (measured: benchmarks/bench_compress.py --splits)


@handle_errors
def compress(
    model: ModelArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for model.ngz and the report (replaced whole).")] = Path(
        "out/compress"
    ),
    lowrank: Annotated[
        Optional[float], typer.Option("--lowrank", help="Low-rank factorization keeping this fraction of weights.")
    ] = None,
    prune: Annotated[Optional[float], typer.Option("--prune", help="Magnitude-pruning sparsity, e.g. 0.9.")] = None,
    quantize_bits: Annotated[
        Optional[int], typer.Option("--quantize-bits", help="k-means weight sharing with 2**bits clusters per layer.")
    ] = None,
    huffman: Annotated[bool, typer.Option("--huffman/--no-huffman", help="Huffman-code the .ngz streams.")] = False,
    target_ratio: Annotated[Optional[float], typer.Option(
        "--target-ratio", min=1.0,
        help="Instead of --prune: prune each layer just enough for a .ngz this many times smaller than the dense "
             "weights (Huffman on, 5-bit weights unless --quantize-bits, 6 fine-tuning epochs unless "
             "--finetune-epochs; LeNet-300-100 at 40: see benchmarks/bench_compress.py --splits).")] = None,
    finetune_epochs: Annotated[
        int, typer.Option("--finetune-epochs", min=0, help="Fine-tuning epochs after each stage (needs labelled DATA).")
    ] = 0,
    data: DataOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="Report files: comma-separated html, md, json.")] = "html,md,json",
    weights: WeightsOpt = None,
    unsafe_pickle: UnsafePickleOpt = False,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Fine-tuning learning rate (Adam).")] = 1e-3,
    samples: SamplesOpt = 512,
    batch_size: BatchSizeOpt = 128,
    seed: SeedOpt = 0,
) -> None:
    """Compress MODEL by low-rank factorization and/or pruning + weight sharing + Huffman (.ngz).

    The output folder is written beside --out and swapped in whole: it is always one complete run.
    """
    from netgraph_cli.commands._shared import check_inputs, check_output_dir

    if lowrank is None and prune is None and quantize_bits is None and target_ratio is None:
        raise BadInput("Nothing to do: give --target-ratio, --lowrank, --prune and/or --quantize-bits.")
    if target_ratio is not None:
        if prune is not None:
            raise BadInput("Give --prune or --target-ratio, not both.")
        huffman = True
        finetune_epochs = finetune_epochs or _TARGET_EPOCHS
    formats = parse_formats(format)
    check_output_dir(out)
    check_inputs(model, data, weights)
    import torch

    from netgraph.batches import call_model
    from netgraph.compress import compress_model
    from netgraph.compress.ngz import encode_ngz
    from netgraph.report import staged_directory
    from netgraph.report.measure import accuracy
    from netgraph.sources import default_data_spec, load_data, load_model
    from netgraph_cli.progress import status, stdout_console

    status(f"Loading {model} …")
    network, _, info = load_model(model, weights, allow_pickle=unsafe_pickle, progress=status)
    data_spec = data if data is not None else default_data_spec(info)
    loaded = None
    if (lowrank is not None or finetune_epochs > 0) and data_spec is None:
        raise BadInput("--lowrank and --finetune-epochs need data: pass --data.")
    if data_spec is not None:  # also for the report's held-out accuracy before/after
        status(f"Reading data {data_spec} …")
        loaded = load_data(data_spec, network, info, n_samples=samples, batch_size=batch_size, seed=seed)
    finetune_data = None
    if finetune_epochs > 0:
        if loaded.train is None:
            raise BadInput(f"DATA {data_spec!r} has no labels, so it cannot fine-tune; give a file with labels.")
        from torch.utils.data import DataLoader

        finetune_data = DataLoader(
            loaded.train, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(seed)
        )
    status("Compressing …")
    compressed, report = compress_model(
        network,
        lowrank=lowrank,
        prune=prune,
        quantize_bits=quantize_bits,
        huffman=huffman,
        calibration=loaded.calibration if (loaded is not None and lowrank is not None) else None,
        finetune_data=finetune_data,
        finetune_epochs=finetune_epochs,
        lr=lr,
        seed=seed,
        target_ratio=target_ratio,
    )
    if loaded is not None and loaded.held_out_labels is not None:
        compressed.eval()
        network.eval()
        with torch.no_grad():
            for key, net in (("accuracy_before", network), ("accuracy_after", compressed)):
                outputs = torch.cat([call_model(net, batch) for batch in loaded.held_out])
                report[key] = accuracy(outputs, loaded.held_out_labels)
    report["model"] = model
    encoded = encode_ngz(compressed, huffman=huffman, metadata={"model": model, "command": "netgraph compress"})
    report["ngz_bytes"] = len(encoded)  # the file carries metadata too
    report["compression_ratio"] = report["dense_bytes_before"] / len(encoded)
    from netgraph.report import build_compression_report, write_report

    stage_bytes = {}
    if huffman:
        from netgraph.compress import compressed_size

        stage_bytes["weights stored without Huffman coding"] = compressed_size(compressed, huffman=False)["total_bytes"]
    document = build_compression_report(
        report, model_spec=model, ngz_bytes=len(encoded), accuracy_before=report.get("accuracy_before"),
        accuracy_after=report.get("accuracy_after"), stage_bytes=stage_bytes,
        settings={"lowrank": lowrank, "prune": prune, "quantize_bits": quantize_bits, "huffman": huffman,
                  "finetune_epochs": finetune_epochs, "seed": seed},
    )
    with staged_directory(out) as staging:
        (staging / "model.ngz").write_bytes(encoded)
        write_report(document, staging, formats)
    console = stdout_console()
    console.print(
        f"{model}: {report['dense_bytes_before']:,} B → {len(encoded):,} B "
        f"({report['dense_bytes_before'] / len(encoded):.1f}× smaller)"
    )
    if "accuracy_after" in report:
        console.print(f"accuracy {report['accuracy_before']:.4f} → {report['accuracy_after']:.4f}")
    console.print(f"wrote {out / 'model.ngz'} and the report ({', '.join(formats)}) in {out}")
    console.print(f"load it with: netgraph.compress.load_ngz(<the original architecture>, {str(out / 'model.ngz')!r})",
                  highlight=False)
