import pytest
import torch

from netgraph.errors import InvalidParameterError
from netgraph.zoo import DATASETS, TEXT_DATASETS, load_dataset, load_synthetic_sentences


@pytest.mark.parametrize("name, n_total, n_features", [("digits", 1797, 64), ("mnist5k", 5000, 784)])
def test_image_splits_are_fixed_stratified_and_typed(name, n_total, n_features):
    splits = load_dataset(name)
    sizes = [len(part) for part in splits]
    assert sum(sizes) == n_total
    assert abs(sizes[0] / n_total - 0.6) < 0.01 and abs(sizes[1] - sizes[2]) <= 1
    X, y = splits.train.tensors
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.shape[1] == n_features and 0.0 <= float(X.min()) and float(X.max()) <= 1.0
    # stratified: every class appears in each split in roughly the overall proportion
    for part in splits:
        counts = torch.bincount(part.tensors[1], minlength=10).float() / len(part)
        assert counts.min() > 0.07 and counts.max() < 0.14

    again = load_dataset(name)
    for first, second in zip(splits, again):
        assert torch.equal(first.tensors[0], second.tensors[0])
        assert torch.equal(first.tensors[1], second.tensors[1])


def test_splits_do_not_overlap():
    splits = load_dataset("digits")
    rows = [{tuple(row.tolist()) for row in part.tensors[0]} for part in splits]
    # digits has a handful of exact duplicate images; the splits must still be disjoint by index
    assert len(rows[0] & rows[2]) < 5


def test_as_images_reshapes():
    flat = load_dataset("digits").test.tensors[0]
    images = load_dataset("digits", as_images=True).test.tensors[0]
    assert images.shape == (len(flat), 1, 8, 8)
    assert torch.equal(images.flatten(1), flat)


def test_synthetic_sentences_are_shipped_unique_and_split():
    sentences = load_synthetic_sentences()
    assert len(sentences) >= 1200
    assert len(set(sentences)) == len(sentences)
    assert all(s[0].isupper() and s[-1] in ".?!" for s in sentences)
    splits = load_dataset("synthetic-sentences")
    assert (len(splits.train), len(splits.val)) == (800, 200) and len(splits.test) >= 200
    assert set(splits.train).isdisjoint(splits.test) and set(splits.val).isdisjoint(splits.test)
    assert load_dataset("synthetic-sentences").train == splits.train
    assert "synthetic-sentences" in DATASETS and "sentences" not in DATASETS


@pytest.mark.parametrize("name", TEXT_DATASETS)
def test_text_datasets_have_disjoint_splits(name):
    splits = load_dataset(name)
    assert all(isinstance(s, str) for s in splits.train)
    assert set(splits.train).isdisjoint(splits.test) and set(splits.val).isdisjoint(splits.test)
    assert set(splits.train).isdisjoint(splits.val)


def test_unknown_dataset_is_rejected():
    with pytest.raises(InvalidParameterError, match="'name' parameter of load_dataset"):
        load_dataset("cifar")
