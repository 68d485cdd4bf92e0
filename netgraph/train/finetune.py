"""Fine-tuning and knowledge distillation of (reduced) models.

:func:`finetune` trains on labelled data (cross-entropy by default). :func:`distill`
trains a student to match a teacher: Hinton et al. (2015) soft targets for classifiers,
``alpha · T² · KL(teacher_T ‖ student_T) + (1 − alpha) · CE(student, y)``, or an MSE /
cosine loss between outputs for representation models such as sentence encoders.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from netgraph.batches import call_model
from netgraph.errors import InvalidParameterError
from netgraph.modes import restore_modes, training_modes
from netgraph.train.data import as_tensor_output, make_batches, split_batch, to_device
from netgraph.train.loop import History, clone_for_teacher, run_training
from netgraph.train.options import TrainingOptions

__all__ = ["finetune", "distill", "OBJECTIVES"]

OBJECTIVES = ("kl", "mse", "cosine")

LossFn = Callable[[torch.Tensor, Any], torch.Tensor]
OutputFn = Callable[[nn.Module, Any], torch.Tensor]


def _default_output(model: nn.Module, inputs: Any) -> torch.Tensor:
    return as_tensor_output(call_model(model, inputs))


def _check_labels(outputs: torch.Tensor, targets: torch.Tensor | None, owner: str) -> None:
    if targets is None:
        raise InvalidParameterError(
            f"{owner} needs labelled batches (x, y) for its cross-entropy loss; "
            "pass loss=... (finetune) or unlabelled data with objective='mse'/'cosine' (distill)."
        )
    if targets.is_floating_point() or targets.is_complex():
        raise InvalidParameterError(f"{owner}: class labels must be integers; got dtype {targets.dtype}.")
    n_classes = outputs.shape[1] if outputs.dim() > 1 else 0
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= n_classes):
        raise InvalidParameterError(
            f"{owner}: labels must lie in [0, {n_classes}) for a model with {n_classes} outputs; "
            f"got labels from {int(targets.min())} to {int(targets.max())}."
        )


def _classification_loss(outputs: torch.Tensor, targets: torch.Tensor, owner: str) -> torch.Tensor:
    _check_labels(outputs, targets, owner)
    return F.cross_entropy(outputs, targets)


def _mean_over(model: nn.Module, batches, per_batch: Callable[[Any, Any], tuple[float, int]], device) -> float:
    total, count = 0.0, 0
    for batch in batches:
        inputs, targets = split_batch(to_device(batch, device))
        value, n = per_batch(inputs, targets)
        total += value
        count += n
    return total / max(count, 1)


def _batch_size_of(targets: Any, outputs: torch.Tensor) -> int:
    return int(targets.shape[0]) if isinstance(targets, torch.Tensor) else int(outputs.shape[0])


def finetune(
    model: nn.Module,
    data: Any,
    *,
    epochs: int = 5,
    lr: float = 1e-3,
    batch_size: int = 64,
    val_data: Any = None,
    patience: int | None = None,
    clip_grad_norm: float | None = 1.0,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: str | torch.device = "cpu",
    loss: LossFn | None = None,
    callback: Callable[[dict], None] | None = None,
    dropout: bool = True,
) -> History:
    """Fine-tune ``model`` in place; return its :class:`History`.

    Parameters
    ----------
    model : the network to train (its train/eval mode is restored afterwards)
    data : Dataset of (x, y), DataLoader, or list of batches (tensors, tuples or dicts)
    epochs, lr, batch_size : AdamW with a cosine schedule from ``lr`` to 0
    val_data : optional validation data; with it the best epoch's weights are kept
        (accuracy for the default loss, else the mean loss)
    patience : stop after this many epochs without validation improvement
    clip_grad_norm : maximum gradient norm (None disables clipping)
    seed : seeds initialisation-free randomness (shuffling, dropout)
    device : where to train
    loss : ``loss(outputs, targets) -> scalar``; default cross-entropy on class labels
    callback : called with a dict per step (``event="step"``) and epoch (``"epoch"``)
    dropout : keep dropout active while training (False switches it off)

    Examples
    --------
    >>> from netgraph import zoo
    >>> model = zoo.load_model("mlp-digits")                          # doctest: +SKIP
    >>> history = finetune(model, zoo.load_dataset("digits").train, epochs=2)  # doctest: +SKIP
    >>> len(history.train_loss)                                       # doctest: +SKIP
    2
    """
    owner = "finetune"
    options = TrainingOptions(epochs=epochs, lr=lr, batch_size=batch_size, patience=patience,
                              clip_grad_norm=clip_grad_norm, weight_decay=weight_decay, seed=seed, device=device,
                              dropout=dropout, owner=owner)
    if loss is not None and not callable(loss):
        raise InvalidParameterError.expected("loss", owner, "a callable or None", loss)
    device = options.device
    batches = make_batches(data, batch_size=batch_size, shuffle=True, seed=seed, owner=owner)

    def compute_loss(trained: nn.Module, inputs: Any, targets: Any) -> torch.Tensor:
        outputs = _default_output(trained, inputs)
        if loss is None:
            return _classification_loss(outputs, targets, owner)
        return loss(outputs, targets)

    validate = metric_name = None
    greater = True
    if val_data is not None:
        val_batches = make_batches(val_data, batch_size=batch_size, shuffle=False, seed=seed, owner=owner,
                                   parameter="val_data", shard=False)

        def per_batch(net: nn.Module, inputs: Any, targets: Any) -> tuple[float, int]:
            outputs = _default_output(net, inputs)
            n = _batch_size_of(targets, outputs)
            if loss is None:
                _check_labels(outputs, targets, owner)
                return float((outputs.argmax(1) == targets).sum()), n
            return float(loss(outputs, targets)) * n, n

        def validate(net: nn.Module) -> float:
            return _mean_over(net, val_batches, lambda i, t: per_batch(net, i, t), device)

        metric_name, greater = ("val_accuracy", True) if loss is None else ("val_loss", False)

    return run_training(model, batches, compute_loss, options, validate=validate, val_metric_name=metric_name,
                        greater_is_better=greater, callback=callback)


def _distillation_loss(
    student_out: torch.Tensor, teacher_out: torch.Tensor, targets: Any, *, objective: str,
    temperature: float, alpha: float, owner: str,
) -> torch.Tensor:
    if student_out.shape != teacher_out.shape:
        raise InvalidParameterError(
            f"{owner}: student and teacher outputs differ in shape: student {tuple(student_out.shape)}, "
            f"teacher {tuple(teacher_out.shape)}. Use output_fn to compare matching tensors."
        )
    if objective == "mse":
        return F.mse_loss(student_out, teacher_out)
    if objective == "cosine":
        return (1.0 - F.cosine_similarity(student_out, teacher_out, dim=-1)).mean()
    classes = student_out.shape[-1]
    soft = F.kl_div(
        F.log_softmax(student_out.reshape(-1, classes) / temperature, dim=-1),
        F.log_softmax(teacher_out.reshape(-1, classes) / temperature, dim=-1),
        reduction="batchmean",
        log_target=True,
    ) * temperature**2
    if targets is None or alpha >= 1.0:
        return soft
    hard = _classification_loss(student_out, targets, owner)
    return alpha * soft + (1.0 - alpha) * hard


def distill(
    student: nn.Module,
    teacher: nn.Module,
    data: Any,
    *,
    objective: str = "kl",
    temperature: float = 4.0,
    alpha: float = 0.9,
    epochs: int = 5,
    lr: float = 1e-3,
    batch_size: int = 64,
    val_data: Any = None,
    patience: int | None = None,
    clip_grad_norm: float | None = 1.0,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: str | torch.device = "cpu",
    output_fn: OutputFn | None = None,
    callback: Callable[[dict], None] | None = None,
    dropout: bool = False,
) -> History:
    """Train ``student`` in place to reproduce ``teacher``; return its :class:`History`.

    ``objective="kl"`` (classifiers): ``alpha · T² · KL`` between temperature-softened
    distributions plus ``(1 − alpha)`` cross-entropy on labels when the batches carry
    labels (unlabelled data uses the KL term alone). ``"mse"`` / ``"cosine"``
    (representation models): mean squared error or ``1 − cosine`` between outputs.
    ``output_fn(model, inputs) -> Tensor`` chooses what is compared, e.g.
    :func:`netgraph.zoo.sentence_embeddings` for MiniLM; by default the logits / output
    tensor. With ``val_data`` the best epoch is kept (accuracy for ``"kl"`` with labels,
    else the validation loss). The teacher is never modified. Dropout is off by default
    (``dropout=False``): a short distillation from a well-folded start only needs to
    correct the fold, and dropout noise measurably hurts it (MiniLM FFN keep 0.5, one
    epoch: held-out cosine 0.9611 with dropout vs 0.9628 without).

    Examples
    --------
    >>> from netgraph import zoo
    >>> teacher = zoo.load_model("mlp-digits")                         # doctest: +SKIP
    >>> history = distill(student, teacher, zoo.load_dataset("digits").train, epochs=3)  # doctest: +SKIP
    """
    owner = "distill"
    options = TrainingOptions(epochs=epochs, lr=lr, batch_size=batch_size, patience=patience,
                              clip_grad_norm=clip_grad_norm, weight_decay=weight_decay, seed=seed, device=device,
                              dropout=dropout, owner=owner)
    if objective not in OBJECTIVES:
        raise InvalidParameterError.expected("objective", owner, f"one of {OBJECTIVES}", objective)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise InvalidParameterError.expected("temperature", owner, "a float > 0", temperature)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise InvalidParameterError.expected("alpha", owner, "a float in [0, 1]", alpha)
    if output_fn is not None and not callable(output_fn):
        raise InvalidParameterError.expected("output_fn", owner, "a callable or None", output_fn)
    device = options.device
    if teacher is student:
        teacher = clone_for_teacher(student)
    teacher_modes = training_modes(teacher)
    teacher.to(device).eval()
    pick = output_fn or _default_output
    batches = make_batches(data, batch_size=batch_size, shuffle=True, seed=seed, owner=owner)

    def teacher_output(inputs: Any) -> torch.Tensor:
        with torch.no_grad():
            return pick(teacher, inputs).detach()

    def compute_loss(trained: nn.Module, inputs: Any, targets: Any) -> torch.Tensor:
        return _distillation_loss(pick(trained, inputs), teacher_output(inputs), targets, objective=objective,
                                  temperature=temperature, alpha=alpha, owner=owner)

    validate = metric_name = None
    greater = False
    if val_data is not None:
        val_batches = make_batches(val_data, batch_size=batch_size, shuffle=False, seed=seed, owner=owner,
                                   parameter="val_data", shard=False)
        first_inputs, first_targets = split_batch(next(iter(val_batches)))
        use_accuracy = objective == "kl" and first_targets is not None

        def per_batch(net: nn.Module, inputs: Any, targets: Any) -> tuple[float, int]:
            outputs = pick(net, inputs)
            n = _batch_size_of(targets, outputs)
            if use_accuracy:
                _check_labels(outputs, targets, owner)
                return float((outputs.argmax(-1) == targets).sum()), n
            value = _distillation_loss(outputs, teacher_output(inputs), None, objective=objective,
                                       temperature=temperature, alpha=alpha, owner=owner)
            return float(value) * n, n

        def validate(net: nn.Module) -> float:
            return _mean_over(net, val_batches, lambda i, t: per_batch(net, i, t), device)

        metric_name, greater = ("val_accuracy", True) if use_accuracy else (f"val_{objective}_loss", False)

    try:
        return run_training(student, batches, compute_loss, options, validate=validate,
                            val_metric_name=metric_name, greater_is_better=greater, callback=callback)
    finally:
        restore_modes(teacher, teacher_modes)
