"""Measurements of one model: parameters, MACs, size on disk, CPU latency, outputs, fidelity.

Everything returns plain numbers so reports stay JSON. MACs come from Torch-Pruning's
``count_ops_and_params``; when it cannot trace a model the value is ``None``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Iterable

import torch
from torch import nn

from netgraph.batches import call_model
from netgraph.fidelity.metrics import accuracy

__all__ = [
    "count_parameters",
    "count_macs",
    "safetensors_size",
    "measure_latency",
    "compare_latency",
    "model_outputs",
    "fidelity",
    "infer_task",
]


def count_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def count_macs(model: nn.Module, example_inputs: Any) -> int | None:
    """Multiply-accumulates of one forward pass on ``example_inputs`` (None if not traceable)."""
    import torch_pruning as tp

    try:
        with torch.no_grad():
            macs, _ = tp.utils.count_ops_and_params(model, example_inputs)
    except Exception:  # noqa: BLE001 - MACs are informative only; an untraceable op must not fail a report
        return None
    return int(macs)


def safetensors_size(model: nn.Module) -> int:
    """Bytes of the model's state dict serialised as safetensors."""
    from safetensors.torch import save

    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    return len(save(state))


def measure_latency(model: nn.Module, batch: Any, *, repeats: int = 20, warmup: int = 3) -> float:
    """Median wall time in milliseconds of one forward pass on ``batch`` (CPU, inference mode)."""
    was_training = model.training
    model.eval()
    times = []
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                call_model(model, batch)
            for _ in range(repeats):
                started = time.perf_counter()
                call_model(model, batch)
                times.append(time.perf_counter() - started)
    finally:
        model.train(was_training)
    return 1000.0 * statistics.median(times)


def compare_latency(
    original: nn.Module, reduced: nn.Module, batch: Any, *, threads: int = 1, warmup: int = 3, repeats: int = 21
) -> dict[str, Any]:
    """Latency of two models measured so that it holds on a busy machine.

    Both run with ``threads`` intra-op threads (thread contention on a shared machine
    made one model 30× slower than the other at 2 threads), after ``warmup`` passes each,
    in interleaved order (original, reduced, original, …) so that load changes hit both
    alike. The medians are reported, and their ratio only when the interquartile ranges
    do not overlap; otherwise the difference is within the noise and ``ratio`` is None.
    """
    previous_threads = torch.get_num_threads()
    models = (original, reduced)
    modes = [m.training for m in models]
    times: tuple[list[float], list[float]] = ([], [])
    try:
        torch.set_num_threads(threads)
        for model in models:
            model.eval()
        with torch.inference_mode():
            for model in models:
                for _ in range(warmup):
                    call_model(model, batch)
            for _ in range(repeats):
                for model, record in zip(models, times):
                    started = time.perf_counter()
                    call_model(model, batch)
                    record.append(1000.0 * (time.perf_counter() - started))
    finally:
        torch.set_num_threads(previous_threads)
        for model, mode in zip(models, modes):
            model.train(mode)
    quartiles = [statistics.quantiles(t, n=4) if len(t) > 1 else [t[0]] * 3 for t in times]
    before, after = (statistics.median(t) for t in times)
    separated = quartiles[1][2] < quartiles[0][0] or quartiles[0][2] < quartiles[1][0]
    ratio = after / before if separated and before > 0 else None
    spread = max((q[2] - q[0]) / max(statistics.median(t), 1e-12) for q, t in zip(quartiles, times))
    return {
        "threads": threads,
        "warmup": warmup,
        "repeats": repeats,
        "before_ms": times[0],
        "after_ms": times[1],
        "before_median": before,
        "after_median": after,
        "ratio": ratio,
        "spread": spread,
        "note": None if ratio is not None else "difference within the run-to-run spread (interquartile ranges overlap)",
    }


def infer_task(outputs: torch.Tensor, model_info: dict | None = None, labels: torch.Tensor | None = None) -> str:
    """"embedding" for text encoders, "classification" for several output columns, else "regression"."""
    if model_info and model_info.get("text"):
        return "embedding"
    if labels is not None or outputs.shape[1] > 1:
        return "classification"
    return "regression"


def _as_tensor(output: Any, batch: Any) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    hidden = getattr(output, "last_hidden_state", None)
    if hidden is None and isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        hidden = output[0]
    if hidden is None:
        raise TypeError(f"Cannot compare model outputs of type {type(output).__name__}.")
    if hidden.dim() == 3 and isinstance(batch, dict) and "attention_mask" in batch:
        # Token outputs: compare mean-pooled sentence vectors over real tokens.
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return hidden


def model_outputs(model: nn.Module, batches: Iterable[Any]) -> torch.Tensor:
    """Outputs on every batch, flattened to (n_samples, features) and concatenated."""
    was_training = model.training
    model.eval()
    parts = []
    try:
        with torch.inference_mode():
            for batch in batches:
                output = _as_tensor(call_model(model, batch), batch)
                parts.append(output.reshape(output.shape[0], -1).double())
    finally:
        model.train(was_training)
    return torch.cat(parts)


def _nearest_neighbours(embeddings: torch.Tensor) -> torch.Tensor:
    unit = torch.nn.functional.normalize(embeddings, dim=1)
    similarity = unit @ unit.T
    similarity.fill_diagonal_(-float("inf"))
    return similarity.argmax(dim=1)


def fidelity(
    reference: torch.Tensor, outputs: torch.Tensor, labels: torch.Tensor | None = None, task: str | None = None
) -> dict[str, float]:
    """How closely ``outputs`` follow ``reference`` (both from :func:`model_outputs`).

    ``relative_error`` = ‖Y' − Y‖_F / ‖Y‖_F and ``mean_cosine`` = mean row cosine always;
    for classifiers (``task="classification"``, or more than one output column when
    ``task`` is None) ``agreement`` = share of equal argmax and, with labels,
    ``accuracy``; for encoders (``task="embedding"``) ``retrieval_agreement`` = share of
    samples whose nearest neighbour among the others is unchanged (argmax over embedding
    coordinates means nothing there).
    """
    reference = reference.double()
    outputs = outputs.double()
    result: dict[str, float] = {
        "relative_error": float(torch.linalg.norm(outputs - reference) / torch.linalg.norm(reference).clamp(min=1e-30)),
        "mean_cosine": float(torch.nn.functional.cosine_similarity(outputs, reference, dim=1).mean()),
    }
    if task == "embedding":
        if outputs.shape[0] > 2:
            same = _nearest_neighbours(outputs) == _nearest_neighbours(reference)
            result["retrieval_agreement"] = float(same.double().mean())
        return result
    if task in (None, "classification") and outputs.shape[1] > 1:
        result["agreement"] = float((outputs.argmax(1) == reference.argmax(1)).double().mean())
        if labels is not None:
            result["accuracy"] = accuracy(outputs, labels)
    return result


def summary_numbers(model: nn.Module, example_inputs: Any) -> dict[str, Any]:
    """Parameters, MACs and safetensors size of a model."""
    return {
        "parameters": count_parameters(model),
        "macs": count_macs(model, example_inputs),
        "size_bytes": safetensors_size(model),
    }

