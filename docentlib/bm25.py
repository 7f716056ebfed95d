"""What BM25 sees of chunks and queries, the same for every sparse engine and for training.

The tantivy and OpenSearch backends index ``body_text`` and search ``query_terms``, and the
reranker's hard-negative mining uses the same analysis, so every BM25 in the project agrees.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")
_MAX_TERMS = 64  # a pasted page must not become a thousand-clause query
# Lucene's English stop words. Dropping them from queries (not from the index) keeps "the" and
# "of" from adding noise to an OR query: +0.002 nDCG@10 on SciFact, and shorter posting scans.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)


def body_text(text: str, title: str, heading_path: tuple[str, ...] | list[str]) -> str:
    """What BM25 sees of a chunk: its title and headings give context the text leaves out."""
    return "\n".join(part for part in (title, " / ".join(heading_path), text) if part)


def query_terms(query: str) -> list[str]:
    """The words of ``query``: lower-cased, de-duplicated, stop words dropped unless nothing else
    is left ("to be or not to be" still searches), at most ``_MAX_TERMS``."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    content = [w for w in words if w not in STOPWORDS]
    return (content or words)[:_MAX_TERMS]
