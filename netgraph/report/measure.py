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

__all__ = [
    "count_parameters",
    "count_macs",
    "safetensors_size",
    "measure_latency",
    "model_outputs",
    "fidelity",
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


def fidelity(
    reference: torch.Tensor, outputs: torch.Tensor, labels: torch.Tensor | None = None
) -> dict[str, float]:
    """How closely ``outputs`` follow ``reference`` (both from :func:`model_outputs`).

    ``relative_error`` = ‖Y' − Y‖_F / ‖Y‖_F, ``mean_cosine`` = mean row cosine, and for
    classifiers (more than one output column) ``agreement`` = share of equal argmax and,
    with labels, ``accuracy``.
    """
    reference = reference.double()
    outputs = outputs.double()
    result: dict[str, float] = {
        "relative_error": float(torch.linalg.norm(outputs - reference) / torch.linalg.norm(reference).clamp(min=1e-30)),
        "mean_cosine": float(torch.nn.functional.cosine_similarity(outputs, reference, dim=1).mean()),
    }
    if outputs.shape[1] > 1:
        result["agreement"] = float((outputs.argmax(1) == reference.argmax(1)).double().mean())
        if labels is not None:
            result["accuracy"] = float((outputs.argmax(1) == labels.reshape(-1)).double().mean())
    return result


def accuracy(outputs: torch.Tensor, labels: torch.Tensor) -> float:
    return float((outputs.argmax(1) == labels.reshape(-1)).double().mean())


def summary_numbers(model: nn.Module, example_inputs: Any) -> dict[str, Any]:
    """Parameters, MACs and safetensors size of a model."""
    return {
        "parameters": count_parameters(model),
        "macs": count_macs(model, example_inputs),
        "size_bytes": safetensors_size(model),
    }

