"""Deterministic synthetic documents for the retrieval tests (no embedding model needed)."""

from __future__ import annotations

import numpy as np

from services.retrieval.types import ChunkRecord, DocumentRecord

DIM = 16


def unit(seed: int, dim: int = DIM) -> np.ndarray:
    """A reproducible random unit vector."""
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def make_doc(
    doc_id: str,
    texts: list[str],
    *,
    title: str | None = None,
    source_path: str | None = None,
    content_hash: str = "hash",
    seed: int = 0,
    dim: int = DIM,
) -> DocumentRecord:
    """A document whose chunk i has text ``texts[i]`` and vector ``unit(seed + i)``."""
    title = title or f"Title of {doc_id}"
    chunks = []
    offset = 0
    for i, text in enumerate(texts):
        chunks.append(
            ChunkRecord(
                chunk_id=f"{doc_id}#{i}",
                text=text,
                heading_path=(title, f"Section {i}"),
                char_start=offset,
                char_end=offset + len(text),
                vector=unit(seed + i, dim),
            )
        )
        offset += len(text)
    return DocumentRecord(
        doc_id=doc_id,
        title=title,
        source_path=source_path or f"docs/{doc_id}.md",
        content_hash=content_hash,
        chunks=tuple(chunks),
    )


NASTY_QUERIES = [
    "What's `kubectl rollout undo`?",
    '"unterminated quote',
    'say "hello" to: (parens',
    "title:",
    "id:1",
    "a:b:c::",
    "+-!&|^~*?",
    "AND OR NOT",
    "NOT",
    "pods^2 OR",
    "[1 TO",
    "{a TO b}",
    "\\",
    "/regex.*/",
    "*",
    "IN [a b]",
    "ünïcödé 日本語 🚀",
    "x" * 200,
    "word " * 500,
    "\x00\n\t",
]
