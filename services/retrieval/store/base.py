"""What the retrieval core needs of a store: documents in, ranked candidates out.

A store keeps chunks with their metadata (the document store), a BM25 index over their text and
a vector index over their embeddings. It only retrieves; ranking logic (how many to fetch,
fusion, degrading to dense when BM25 fails) stays in :class:`~services.retrieval.core.
RetrievalCore`, so every store ranks the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from services.retrieval.types import DocumentInfo, DocumentRecord, StoredChunk


@dataclass(frozen=True)
class Candidate:
    """One chunk one retriever found, with its score (BM25, or cosine for dense).

    ``key`` identifies the stored chunk within its store (a docstore row id, an OpenSearch
    ``_id``...); equal keys from the dense and the sparse list are the same chunk, which is what
    fusion needs. ``chunk`` is the chunk when the search already returned it (OpenSearch does;
    the embedded store reads it from its docstore in :meth:`ChunkStore.resolve`).
    """

    key: Hashable
    score: float
    chunk: StoredChunk | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class WriteCounts:
    """What a write changed: documents, and chunks written (upsert) or removed (delete)."""

    documents: int
    chunks: int


class ChunkStore(Protocol):
    """Documents, their chunks, BM25 over the chunks' text and vectors for k-NN.

    Writes are whole documents: an upsert replaces every chunk a document had, and no search
    ever sees a mix of its old and new chunks, or neither. Every method may raise
    :class:`~docentlib.errors.Unavailable` when the backing engine is down.
    """

    def upsert(self, documents: Sequence[DocumentRecord]) -> WriteCounts:
        """Insert or wholly replace documents (already validated by the core)."""
        ...

    def delete(self, doc_ids: Sequence[str], source_paths: Sequence[str]) -> WriteCounts:
        """Delete the documents named by id or by source path (unknown ones are ignored)."""
        ...

    def view(self) -> AbstractContextManager[None]:
        """A consistent view for one search: the searches and :meth:`resolve` made inside it
        see each document wholly before or wholly after any write."""
        ...

    def search_dense(self, vector: np.ndarray, k: int) -> list[Candidate]:
        """Up to k nearest chunks to the unit ``vector``, best first, scored by cosine."""
        ...

    def search_sparse(self, query: str, k: int) -> list[Candidate]:
        """Up to k best BM25 matches for ``query``, best first (any text; none gives [])."""
        ...

    def resolve(self, candidates: Sequence[Candidate]) -> dict[Hashable, StoredChunk]:
        """The chunks behind ``candidates`` (keyed by ``key``) that a search may show:
        chunks deleted since, or of a document version no longer visible, are left out."""
        ...

    def list_documents(self, doc_ids: Sequence[str] | None = None) -> list[DocumentInfo]:
        """Stored documents ordered by id, all of them or only those named."""
        ...

    def stats(self) -> dict[str, int]:
        """Counts for health checks and tests: at least ``documents`` and ``chunks``."""
        ...

    def close(self) -> None:
        """Release files, locks and connections; safe to call twice."""
        ...
