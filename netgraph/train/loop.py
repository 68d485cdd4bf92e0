"""The training engine shared by :func:`finetune` and :func:`distill`.

One loop: AdamW, a cosine learning-rate schedule over all steps, gradient clipping,
early stopping on a validation metric (restoring the best weights), a seed for
determinism, DDP when ``torch.distributed`` is initialised, and a rollback to the last
good weights when the loss stops being finite.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from netgraph.errors import InvalidParameterError, TrainingError
from netgraph.modes import restore_modes, training_modes
from netgraph.train.data import Batches, describe, expected_input, split_batch, to_device
from netgraph.train.options import TrainingOptions

__all__ = ["History", "run_training", "check_common_parameters"]


@dataclass
class History:
    """What happened during training, one entry per completed epoch.

    Attributes
    ----------
    train_loss : mean training loss of each epoch (averaged over ranks when distributed)
    val_metric : validation metric of each epoch (empty without validation data)
    lr : learning rate at the end of each epoch
    epoch_time : wall-clock seconds of each epoch
    best_epoch : 1-based epoch whose weights the model holds at the end (the best on
        validation, else the last)
    val_metric_name : e.g. ``"val_accuracy"`` or ``"val_loss"``; None without validation
    greater_is_better : direction of ``val_metric``
    stopped_early : whether patience ran out before ``epochs``
    n_steps : optimiser steps taken
    """

    train_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    val_metric_name: str | None = None
    greater_is_better: bool = True
    stopped_early: bool = False
    n_steps: int = 0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    @property
    def best_val_metric(self) -> float | None:
        if self.best_epoch is None or not self.val_metric:
            return None
        return self.val_metric[self.best_epoch - 1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _distributed() -> tuple[bool, int]:
    import torch.distributed as dist

    active = dist.is_available() and dist.is_initialized()
    return active, (dist.get_rank() if active else 0)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def run_training(
    model: nn.Module,
    batches: Batches,
    compute_loss: Callable[[nn.Module, Any, torch.Tensor | None], torch.Tensor],
    options: TrainingOptions,
    *,
    validate: Callable[[nn.Module], float] | None = None,
    val_metric_name: str | None = None,
    greater_is_better: bool = True,
    callback: Callable[[dict], None] | None = None,
    parameters: list[torch.nn.Parameter] | None = None,
    attach: Callable[[nn.Module, torch.optim.Optimizer], list] | None = None,
) -> History:
    """Train ``model`` in place on ``batches``; ``compute_loss(model, inputs, targets)`` gives the loss.

    ``options.dropout=False`` trains with every dropout switched off (BatchNorm still
    updates): short recovery runs from a well-folded start are hurt by dropout noise.
    ``parameters`` (default: every trainable one) are what the optimizer updates, and
    ``attach(model, optimizer)`` returns hook handles removed when training ends: Deep
    Compression keeps pruned weights at zero and shared weights shared that way
    (``netgraph.compress.pipeline.finetune``).
    """
    owner, epochs, lr, device = options.owner, options.epochs, options.lr, options.device
    clip_grad_norm, patience, dropout = options.clip_grad_norm, options.patience, options.dropout
    if options.seed is not None:
        torch.manual_seed(options.seed)
    distributed, rank = _distributed()
    notify = callback if (callback is not None and rank == 0) else None
    saved_modes = training_modes(model)
    model.to(device)
    if parameters is None:
        parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise InvalidParameterError(f"{owner} needs a model with trainable parameters; all are frozen.")
    trained: nn.Module = model
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        trained = DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=options.weight_decay)
    total_steps = max(1, epochs * len(batches))
    if options.schedule == "constant":
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    else:
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))
        )
    handles = list(attach(model, optimizer)) if attach is not None else []
    history = History(val_metric_name=val_metric_name if validate else None, greater_is_better=greater_is_better)
    best_state: dict[str, torch.Tensor] | None = None
    best_value: float | None = None
    epochs_without_improvement = 0

    try:
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            last_good = _snapshot(model)
            batches.set_epoch(epoch)
            model.train()
            if not dropout:
                _disable_dropout(model)
            loss_sum, n_batches = 0.0, 0
            for batch in batches:
                inputs, targets = split_batch(to_device(batch, device))
                optimizer.zero_grad(set_to_none=True)
                if history.n_steps == 0:
                    loss = _first_loss(compute_loss, trained, model, inputs, targets, owner)
                else:
                    loss = compute_loss(trained, inputs, targets)
                value = loss.detach().reshape(1).clone()
                if distributed:
                    import torch.distributed as dist

                    dist.all_reduce(value)  # every rank sees a NaN anywhere, and the mean loss
                    value /= dist.get_world_size()
                value = float(value)
                if not math.isfinite(value):
                    model.load_state_dict(last_good)
                    raise TrainingError(
                        f"{owner}: the loss became {value} at epoch {epoch}, step {history.n_steps + 1}; "
                        f"the model holds its weights from the start of epoch {epoch}. "
                        "Lower the learning rate or check the data for non-finite values."
                    )
                loss.backward()
                if clip_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(parameters, clip_grad_norm)
                optimizer.step()
                schedule.step()
                history.n_steps += 1
                loss_sum += value
                n_batches += 1
                if notify is not None:
                    notify({"event": "step", "epoch": epoch, "epochs": epochs, "step": history.n_steps,
                            "steps_per_epoch": len(batches), "loss": value, "lr": schedule.get_last_lr()[0]})
            history.train_loss.append(loss_sum / max(n_batches, 1))
            history.lr.append(schedule.get_last_lr()[0])
            improved = True
            if validate is not None:
                model.eval()
                with torch.no_grad():
                    metric = float(validate(model))
                history.val_metric.append(metric)
                improved = math.isfinite(metric) and (
                    best_value is None or (metric > best_value if greater_is_better else metric < best_value)
                )
                if improved:
                    best_value, best_state, history.best_epoch = metric, _snapshot(model), epoch
                    epochs_without_improvement = 0
                else:
                    epochs_without_improvement += 1
            else:
                history.best_epoch = epoch
            history.epoch_time.append(time.perf_counter() - started)
            if notify is not None:
                notify({"event": "epoch", "epoch": epoch, "epochs": epochs, "train_loss": history.train_loss[-1],
                        "val_metric": history.val_metric[-1] if history.val_metric else None,
                        "val_metric_name": history.val_metric_name, "lr": history.lr[-1],
                        "time": history.epoch_time[-1], "best_epoch": history.best_epoch})
            if patience is not None and validate is not None and epochs_without_improvement >= patience:
                history.stopped_early = epoch < epochs
                break
        if best_state is not None:
            model.load_state_dict(best_state)
    finally:
        restore_modes(model, saved_modes)
        for handle in handles:
            handle.remove()
        if attach is not None:
            model.zero_grad(set_to_none=True)
    if notify is not None:
        notify({"event": "end", "epochs": history.epochs, "best_epoch": history.best_epoch,
                "stopped_early": history.stopped_early})
    return history


def _first_loss(compute_loss, trained, model, inputs, targets, owner) -> torch.Tensor:
    """The first step's loss, turning shape errors into a message about the data."""
    try:
        return compute_loss(trained, inputs, targets)
    except (RuntimeError, IndexError) as error:
        raise InvalidParameterError(
            f"The data does not fit the model given to {owner}: expected input {expected_input(model)}, "
            f"got {describe(inputs)}. ({error})"
        ) from error


def clone_for_teacher(model: nn.Module) -> nn.Module:
    """A frozen eval-mode copy (used when the caller passes the same object twice)."""
    teacher = copy.deepcopy(model).eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    return teacher


def _disable_dropout(model: nn.Module) -> None:
    """Put dropout layers, and the modules that own them (attention reads its own flag), in
    eval mode without touching their siblings (so BatchNorm keeps training)."""
    for module in model.modules():
        owns_dropout = any(isinstance(child, nn.modules.dropout._DropoutNd) for child in module.children())
        if isinstance(module, nn.modules.dropout._DropoutNd) or owns_dropout:
            module.training = False
