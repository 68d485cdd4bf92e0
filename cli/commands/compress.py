"""``netgraph compress``: low-rank factorization and Deep Compression from the command line.

A thin wrapper over :func:`netgraph.compress.compress_model`: load MODEL (and DATA when
calibration or fine-tuning needs it), compress, write ``OUT/model.ngz`` and
``OUT/report.json``, print a one-screen summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from netgraph_cli.errors import BadInput, handle_errors

__all__ = ["compress"]


@handle_errors
def compress(
    model: Annotated[str, typer.Argument(help="zoo:NAME, a Hugging Face folder, or package.module:factory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for model.ngz and report.json.")] = Path(
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
    finetune_epochs: Annotated[
        int, typer.Option("--finetune-epochs", help="Fine-tuning epochs after each stage (needs labelled DATA).")
    ] = 0,
    data: Annotated[
        Optional[str], typer.Option("--data", help="zoo:NAME or a .npy/.npz/.pt file (default: the model's own).")
    ] = None,
    weights: Annotated[Optional[Path], typer.Option("--weights", help="Weights for a factory MODEL.")] = None,
    lr: Annotated[float, typer.Option("--lr", help="Fine-tuning learning rate (Adam).")] = 1e-3,
    samples: Annotated[int, typer.Option("--samples", help="Calibration samples for --lowrank.")] = 512,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Compress MODEL by low-rank factorization and/or pruning + weight sharing + Huffman (.ngz)."""
    if lowrank is None and prune is None and quantize_bits is None:
        raise BadInput("Nothing to do: give --lowrank, --prune and/or --quantize-bits.")
    import json

    import torch

    from netgraph.compress import compress_model
    from netgraph.atomic import atomic_write_bytes
    from netgraph.compress.ngz import encode_ngz
    from netgraph_cli.loading import default_data_spec, load_data_spec, load_model_spec
    from netgraph_cli.progress import status, stdout_console

    network, _, info = load_model_spec(model, weights)
    data_spec = data if data is not None else default_data_spec(info)
    loaded = None
    if lowrank is not None or finetune_epochs > 0:
        if data_spec is None:
            raise BadInput("--finetune-epochs needs labelled data: pass --data.")
        loaded = load_data_spec(data_spec, network, info, n_samples=samples, seed=seed)
    finetune_data = None
    if finetune_epochs > 0:
        if loaded.train is None:
            raise BadInput(f"DATA {data_spec!r} has no labels, so it cannot fine-tune; give a file with labels.")
        from torch.utils.data import DataLoader

        finetune_data = DataLoader(
            loaded.train, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(seed)
        )
    status("Compressing ...")
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
    )
    if loaded is not None and loaded.held_out_labels is not None:
        compressed.eval()
        network.eval()
        with torch.no_grad():
            def accuracy(net):
                predictions = torch.cat([net(batch).argmax(dim=1) for batch in loaded.held_out])
                return float((predictions == loaded.held_out_labels).float().mean())

            report["accuracy_before"] = accuracy(network)
            report["accuracy_after"] = accuracy(compressed)
    report["model"] = model
    encoded = encode_ngz(compressed, huffman=huffman, metadata={"model": model, "command": "netgraph compress"})
    atomic_write_bytes(out / "model.ngz", encoded)
    report["ngz_bytes"] = len(encoded)  # the file carries metadata too
    report["compression_ratio"] = report["dense_bytes_before"] / len(encoded)
    atomic_write_bytes(out / "report.json", json.dumps(report, indent=2, default=str).encode())
    console = stdout_console()
    console.print(
        f"{model}: {report['dense_bytes_before']:,} B → {len(encoded):,} B "
        f"({report['dense_bytes_before'] / len(encoded):.1f}× smaller)"
    )
    if "accuracy_after" in report:
        console.print(f"accuracy {report['accuracy_before']:.4f} → {report['accuracy_after']:.4f}")
    console.print(f"wrote {out / 'model.ngz'} and {out / 'report.json'}")
