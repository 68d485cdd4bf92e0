"""The built-in real English text: size, sources, cleanliness, splits, provenance."""

import re

import pytest

from netgraph.errors import InvalidParameterError
from netgraph.zoo import TEXT_SOURCES, english_text_provenance, load_dataset, load_english_text


def _all_sentences():
    return [s for split in ("train", "val", "test") for s in load_english_text(split)]


def test_at_least_5000_deduplicated_sentences_from_three_sources():
    sentences = _all_sentences()
    assert len(sentences) >= 5000
    assert len({" ".join(s.lower().split()) for s in sentences}) == len(sentences)
    assert len(TEXT_SOURCES) >= 3
    for source in TEXT_SOURCES:
        assert len(load_english_text("train", source)) >= 1000


def test_sentences_are_prose_not_code():
    for sentence in _all_sentences():
        assert sentence[0].isupper() and sentence[-1] in ".?!", sentence
        assert 6 <= len(sentence.split()) <= 40, sentence
        assert not re.search(r"[=_{}\[\]<>|\\`]|\(\)|>>>|\s:\s", sentence), sentence


def test_splits_are_disjoint_per_source_and_stable():
    for source in TEXT_SOURCES:
        train, val, test = (set(load_english_text(split, source)) for split in ("train", "val", "test"))
        assert not (train & test) and not (val & test) and not (train & val)
        assert len(test) >= 0.15 * (len(train) + len(val) + len(test))
    assert load_english_text("test") == load_english_text("test")


def test_mixed_split_interleaves_sources():
    first = load_english_text("train")[: 3 * 10]
    by_source = {source: set(load_english_text("train", source)) for source in TEXT_SOURCES}
    for source in TEXT_SOURCES:
        assert sum(s in by_source[source] for s in first) == 10


def test_per_source_datasets_match_loader():
    assert load_dataset("text-kjv").test == load_english_text("test", "kjv")
    assert load_dataset("text").train == load_english_text("train")


def test_provenance_names_origin_and_licence_for_every_source():
    provenance = english_text_provenance()
    assert set(provenance) == set(TEXT_SOURCES)
    for info in provenance.values():
        assert info["licence"] and info["origin"] and info["genre"]
        assert info["sentences"] >= 1000


def test_bad_arguments_are_rejected():
    with pytest.raises(InvalidParameterError, match="'split' parameter"):
        load_english_text("holdout")
    with pytest.raises(InvalidParameterError, match="'sources' parameter"):
        load_english_text("train", "wikipedia")
