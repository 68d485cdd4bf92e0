"""Example inputs and calibration batches for zoo models, drawn from their training split."""

from __future__ import annotations

import torch

from netgraph.errors import InvalidParameterError
from netgraph.zoo.datasets import load_dataset
from netgraph.zoo.models import MODELS, RECIPES

__all__ = ["example_inputs", "calibration_batches", "calibration_sentences"]


def _check(name: str, owner: str) -> None:
    if name not in MODELS:
        raise InvalidParameterError.expected("name", owner, f"one of {MODELS}", name)


def _positive_int(value: int, parameter: str, owner: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError.expected(parameter, owner, "an int >= 1", value)


def example_inputs(name: str, n_samples: int = 4) -> torch.Tensor | dict[str, torch.Tensor]:
    """A small input batch for zoo model ``name`` (a tensor, or a tokenised dict for minilm).

    Examples
    --------
    >>> example_inputs("cnn-digits").shape
    torch.Size([4, 1, 8, 8])
    """
    _check(name, "example_inputs")
    _positive_int(n_samples, "n_samples", "example_inputs")
    batches = calibration_batches(name, n_samples=n_samples, batch_size=n_samples, shuffle=False)
    return batches[0]


def calibration_sentences(n_samples: int = 512, dataset: str = "text") -> list[str]:
    """The first ``n_samples`` sentences of a text data set's training split (all sources mixed)."""
    _positive_int(n_samples, "n_samples", "calibration_sentences")
    from netgraph.zoo.datasets import TEXT_DATASETS

    if dataset not in TEXT_DATASETS:
        raise InvalidParameterError.expected("dataset", "calibration_sentences", f"one of {TEXT_DATASETS}", dataset)
    return load_dataset(dataset).train[:n_samples]


def calibration_batches(
    name: str,
    n_samples: int = 512,
    batch_size: int = 128,
    *,
    shuffle: bool = True,
    seed: int = 0,
    max_length: int = 64,
    dataset: str | None = None,
) -> list:
    """Model-input batches from the training split of the data ``name`` was trained on.

    Vision models get tensors (images for the CNNs, flat vectors for the MLPs), minilm gets
    tokenised dicts. With ``shuffle`` the samples are a seeded random subset; the result is
    the same for the same arguments. ``n_samples`` is capped at the split size. ``dataset``
    chooses another text data set for minilm (default: ``text``, the real English).
    """
    _check(name, "calibration_batches")
    _positive_int(n_samples, "n_samples", "calibration_batches")
    _positive_int(batch_size, "batch_size", "calibration_batches")
    if name == "minilm":
        from netgraph.zoo.text import encode_sentences, load_tokenizer

        sentences = calibration_sentences(10**9, dataset or "text")
        if shuffle:
            order = torch.randperm(len(sentences), generator=torch.Generator().manual_seed(seed)).tolist()
            sentences = [sentences[i] for i in order]
        sentences = sentences[:n_samples]
        tokenizer = load_tokenizer()
        return [
            encode_sentences(tokenizer, sentences[start : start + batch_size], max_length)
            for start in range(0, len(sentences), batch_size)
        ]
    recipe = RECIPES[name]
    X = load_dataset(recipe.dataset, as_images=recipe.as_images).train.tensors[0]
    if shuffle:
        X = X[torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))]
    X = X[:n_samples]
    return [X[start : start + batch_size].clone() for start in range(0, len(X), batch_size)]
