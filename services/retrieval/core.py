"""The retrieval capability without a transport: validation, and hybrid search over a store.

The store (``DOCENT_RETRIEVAL_STORE``: the embedded SQLite + FAISS + tantivy, or OpenSearch) is
chosen once, here, and used only through :class:`~services.retrieval.store.base.ChunkStore`.
Everything that decides a ranking stays here: how deep each retriever looks, which candidates
the store still shows, the order of equal scores, fusion (RRF or normalised scores) and
falling back to dense when BM25 fails, so every store ranks alike.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable, Sequence

import numpy as np

from docentlib.errors import InvalidInput, Unavailable
from services.retrieval.fusion import normalized_score_fusion, reciprocal_rank_fusion
from services.retrieval.settings import RetrievalSettings
from services.retrieval.store import STORES, StoreLoader
from services.retrieval.store.base import Candidate, ChunkStore
from services.retrieval.types import (
    DocumentInfo,
    DocumentRecord,
    SearchHit,
    SearchMode,
    StoredChunk,
)
from services.retrieval.validation import as_mode, as_vector, check_k, validate_documents

log = logging.getLogger(__name__)

DENSE, SPARSE = "dense", "sparse"
# Extra hits asked of each retriever beyond its depth: after ties are ordered by chunk id the
# list is cut at the depth, so an engine's own order of equal scores (its segments, shards,
# replicas) never decides which tied chunk makes the cut, unless more than this many tie there.
TIE_MARGIN = 8


def _canonical(candidates: list[Candidate], chunks: dict[Hashable, StoredChunk]) -> list[Candidate]:
    """The candidates the store still shows, best score first, equal scores by chunk id: the
    same order from every store, replica and index layout."""
    shown = [c for c in candidates if c.key in chunks]
    return sorted(shown, key=lambda c: (-c.score, chunks[c.key].chunk_id))


class RetrievalCore:
    """Validates requests and ranks what the configured store finds.

    Usage::

        core = RetrievalCore(RetrievalSettings())
        core.upsert([DocumentRecord(...)])
        hits = core.search("roll back a deployment", vector, k=5, mode=SearchMode.HYBRID)
        core.close()

    :param stop: set on shutdown; a store still waiting for its engine at start-up gives up.
    """

    def __init__(self, settings: RetrievalSettings, stop: threading.Event | None = None) -> None:
        self.settings = settings
        open_store: StoreLoader = STORES.get(settings.store)
        self.store: ChunkStore = open_store(settings, stop or threading.Event())
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the retrieval core is closed")

    # -- writes --------------------------------------------------------------------------------

    def upsert(self, documents: Sequence[DocumentRecord]) -> tuple[int, int]:
        """Insert or wholly replace documents; returns (documents, chunks) written."""
        validate_documents(documents, self.settings.dim)
        if not documents:
            return 0, 0
        self._check_open()
        written = self.store.upsert(documents)
        return written.documents, written.chunks

    def delete(self, doc_ids: Sequence[str], source_paths: Sequence[str]) -> tuple[int, int]:
        """Delete documents by id and/or source path; returns (documents, chunks) deleted."""
        if not doc_ids and not source_paths:
            raise InvalidInput("delete needs at least one doc_id or source_path")
        self._check_open()
        deleted = self.store.delete(list(doc_ids), list(source_paths))
        return deleted.documents, deleted.chunks

    # -- reads ---------------------------------------------------------------------------------

    def search(
        self, query: str, vector: np.ndarray | None, k: int, mode: SearchMode | str
    ) -> list[SearchHit]:
        """The k best chunks. Sparse needs ``query``, dense needs ``vector``; hybrid uses
        whichever it gets and fuses the rankings with weighted reciprocal rank fusion."""
        return self.search_detailed(query, vector, k, mode)[0]

    def search_detailed(
        self, query: str, vector: np.ndarray | None, k: int, mode: SearchMode | str
    ) -> tuple[list[SearchHit], list[str]]:
        """:meth:`search` plus the retrievers that failed and were left out: in hybrid mode a
        failing sparse engine (an OpenSearch outage) degrades to dense only, flagged
        ``["sparse"]``, instead of failing the search."""
        self._check_open()
        mode = as_mode(mode)
        k = check_k(k, self.settings.max_k)
        query = query or ""
        if vector is not None and np.asarray(vector).size == 0:
            vector = None
        use_sparse = mode in (SearchMode.SPARSE, SearchMode.HYBRID) and bool(query.strip())
        use_dense = mode in (SearchMode.DENSE, SearchMode.HYBRID) and vector is not None
        if use_dense:
            vector = as_vector(vector, self.settings.dim, "query vector")
        if mode is SearchMode.SPARSE and not use_sparse:
            raise InvalidInput("sparse search needs a non-empty query")
        if mode is SearchMode.DENSE and not use_dense:
            raise InvalidInput(f"dense search needs a query vector of dim {self.settings.dim}")
        if not (use_sparse or use_dense):
            raise InvalidInput("hybrid search needs a query, a vector, or both")

        depth = k if mode is not SearchMode.HYBRID else max(k, self.settings.fetch_depth)
        fetch = depth + TIE_MARGIN
        found: dict[str, list[Candidate]] = {}
        degraded: list[str] = []
        with self.store.view():
            if use_dense:
                found[DENSE] = self.store.search_dense(vector, fetch)  # type: ignore[arg-type]
            if use_sparse:
                try:
                    found[SPARSE] = self.store.search_sparse(query, fetch)
                except Exception as exc:
                    if mode is not SearchMode.HYBRID or DENSE not in found:
                        raise
                    log.warning("sparse search failed; dense only", extra={"error": str(exc)})
                    degraded.append(SPARSE)
            first: dict[Hashable, Candidate] = {}
            for candidates in found.values():
                for candidate in candidates:
                    first.setdefault(candidate.key, candidate)
            chunks = self.store.resolve(list(first.values()))
        ranked = {name: _canonical(hits, chunks)[:depth] for name, hits in found.items()}
        return self._hits(ranked, chunks, k, fuse=mode is SearchMode.HYBRID), degraded

    def _hits(
        self,
        found: dict[str, list[Candidate]],
        chunks: dict[Hashable, StoredChunk],
        k: int,
        *,
        fuse: bool,
    ) -> list[SearchHit]:
        """Rank (fusing if asked) and keep the first k."""
        raw = {name: {c.key: c.score for c in hits} for name, hits in found.items()}
        ranked: list[tuple[Hashable, float, dict[str, int]]]
        if fuse:
            weights = {DENSE: self.settings.dense_weight, SPARSE: self.settings.sparse_weight}
            if self.settings.fusion == "normalized":
                scored = {name: [(c.key, c.score) for c in hits] for name, hits in found.items()}
                fused = normalized_score_fusion(scored, weights)
            else:
                rankings = {name: [c.key for c in hits] for name, hits in found.items()}
                fused = reciprocal_rank_fusion(rankings, self.settings.rrf_k, weights)
            ranked = [(f.id, f.score, f.ranks) for f in fused]
        else:
            ((name, hits),) = found.items()
            ranked = [(c.key, c.score, {name: r}) for r, c in enumerate(hits, start=1)]
        out: list[SearchHit] = []
        for key, score, ranks in ranked[:k]:
            chunk = chunks[key]
            out.append(
                SearchHit(
                    chunk_id=chunk.chunk_id,
                    doc_id=chunk.doc_id,
                    title=chunk.title,
                    source_path=chunk.source_path,
                    heading_path=chunk.heading_path,
                    text=chunk.text,
                    score=float(score),
                    retriever_scores={name: raw[name][key] for name in ranks},
                    retriever_ranks=dict(ranks),
                )
            )
        return out

    def list_documents(self, doc_ids: Sequence[str] | None = None) -> list[DocumentInfo]:
        """Stored documents (all, or only those named) with content hashes and chunk counts."""
        self._check_open()
        return self.store.list_documents(None if doc_ids is None else list(doc_ids))

    def stats(self) -> dict[str, int]:
        """Counts for health checks and metrics (what the store reports)."""
        self._check_open()
        return self.store.stats()

    def close(self) -> None:
        """Close the store; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.store.close()
