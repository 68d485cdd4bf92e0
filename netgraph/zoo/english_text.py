"""Real English text shipped with netgraph: the default data for text models.

``netgraph/zoo/english_text.txt`` holds 6,000 deduplicated sentences of human-written
English from three sources of different genres (built by ``scripts/make_english_text.py``;
provenance and licence of each source are in the file's header):

* ``python-docs`` — Python reference topics and standard-library docstrings (PSF License 2);
* ``api-docs`` — NumPy, SciPy, scikit-learn, networkx and Matplotlib docstrings
  (BSD-3-Clause; Matplotlib License, BSD-compatible);
* ``kjv`` — the King James Bible (public domain; Crown letters patent in the United Kingdom).

Each source is split 60/20/20 into train (calibration) / val / test (held out) when the
file is built, so every figure can say which source and which split it comes from, and a
model calibrated on one source can be scored on another (cross-domain).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Sequence

from netgraph.errors import CheckpointError, InvalidParameterError

__all__ = ["TEXT_SOURCES", "TEXT_SPLITS", "load_english_text", "english_text_provenance"]

TEXT_SOURCES = ("python-docs", "api-docs", "kjv")
TEXT_SPLITS = ("train", "val", "test")
_FILE = "english_text.txt"


@lru_cache(maxsize=1)
def _parsed() -> tuple[dict[str, dict], dict[tuple[str, str], tuple[str, ...]]]:
    try:
        text = resources.files("netgraph.zoo").joinpath(_FILE).read_text(encoding="utf-8")
    except OSError as error:
        raise CheckpointError(f"The bundled text file netgraph/zoo/{_FILE} is missing ({error}); reinstall netgraph.") from error
    provenance: dict[str, dict] = {}
    parts: dict[tuple[str, str], list[str]] = {(s, p): [] for s in TEXT_SOURCES for p in TEXT_SPLITS}
    for line in text.splitlines():
        if line.startswith("# source "):
            name, _, info = line[len("# source ") :].partition(": ")
            provenance[name] = json.loads(info)
        elif line and not line.startswith("#"):
            source, split, sentence = line.split("\t", 2)
            parts[(source, split)].append(sentence)
    return provenance, {key: tuple(value) for key, value in parts.items()}


def english_text_provenance() -> dict[str, dict]:
    """Per source: genre, origin (with package versions), licence and sentence counts."""
    provenance, _ = _parsed()
    return {name: dict(info) for name, info in provenance.items()}


def load_english_text(split: str = "train", sources: str | Sequence[str] | None = None) -> list[str]:
    """Sentences of one split of the built-in English text, from some or all sources.

    Parameters
    ----------
    split : {"train", "val", "test"}
        ``train`` is for calibration; ``test`` is held out from every calibration the
        library and benchmarks do by default.
    sources : str or sequence of str, optional
        Any of :data:`TEXT_SOURCES` (default: all three, interleaved so that any prefix
        mixes the genres evenly).

    Examples
    --------
    >>> len(load_english_text("test", "kjv"))
    400
    >>> load_english_text("train")[:3] == load_english_text("train")[:3]
    True
    """
    if split not in TEXT_SPLITS:
        raise InvalidParameterError.expected("split", "load_english_text", f"one of {TEXT_SPLITS}", split)
    if sources is None:
        sources = TEXT_SOURCES
    elif isinstance(sources, str):
        sources = (sources,)
    sources = tuple(sources)
    unknown = [source for source in sources if source not in TEXT_SOURCES]
    if unknown or not sources:
        raise InvalidParameterError.expected("sources", "load_english_text", f"names from {TEXT_SOURCES}", list(sources))
    _, parts = _parsed()
    columns = [parts[(source, split)] for source in sources]
    # Round-robin so the first n sentences cover every source (calibration subsets stay mixed).
    longest = max(len(column) for column in columns)
    return [column[i] for i in range(longest) for column in columns if i < len(column)]
