"""Text analysis and BM25 as OpenSearch (Lucene) computes them, for the OpenSearch double.

Implemented from the OpenSearch and Lucene documentation, only for what an index definition
may ask of the double; anything else is refused (:class:`Unsupported`) rather than guessed:

- tokenizers: ``pattern`` (split on a regex; Java's ``\\p{L}``/``\\p{N}`` via ``regex``);
- token filters: ``lowercase``, ``length`` (``min``/``max`` characters), ``stemmer`` with
  ``language`` ``porter2`` (Snowball English) or ``english`` (Porter), via PyStemmer, the C
  Snowball library that Lucene's and tantivy's stemmers are also generated from;
- BM25 as Lucene scores it (``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``,
  ``tf / (tf + k1 * (1 - b + b * dl / avgdl))``), the document length ``dl`` stored as Lucene
  stores norms: one byte (``SmallFloat.intToByte4``), exact below 40 tokens, coarser above.

What the double does not model: per-shard statistics (it behaves as one shard), deleted
documents still counted in statistics until a merge, and query-time ``boost``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import regex
import Stemmer

Filter = Callable[[list[str]], list[str]]


class Unsupported(ValueError):
    """An analysis component the double does not implement (it refuses rather than guesses)."""


def _tokenizer(definition: dict[str, Any]) -> Callable[[str], list[str]]:
    if definition.get("type") != "pattern":
        raise Unsupported(f"tokenizer {definition} (the double implements type pattern)")
    if set(definition) - {"type", "pattern"}:
        raise Unsupported(f"pattern tokenizer options {sorted(definition)}")
    pattern = regex.compile(definition.get("pattern", r"\W+"))
    return lambda text: [token for token in pattern.split(text) if token]


def _filter(name: str, definitions: dict[str, Any]) -> Filter:
    if name == "lowercase":
        return lambda tokens: [t.lower() for t in tokens]
    definition = definitions.get(name)
    if definition is None:
        raise Unsupported(f"token filter {name!r} is neither defined nor built in")
    kind = definition.get("type")
    if kind == "length":
        low, high = int(definition.get("min", 0)), int(definition.get("max", 2**31 - 1))
        return lambda tokens: [t for t in tokens if low <= len(t) <= high]
    if kind == "stemmer":
        language = definition.get("language", definition.get("name", "english"))
        algorithm = {"porter2": "english", "english": "porter"}.get(language)
        if algorithm is None:
            raise Unsupported(f"stemmer language {language!r}")
        stemmer = Stemmer.Stemmer(algorithm)
        return lambda tokens: stemmer.stemWords(tokens)
    raise Unsupported(f"token filter type {kind!r}")


@dataclass
class Analyzer:
    """A custom analyzer: a tokenizer, then token filters in order."""

    tokenize: Callable[[str], list[str]]
    filters: list[Filter]

    def __call__(self, text: str) -> list[str]:
        tokens = self.tokenize(text)
        for step in self.filters:
            tokens = step(tokens)
        return tokens


def build_analyzer(name: str, analysis: dict[str, Any]) -> Analyzer:
    """The analyzer ``name`` from an index's ``analysis`` settings."""
    definition = (analysis.get("analyzer") or {}).get(name)
    if definition is None:
        raise Unsupported(f"analyzer {name!r} (the double knows only custom analyzers)")
    if definition.get("type", "custom") != "custom":
        raise Unsupported(f"analyzer type {definition.get('type')!r}")
    tokenizer = (analysis.get("tokenizer") or {}).get(definition.get("tokenizer"))
    if tokenizer is None:
        raise Unsupported(f"tokenizer {definition.get('tokenizer')!r} is not defined")
    filters = [_filter(f, analysis.get("filter") or {}) for f in definition.get("filter", [])]
    return Analyzer(_tokenizer(tokenizer), filters)


# -- Lucene's one-byte document lengths (norms) ------------------------------------------------


def _long_to_int4(value: int) -> int:
    """A 4-bit-mantissa float code of ``value``, as Lucene's SmallFloat.longToInt4."""
    bits = value.bit_length()
    if bits < 4:
        return value
    shift = bits - 4
    encoded = (value >> shift) & 0x07
    return encoded | ((shift + 1) << 3)


def _int4_to_long(code: int) -> int:
    mantissa = code & 0x07
    shift = (code >> 3) - 1
    return mantissa if shift == -1 else (mantissa | 0x08) << shift


_FREE = 255 - _long_to_int4(2**31 - 1)  # lengths below this are stored exactly (24)


def stored_length(length: int) -> int:
    """The document length Lucene's BM25 sees after storing it in one byte."""
    if length < _FREE:
        return length
    return _FREE + _int4_to_long(_long_to_int4(length - _FREE))


# -- BM25 ---------------------------------------------------------------------------------------


@dataclass
class FieldStats:
    """What BM25 needs of one text field over the searchable documents."""

    doc_count: int
    total_tokens: int
    doc_freq: Counter[str]

    @property
    def avg_length(self) -> float:
        return self.total_tokens / self.doc_count if self.doc_count else 0.0


def field_stats(term_counts: Sequence[Counter[str]]) -> FieldStats:
    """Statistics of a field from each document's term counts."""
    freq: Counter[str] = Counter()
    for counts in term_counts:
        freq.update(counts.keys())
    present = [c for c in term_counts if c]
    return FieldStats(len(present), sum(c.total() for c in present), freq)


def bm25(
    query_tokens: Sequence[str], counts: Counter[str], stats: FieldStats, k1: float, b: float
) -> float | None:
    """The BM25 score of a document (its term ``counts``) for an OR of ``query_tokens`` (each
    clause adds its term's score), or None when no clause matches."""
    length = stored_length(counts.total())
    norm = k1 * (1 - b + b * length / stats.avg_length) if stats.avg_length else k1
    score = 0.0
    matched = False
    for term in query_tokens:
        tf = counts.get(term, 0)
        if not tf:
            continue
        matched = True
        df = stats.doc_freq[term]
        idf = math.log(1 + (stats.doc_count - df + 0.5) / (df + 0.5))
        score += idf * tf / (tf + norm)
    return score if matched else None
