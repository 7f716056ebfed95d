"""The single-machine store: SQLite docstore + dense index (FAISS) + sparse index (tantivy).

Writes go to the docstore first (one transaction, new generation), then to both indexes, which
are persisted with that generation. At start-up an index whose generation (or size) disagrees
with the docstore is rebuilt from it, so a crash between those steps costs a rebuild, never a
wrong answer. Methods are thread-safe: writes are serialised; searches run concurrently with
each other, and a search (inside :meth:`EmbeddedStore.view`) never overlaps the part of a
write that changes what it sees (docstore commit, index changes, tantivy commit), so it sees
a document wholly before or wholly after an upsert, never a mix or nothing. Saving the dense
index to disk happens outside that part.

The dense and sparse engines are chosen by their settings through registries
(``dense.DENSE_INDEXES``, ``sparse.SPARSE_INDEXES``) and used only through their protocols.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np

from docentlib.errors import InvalidInput, Unavailable
from services.retrieval.dense import DENSE_INDEXES, DenseLoader
from services.retrieval.dense.base import DenseIndex
from services.retrieval.docstore import DocStore, WriteResult
from services.retrieval.rwlock import RWLock
from services.retrieval.settings import RetrievalSettings
from services.retrieval.sparse import SPARSE_INDEXES, SparseLoader
from services.retrieval.sparse.base import SparseIndex
from services.retrieval.store.base import Candidate, WriteCounts
from services.retrieval.types import DocumentInfo, DocumentRecord, StoredChunk

log = logging.getLogger(__name__)


class EmbeddedStore:
    """A :class:`~services.retrieval.store.base.ChunkStore` under one data directory.

    Usage::

        store = EmbeddedStore.open(RetrievalSettings())
        store.upsert([DocumentRecord(...)])
        store.search_sparse("roll back a deployment", 10)
        store.close()

    Only one process may open a directory (the tantivy writer lock enforces it), so the
    embedded store runs as one replica.
    """

    def __init__(self, settings: RetrievalSettings, root: Path) -> None:
        self.settings = settings
        self._dense_path = root / "dense.faiss"
        self._write_lock = threading.Lock()  # one write (docstore + both indexes) at a time
        self._rw = RWLock()  # searches vs. in-memory mutation of the dense index
        self._closed = False
        self._new_dense: DenseLoader = DENSE_INDEXES.get(settings.dense_index)
        new_sparse: SparseLoader = SPARSE_INDEXES.get(settings.sparse_backend)
        self._store = DocStore(root / "docstore.sqlite3")
        try:
            self._sparse: SparseIndex = new_sparse(settings, root / "sparse")
        except BaseException:
            self._store.close()
            raise
        self._dense: DenseIndex = self._fresh_dense()
        self._dense_saved = (0, time.monotonic())  # (generation, when) of the last save
        try:
            self._recover()
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(
        cls, settings: RetrievalSettings, stop: threading.Event | None = None
    ) -> EmbeddedStore:
        """The store registry's factory: the store under ``settings.resolved_data_dir()``
        (``stop`` is unused: opening never waits for anything)."""
        return cls(settings, settings.resolved_data_dir())

    def _fresh_dense(self) -> DenseIndex:
        try:
            return self._new_dense(self.settings)
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
        fresh = self._fresh_dense()
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

    def _apply(self, result: WriteResult) -> bool:
        """Bring both indexes to ``result.generation`` (the caller holds the write lock);
        False when that failed and they must be rebuilt."""
        try:
            removed = np.asarray(result.removed_ids, dtype=np.int64)
            ids = np.asarray([e.id for e in result.added], dtype=np.int64)
            self._dense.remove(removed)
            if result.added:
                self._dense.add(ids, np.stack([e.vector for e in result.added]))
            self._sparse.remove(result.removed_ids)
            self._sparse.upsert([(e.id, e.text, e.title, e.heading_path) for e in result.added])
            self._sparse.commit(result.generation)
            return True
        except Exception:
            log.exception("index update failed; rebuilding both indexes from the docstore")
            return False

    def _write(self, change: Callable[[], WriteResult]) -> WriteResult:
        """Run a docstore ``change`` and its index updates as one step no search overlaps,
        then save the dense index if due (or rebuild both indexes if updating them failed)."""
        with self._write_lock:
            self._check_open()
            with self._rw.write():
                result = change()
                applied = result.documents == 0 or self._apply(result)
            if applied:
                self._save_dense(result.generation)
                return result
            try:
                self._rebuild_dense(result.generation)
                self._rebuild_sparse(result.generation)
            except Exception as exc:
                raise Unavailable(
                    "the write was stored but the indexes could not be updated; "
                    "they will be rebuilt at the next start"
                ) from exc
        return result

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the retrieval store is closed")

    # -- ChunkStore ----------------------------------------------------------------------------

    def upsert(self, documents: Sequence[DocumentRecord]) -> WriteCounts:
        result = self._write(lambda: self._store.upsert(documents))
        return WriteCounts(result.documents, len(result.added))

    def delete(self, doc_ids: Sequence[str], source_paths: Sequence[str]) -> WriteCounts:
        result = self._write(lambda: self._store.delete(list(doc_ids), list(source_paths)))
        return WriteCounts(result.documents, len(result.removed_ids))

    def view(self) -> AbstractContextManager[None]:
        """Hold off writes while a search reads both indexes and the docstore."""
        return self._rw.read()

    def search_dense(self, vector: np.ndarray, k: int) -> list[Candidate]:
        self._check_open()
        with self._rw.read():
            hits = self._dense.search(vector, k)
        return [Candidate(id_, score) for id_, score in hits]

    def search_sparse(self, query: str, k: int) -> list[Candidate]:
        self._check_open()
        with self._rw.read():
            hits = self._sparse.search(query, k)
        return [Candidate(id_, score) for id_, score in hits]

    def resolve(self, candidates: Sequence[Candidate]) -> dict[Hashable, StoredChunk]:
        """Chunks from the docstore (inside the same :meth:`view` as the index lookups, all
        are there)."""
        self._check_open()
        ids = [int(c.key) for c in candidates]  # type: ignore[call-overload]
        with self._rw.read():
            return {key: chunk for key, chunk in self._store.get_chunks(ids).items()}

    def list_documents(self, doc_ids: Sequence[str] | None = None) -> list[DocumentInfo]:
        self._check_open()
        return self._store.list_documents(None if doc_ids is None else list(doc_ids))

    def stats(self) -> dict[str, int]:
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
        """Save the dense index, release the tantivy writer lock and SQLite connections."""
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
