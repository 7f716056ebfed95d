"""How OpenSearch analyses chunk text for BM25: the same way tantivy's ``en_stem`` does.

Tantivy's ``en_stem`` splits text on every character that is not a letter or a digit, drops
tokens of 40 bytes or more, lower-cases and stems with Snowball English (Porter2). The
analyzer below asks OpenSearch for the same chain with its built-in parts: a ``pattern``
tokenizer splitting on ``[^\\p{L}\\p{N}]+``, a ``length`` filter (at most 39 characters),
``lowercase`` and the ``stemmer`` filter with ``language: porter2`` (Lucene's Snowball English).
Stop words stay in the index, as in tantivy; both drop them from queries
(:func:`docentlib.bm25.query_terms`). So both stores rank BM25 alike, and the BM25 parameters
(``k1``, ``b``) are settings of the ``docent_bm25`` similarity.
"""

from __future__ import annotations

from typing import Any

ANALYZER = "docent_text"
SIMILARITY = "docent_bm25"
SPLIT_PATTERN = r"[^\p{L}\p{N}]+"
MAX_TOKEN_CHARS = 39


def analysis() -> dict[str, Any]:
    """The ``settings.index.analysis`` block defining :data:`ANALYZER`."""
    return {
        "tokenizer": {"docent_words": {"type": "pattern", "pattern": SPLIT_PATTERN}},
        "filter": {
            "docent_max_length": {"type": "length", "max": MAX_TOKEN_CHARS},
            "docent_porter2": {"type": "stemmer", "language": "porter2"},
        },
        "analyzer": {
            ANALYZER: {
                "type": "custom",
                "tokenizer": "docent_words",
                "filter": ["docent_max_length", "lowercase", "docent_porter2"],
            }
        },
    }


def similarity(k1: float, b: float) -> dict[str, Any]:
    """The ``settings.index.similarity`` block defining :data:`SIMILARITY` (BM25, k1, b)."""
    return {SIMILARITY: {"type": "BM25", "k1": k1, "b": b}}


def text_field() -> dict[str, Any]:
    """The mapping of the one searched field (title, headings and text; ``body_text``)."""
    return {"type": "text", "analyzer": ANALYZER, "similarity": SIMILARITY}
