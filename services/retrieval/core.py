"""The retrieval capability without a transport: store, index, and hybrid search of chunks.

Writes go to the SQLite docstore first (one transaction, new generation), then to both indexes,
which are persisted with that generation. At start-up an index whose generation (or size)
disagrees with the docstore is rebuilt from it, so a crash between those steps costs a rebuild,
never a wrong answer. Methods are synchronous and thread-safe: writes are serialised, searches
run concurrently with each other and only pause while an index is being mutated in memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import numpy as np

from docentlib.errors import InvalidInput, Unavailable
from services.retrieval.dense.faiss_index import DenseParams, FaissIndex
from services.retrieval.docstore import DocStore, WriteResult
from services.retrieval.fusion import normalized_score_fusion, reciprocal_rank_fusion
from services.retrieval.rwlock import RWLock
from services.retrieval.settings import RetrievalSettings
from services.retrieval.sparse import build_sparse_index
from services.retrieval.types import DocumentInfo, DocumentRecord, SearchHit, SearchMode
from services.retrieval.validation import as_mode, as_vector, check_k, validate_documents

log = logging.getLogger(__name__)

DENSE, SPARSE = "dense", "sparse"


class RetrievalCore:
    """Owns the docstore and both indexes under ``settings.resolved_data_dir()``.

    Usage::

        core = RetrievalCore(RetrievalSettings())
        core.upsert([DocumentRecord(...)])
        hits = core.search("roll back a deployment", vector, k=5, mode=SearchMode.HYBRID)
        core.close()
    """

    def __init__(self, settings: RetrievalSettings) -> None:
        self.settings = settings
        root = settings.resolved_data_dir()
        self._dense_path = root / "dense.faiss"
        self._write_lock = threading.Lock()  # one write (docstore + both indexes) at a time
        self._rw = RWLock()  # searches vs. in-memory mutation of the dense index
        self._closed = False
        self._store = DocStore(root / "docstore.sqlite3")
        try:
            self._sparse = build_sparse_index(settings, root / "sparse")
        except BaseException:
            self._store.close()
            raise
        self._dense = self._new_dense()
        self._dense_saved = (0, time.monotonic())  # (generation, when) of the last save
        try:
            self._recover()
        except BaseException:
            self.close()
            raise

    def _new_dense(self) -> FaissIndex:
        s = self.settings
        params = DenseParams(
            kind=s.dense_index,
            hnsw_m=s.hnsw_m,
            hnsw_ef_construction=s.hnsw_ef_construction,
            hnsw_ef_search=s.hnsw_ef_search,
            ivf_nlist=s.ivf_nlist,
            ivf_nprobe=s.ivf_nprobe,
            pq_m=s.pq_m,
            pq_nbits=s.pq_nbits,
        )
        try:
            return FaissIndex(s.dim, params)
        except ValueError as exc:
            raise InvalidInput(f"dense index settings: {exc}") from exc

    def _save_dense(self, generation: int, force: bool = False) -> None:
        """Save now if forced or ``dense_save_interval_s`` has passed since the last save.

        Deferring saves keeps bulk ingestion from rewriting a large index per batch; a crash in
        between only costs a rebuild from the docstore at the next start, never a wrong answer.
        """
        saved_generation, saved_at = self._dense_saved
        if saved_generation == generation:
            return
        due = time.monotonic() - saved_at >= self.settings.dense_save_interval_s
        if force or due:
            self._dense.save(self._dense_path, generation)
            self._dense_saved = (generation, time.monotonic())

    # -- consistency -------------------------------------------------------------------------

    def _recover(self) -> None:
        """Rebuild whichever index does not reflect the docstore's current generation."""
        generation = self._store.generation()
        _, chunks = self._store.counts()
        dense_generation = self._dense.load(self._dense_path)
        if dense_generation != generation or len(self._dense) != chunks:
            log.info("rebuilding dense index", extra={"had": dense_generation, "want": generation})
            self._rebuild_dense(generation)
        else:
            self._dense_saved = (generation, time.monotonic())
        if self._sparse.generation() != generation or len(self._sparse) != chunks:
            log.info("rebuilding sparse index", extra={"want": generation})
            self._rebuild_sparse(generation)

    def _rebuild_dense(self, generation: int) -> None:
        """Build a fresh index aside, save it, then swap it in (searches never wait)."""
        fresh = self._new_dense()
        try:
            for ids, vectors in self._store.iter_vectors():
                fresh.add(ids, vectors)
        except InvalidInput as exc:
            raise Unavailable(
                f"stored vectors do not fit dim={self.settings.dim} ({exc.message}); "
                "set DOCENT_RETRIEVAL_DIM to the embedding model's dimension"
            ) from exc
        fresh.save(self._dense_path, generation)
        with self._rw.write():
            self._dense = fresh
        self._dense_saved = (generation, time.monotonic())

    def _rebuild_sparse(self, generation: int) -> None:
        """Replace every entry in one commit, so searches see the old or the new index."""
        self._sparse.clear()
        for batch in self._store.iter_entries():
            self._sparse.upsert([(e.id, e.text, e.title, e.heading_path) for e in batch])
        self._sparse.commit(generation)

    def _apply(self, result: WriteResult) -> None:
        """Bring both indexes to ``result.generation``; on any failure rebuild them instead."""
        try:
            removed = np.asarray(result.removed_ids, dtype=np.int64)
            ids = np.asarray([e.id for e in result.added], dtype=np.int64)
            with self._rw.write():
                self._dense.remove(removed)
                if result.added:
                    self._dense.add(ids, np.stack([e.vector for e in result.added]))
            self._sparse.remove(result.removed_ids)
            self._sparse.upsert([(e.id, e.text, e.title, e.heading_path) for e in result.added])
            self._sparse.commit(result.generation)
            self._save_dense(result.generation)
        except Exception:
            log.exception("index update failed; rebuilding both indexes from the docstore")
            try:
                self._rebuild_dense(result.generation)
                self._rebuild_sparse(result.generation)
            except Exception as exc:
                raise Unavailable(
                    "the write was stored but the indexes could not be updated; "
                    "they will be rebuilt at the next start"
                ) from exc

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the retrieval core is closed")

    # -- writes --------------------------------------------------------------------------------

    def upsert(self, documents: Sequence[DocumentRecord]) -> tuple[int, int]:
        """Insert or wholly replace documents; returns (documents, chunks) written."""
        validate_documents(documents, self.settings.dim)
        if not documents:
            return 0, 0
        with self._write_lock:
            self._check_open()
            result = self._store.upsert(documents)
            self._apply(result)
        return result.documents, len(result.added)

    def delete(self, doc_ids: Sequence[str], source_paths: Sequence[str]) -> tuple[int, int]:
        """Delete documents by id and/or source path; returns (documents, chunks) deleted."""
        if not doc_ids and not source_paths:
            raise InvalidInput("delete needs at least one doc_id or source_path")
        with self._write_lock:
            self._check_open()
            result = self._store.delete(list(doc_ids), list(source_paths))
            if result.documents:
                self._apply(result)
        return result.documents, len(result.removed_ids)

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
        found: dict[str, list[tuple[int, float]]] = {}
        if use_dense:
            with self._rw.read():
                found[DENSE] = self._dense.search(vector, depth)  # type: ignore[arg-type]
        degraded: list[str] = []
        if use_sparse:
            try:
                found[SPARSE] = self._sparse.search(query, depth)
            except Exception as exc:
                if mode is not SearchMode.HYBRID or DENSE not in found:
                    raise
                log.warning("sparse search failed; dense only", extra={"error": str(exc)})
                degraded.append(SPARSE)
        return self._hits(found, k, fuse=mode is SearchMode.HYBRID), degraded

    def _hits(
        self, found: dict[str, list[tuple[int, float]]], k: int, *, fuse: bool
    ) -> list[SearchHit]:
        """Rank (fusing if asked), join with the docstore, keep the first k that still exist."""
        raw = {name: dict(hits) for name, hits in found.items()}
        if fuse:
            weights = {DENSE: self.settings.dense_weight, SPARSE: self.settings.sparse_weight}
            rankings = {name: [id_ for id_, _ in hits] for name, hits in found.items()}
            if self.settings.fusion == "normalized":
                fused = normalized_score_fusion(found, weights)
            else:
                fused = reciprocal_rank_fusion(rankings, self.settings.rrf_k, weights)
            ranked = [(f.id, f.score, f.ranks) for f in fused]
        else:
            ((name, hits),) = found.items()
            ranked = [(id_, score, {name: r}) for r, (id_, score) in enumerate(hits, start=1)]
        chunks = self._store.get_chunks([id_ for id_, _, _ in ranked])
        out: list[SearchHit] = []
        for id_, score, ranks in ranked:
            chunk = chunks.get(id_)
            if chunk is None:  # deleted between the index lookup and now
                continue
            out.append(
                SearchHit(
                    chunk_id=chunk.chunk_id,
                    doc_id=chunk.doc_id,
                    title=chunk.title,
                    source_path=chunk.source_path,
                    heading_path=chunk.heading_path,
                    text=chunk.text,
                    score=float(score),
                    retriever_scores={name: raw[name][id_] for name in ranks},
                    retriever_ranks=dict(ranks),
                )
            )
            if len(out) == k:
                break
        return out

    def list_documents(self, doc_ids: Sequence[str] | None = None) -> list[DocumentInfo]:
        """Stored documents (all, or only those named) with content hashes and chunk counts."""
        self._check_open()
        return self._store.list_documents(None if doc_ids is None else list(doc_ids))

    def stats(self) -> dict[str, int]:
        """Counts for health checks and metrics."""
        self._check_open()
        documents, chunks = self._store.counts()
        return {
            "documents": documents,
            "chunks": chunks,
            "generation": self._store.generation(),
            "dense_vectors": len(self._dense),
            "sparse_entries": len(self._sparse),
        }

    def close(self) -> None:
        """Release the tantivy writer lock and SQLite connections; safe to call twice."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._save_dense(self._store.generation(), force=True)
            except Exception:  # never block shutdown; the next start rebuilds from the docstore
                log.exception("could not save the dense index on close")
            self._sparse.close()
            self._store.close()
