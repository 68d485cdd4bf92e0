"""The cleaning rules of scripts/make_english_text.py (the builder of the shipped English text)."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "make_english_text.py"


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("make_english_text", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sentences_split_at_full_stops_but_not_abbreviations(builder):
    text = "Pass a list, e.g. the rows of a table. Then call it again! Does it work? Yes."
    assert builder.split_sentences(text) == [
        "Pass a list, e.g. the rows of a table.", "Then call it again!", "Does it work?", "Yes."]


@pytest.mark.parametrize("sentence, prose", [
    ("The function returns a new list of the same length.", True),
    ("Use x = f(y) to compute the value of the thing.", False),
    ("Call os.path.join with the parts of the path name.", False),
    ("nodetype : int, float, str, Python type, optional convert node data.", False),
    ("Too short to be kept.", False),
    ("And God said, Let there be light: and there was light.", True),
    ("See the Python Language Reference For More About Classes Here.", False),
])
def test_prose_filter(builder, sentence, prose):
    assert builder.is_prose(sentence) is prose


def test_paragraphs_drop_code_and_doctests(builder):
    text = "A paragraph of prose\ncontinues here.\n\n   indented code block\n\n>>> x = 1\n\nAnother paragraph."
    assert builder.paragraphs(text) == ["A paragraph of prose continues here.", "Another paragraph."]


def test_maintainer_notes_are_not_prose(builder):
    is_prose = builder.is_prose
    assert not is_prose("XXX: need to better define this API for callers.")
    assert not is_prose("TODO: Fill out more detailed documentation on the operators.")
    assert is_prose("Lists are formed by placing a comma-separated list of expressions in square brackets.")
