"""Transport-free values the retrieval core takes and returns (the servicer maps them to proto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class SearchMode(StrEnum):
    """Which retrievers answer a search."""

    SPARSE = "sparse"
    DENSE = "dense"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk as ingestion sends it: text, where it sits, and its unit-length embedding."""

    chunk_id: str
    text: str
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    vector: np.ndarray = field(repr=False)  # float32, shape (dim,)


@dataclass(frozen=True)
class DocumentRecord:
    """A whole document; upserting it replaces every chunk it had before."""

    doc_id: str
    title: str
    source_path: str
    content_hash: str
    chunks: tuple[ChunkRecord, ...]


@dataclass(frozen=True)
class SearchHit:
    """One result; ``retriever_scores``/``retriever_ranks`` are keyed "dense" and "sparse"."""

    chunk_id: str
    doc_id: str
    title: str
    source_path: str
    heading_path: tuple[str, ...]
    text: str
    score: float
    retriever_scores: dict[str, float]
    retriever_ranks: dict[str, int]  # 1-based


@dataclass(frozen=True)
class DocumentInfo:
    """What ListDocuments reports; the content hash lets ingestion skip unchanged files."""

    doc_id: str
    title: str
    source_path: str
    content_hash: str
    chunk_count: int


@dataclass(frozen=True)
class StoredChunk:
    """A chunk joined with its document: what a search hit shows of it."""

    chunk_id: str
    doc_id: str
    title: str
    source_path: str
    heading_path: tuple[str, ...]
    text: str
