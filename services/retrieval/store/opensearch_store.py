"""The cluster store: chunks, their metadata, BM25 and vectors all in OpenSearch.

Retrieval replicas hold no state, so they run as a Deployment with an autoscaler. Request
bodies come from :mod:`~services.retrieval.store.opensearch_bodies`; this module sends them.

Index definitions come from :mod:`~services.retrieval.store.opensearch_indexes`.

Writing a document (docs/opensearch.md has the reasoning):

1. its chunks are written as a new *version* (unique id), in bulk, and made searchable
   (``refresh=wait_for``); searches do not show them yet, their version is not current;
2. its record in ``<index>-documents`` is switched to that version in one document write,
   conditioned on the record not having changed since it was read (optimistic concurrency);
3. chunks of the version it replaced are deleted (and old leftovers of failed writes).

A search reads candidates from both retrievers, then the records of their documents (a
real-time ``_mget``), and shows a document's chunks only of the version its record names (or,
for a switch younger than ``opensearch_replace_grace_s``, of the previous version when the
search's view predates the new one). Deleting a document deletes its record first.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from docentlib.errors import InvalidInput, Unavailable
from services.retrieval.opensearch_client import (
    OpenSearchConnection,
    OpenSearchUnavailable,
    wait_for,
)
from services.retrieval.settings import RetrievalSettings
from services.retrieval.store import opensearch_bodies as bodies
from services.retrieval.store import opensearch_indexes as indexes
from services.retrieval.store.base import Candidate, WriteCounts
from services.retrieval.store.opensearch_bodies import BulkOp, ChunkKey, Record
from services.retrieval.types import DocumentInfo, DocumentRecord, StoredChunk

log = logging.getLogger(__name__)

FLIP_ATTEMPTS = 5  # concurrent writers of one document each win eventually
PAGE = 1000  # records per page when listing


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class OpenSearchStore:
    """A :class:`~services.retrieval.store.base.ChunkStore` in an OpenSearch cluster.

    Usage::

        store = OpenSearchStore.open(RetrievalSettings(store="opensearch"))
        store.upsert([DocumentRecord(...)])
        store.search_dense(vector, 10)
        store.close()

    :raises Unavailable: from every method when OpenSearch cannot be reached, times out,
        refuses the credentials or rejects a request; the message names hosts (never
        credentials), index and operation.
    """

    def __init__(self, settings: RetrievalSettings, conn: OpenSearchConnection) -> None:
        self.settings = settings
        self.index = settings.opensearch_index
        self.documents = indexes.documents_index(self.index)
        self._conn = conn
        self._client = conn.client
        self._closed = False

    @classmethod
    def open(
        cls, settings: RetrievalSettings, stop: threading.Event | None = None
    ) -> OpenSearchStore:
        """The store registry's factory: connect and create or check both indexes, retrying
        with backoff while the cluster is unreachable or not ready, for at most
        ``opensearch_startup_timeout_s`` (the service is NOT_SERVING meanwhile)."""
        conn = OpenSearchConnection(settings)
        store = cls(settings, conn)
        try:
            wait_for(
                f"OpenSearch store at {conn.where}",
                store._ensure_indexes,
                total_s=settings.opensearch_startup_timeout_s,
                stop=stop,
            )
        except BaseException:
            conn.close()
            raise
        return store

    def _call(self, op: str, fn: Any, on: str, **kwargs: Any) -> Any:
        """One request about index ``on`` (named in errors)."""
        return self._conn.call(op, fn, target=f"index {on!r}", **kwargs)

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the retrieval store is closed")

    # -- indexes ---------------------------------------------------------------------------------

    def _ensure_indexes(self) -> None:
        """Create each index if missing; refuse one this store did not create as configured."""
        for name, definition in (
            (self.index, indexes.chunk_index_definition(self.settings)),
            (self.documents, indexes.documents_index_definition(self.settings)),
        ):
            indices = self._client.indices
            if not self._call("exists", indices.exists, name, index=name):
                try:
                    self._call("create_index", indices.create, name, index=name, body=definition)
                except OpenSearchUnavailable as exc:  # another replica created it first: fine
                    if exc.error != "resource_already_exists_exception":
                        raise
            mapping = self._call("get_mapping", indices.get_mapping, name, index=name)
            problem = indexes.meta_problem(mapping, definition["mappings"]["_meta"], name)
            if problem:
                raise Unavailable(problem)

    # -- writes ----------------------------------------------------------------------------------

    def _bulk(self, ops: Sequence[BulkOp], index: str) -> list[tuple[str, int, str, str]]:
        """Send ``ops`` in requests of ``opensearch_bulk_chunk``; each request returns once its
        writes are searchable. Returns every item's (_id, status, error type, reason)."""
        results = []
        for lines in bodies.bulk_requests(ops, self.settings.opensearch_bulk_chunk):
            response = self._call(
                "bulk",
                self._client.bulk,
                index,
                body=lines,
                refresh="wait_for",
                request_timeout=self.settings.opensearch_bulk_timeout_s,
            )
            results.extend(bodies.bulk_results(response))
        return results

    def _delete_by_query(self, index: str, body: dict[str, Any]) -> int:
        response = self._call(
            "delete_by_query",
            self._client.delete_by_query,
            index,
            index=index,
            body=body,
            conflicts="proceed",
            refresh=True,
            request_timeout=self.settings.opensearch_bulk_timeout_s,
        )
        if response.get("failures"):
            raise Unavailable(
                f"OpenSearch could not delete from index {index!r}: {response['failures'][:3]}"
            )
        return int(response.get("deleted", 0))

    def upsert(self, documents: Sequence[DocumentRecord]) -> WriteCounts:
        self._check_open()
        self._check_chunk_owners(documents)
        current = self._records([d.doc_id for d in documents])
        versions = {d.doc_id: uuid.uuid4().hex for d in documents}
        written_at = now_ms()
        ops = [
            op
            for d in documents
            for op in bodies.chunk_ops(self.index, d, versions[d.doc_id], written_at)
        ]
        try:
            failed = [r for r in self._bulk(ops, self.index) if r[1] >= 300]
            if failed:
                _id, status, kind, reason = failed[0]
                raise Unavailable(
                    f"OpenSearch rejected {len(failed)} of {len(ops)} chunk writes to index "
                    f"{self.index!r}, e.g. _id={_id}: {status} {kind} {reason}"
                )
            replaced, abandoned = self._switch(documents, versions, current)
        except Exception:
            self._forget_unswitched(versions)
            raise
        self._cleanup(replaced + abandoned, documents, versions)
        return WriteCounts(len(documents), sum(len(d.chunks) for d in documents))

    def _switch(
        self,
        documents: Sequence[DocumentRecord],
        versions: dict[str, str],
        current: dict[str, Record],
    ) -> tuple[list[str], list[str]]:
        """Make each document's new version current; returns (versions replaced, versions
        given up because the document was deleted meanwhile: the delete came last)."""
        pending = {d.doc_id: d for d in documents}
        known: dict[str, Record | None] = {d.doc_id: current.get(d.doc_id) for d in documents}
        replaced: list[str] = []
        abandoned: list[str] = []
        for _ in range(FLIP_ATTEMPTS):
            flipped_at = now_ms()
            ops: list[BulkOp] = []
            for doc_id, doc in pending.items():
                before = known[doc_id]
                previous = before.version if before else None
                ops.append(
                    (
                        bodies.flip_action(self.documents, doc_id, before),
                        bodies.record_source(doc, versions[doc_id], previous, flipped_at),
                    )
                )
            by_record = {bodies.record_id(doc_id): doc_id for doc_id in pending}
            conflicts: list[str] = []
            for _id, status, kind, reason in self._bulk(ops, self.documents):
                doc_id = by_record[_id]
                if status < 300:
                    before = known[doc_id]
                    if before is not None:
                        replaced.append(before.version)
                    del pending[doc_id]
                elif status == 409:
                    conflicts.append(doc_id)
                else:
                    raise Unavailable(
                        f"OpenSearch rejected the record of document {doc_id!r} in index "
                        f"{self.documents!r}: {status} {kind} {reason}"
                    )
            if not pending:
                return replaced, abandoned
            reread = self._records(conflicts)
            for doc_id in conflicts:
                now = reread.get(doc_id)
                if now is not None and now.version == versions[doc_id]:
                    # our own switch landed and answered late (a retried request): done
                    before = known[doc_id]
                    if before is not None:
                        replaced.append(before.version)
                    del pending[doc_id]
                elif now is None and known[doc_id] is not None:
                    abandoned.append(versions[doc_id])  # deleted meanwhile: the delete is last
                    del pending[doc_id]
                else:
                    known[doc_id] = now
            if not pending:
                return replaced, abandoned
        raise Unavailable(
            f"documents {sorted(pending)} kept changing under {FLIP_ATTEMPTS} concurrent "
            "writes; try again"
        )

    def _cleanup(
        self, replaced: list[str], documents: Sequence[DocumentRecord], versions: dict[str, str]
    ) -> None:
        """Delete chunks no search will show again. Best effort: what stays is never shown."""
        cutoff = now_ms() - int(self.settings.opensearch_orphan_grace_s * 1000)
        query = bodies.cleanup_query(
            replaced, [d.doc_id for d in documents], list(versions.values()), cutoff
        )
        if query is None:
            return
        try:
            self._delete_by_query(self.index, query)
        except Unavailable as exc:
            log.warning("could not delete replaced chunks", extra={"error": exc.message})

    def _forget_unswitched(self, versions: dict[str, str]) -> None:
        """After a failed upsert, delete the chunks of every version it wrote that no record
        names (never shown). Best effort: if OpenSearch is down they stay until the
        document's next write deletes them as leftovers."""
        try:
            records = self._records(list(versions))
            stale = [
                version
                for doc_id, version in versions.items()
                if doc_id not in records or records[doc_id].version != version
            ]
            if stale:
                self._delete_by_query(self.index, bodies.versions_query(stale))
        except Unavailable as exc:
            log.warning("could not delete a failed upsert's chunks", extra={"error": exc.message})

    def _check_chunk_owners(self, documents: Sequence[DocumentRecord]) -> None:
        """Refuse chunk ids that are current chunks of other documents, as the embedded
        docstore does (chunk ids are unique across documents)."""
        doc_ids = [d.doc_id for d in documents]
        chunk_ids = [c.chunk_id for d in documents for c in d.chunks]
        for batch in bodies.batches(chunk_ids):
            body = bodies.owned_elsewhere_body(batch, doc_ids)
            response = self._call(
                "search", self._client.search, self.index, index=self.index, body=body
            )
            hits = [h["_source"] for h in response.get("hits", {}).get("hits", [])]
            if not hits:
                continue
            records = self._records([h["doc_id"] for h in hits])
            for hit in hits:
                record = records.get(hit["doc_id"])
                if record is not None and record.version == hit["version"]:
                    raise InvalidInput(
                        f"upsert rejected: chunk_id {hit['chunk_id']!r} belongs to another "
                        f"document ({hit['doc_id']!r})"
                    )

    def delete(self, doc_ids: Sequence[str], source_paths: Sequence[str]) -> WriteCounts:
        """Delete records first (the documents vanish from searches at once), then chunks."""
        self._check_open()
        records = self._records(doc_ids)
        records.update(self._records_by_paths(source_paths))
        if not records:
            return WriteCounts(0, 0)
        ops: list[BulkOp] = [
            ({"delete": {"_index": self.documents, "_id": bodies.record_id(doc_id)}}, None)
            for doc_id in sorted(records)
        ]
        failed = [r for r in self._bulk(ops, self.documents) if r[1] >= 300 and r[1] != 404]
        if failed:
            raise Unavailable(f"OpenSearch could not delete records: {failed[:3]}")
        for batch in bodies.batches(sorted(records)):
            self._delete_by_query(self.index, bodies.delete_query(batch))
        return WriteCounts(len(records), sum(r.chunk_count for r in records.values()))

    # -- reads -----------------------------------------------------------------------------------

    def _records(self, doc_ids: Sequence[str]) -> dict[str, Record]:
        """Current records by document id, read in real time (no refresh needed)."""
        found: dict[str, Record] = {}
        for batch in bodies.batches(doc_ids):
            ids = [bodies.record_id(doc_id) for doc_id in batch]
            response = self._call(
                "mget", self._client.mget, self.documents, index=self.documents, body={"ids": ids}
            )
            found.update(bodies.records_from_mget(response))
        return found

    def _records_by_paths(self, source_paths: Sequence[str]) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for batch in bodies.batches(source_paths):
            after: str | None = None
            while True:
                body = bodies.records_by_path_body(batch, PAGE, after)
                page = self._search_records(body)
                found.update((r.doc_id, r) for r in page)
                if len(page) < PAGE:
                    break
                after = page[-1].doc_id
        return found

    def _search_records(self, body: dict[str, Any]) -> list[Record]:
        response = self._call(
            "search", self._client.search, self.documents, index=self.documents, body=body
        )
        hits = response.get("hits", {}).get("hits", [])
        return [r for r in map(bodies.parse_record, hits) if r is not None]

    def view(self) -> AbstractContextManager[None]:
        """Nothing to hold: versions make every search consistent (see :meth:`resolve`)."""
        return nullcontext()

    def search_dense(self, vector: np.ndarray, k: int) -> list[Candidate]:
        self._check_open()
        body = bodies.knn_body(vector, k)
        response = self._call(
            "search", self._client.search, self.index, index=self.index, body=body
        )
        return bodies.parse_candidates(response, space=self.settings.opensearch_knn_space)

    def search_sparse(self, query: str, k: int) -> list[Candidate]:
        self._check_open()
        body = bodies.match_body(query, k)
        if body is None:
            return []
        response = self._call(
            "search", self._client.search, self.index, index=self.index, body=body
        )
        scale = bodies.bm25_scale(self.settings.opensearch_bm25_k1)
        return bodies.parse_candidates(response, scale=scale)

    def resolve(self, candidates: Sequence[Candidate]) -> dict[Hashable, StoredChunk]:
        """Candidates whose version their document's record shows (see
        :func:`~services.retrieval.store.opensearch_bodies.shown_version`)."""
        self._check_open()
        found: dict[str, set[str]] = defaultdict(set)
        for candidate in candidates:
            key: ChunkKey = candidate.key  # type: ignore[assignment]
            found[key.doc_id].add(key.version)
        if not found:
            return {}
        records = self._records(list(found))
        now, grace = now_ms(), int(self.settings.opensearch_replace_grace_s * 1000)
        shown = {
            doc_id: bodies.shown_version(records.get(doc_id), versions, now, grace)
            for doc_id, versions in found.items()
        }
        out: dict[Hashable, StoredChunk] = {}
        for candidate in candidates:
            key = candidate.key  # type: ignore[assignment]
            if candidate.chunk is not None and shown[key.doc_id] == key.version:
                out[key] = candidate.chunk
        return out

    def list_documents(self, doc_ids: Sequence[str] | None = None) -> list[DocumentInfo]:
        self._check_open()
        if doc_ids is not None:
            return [r.info() for _, r in sorted(self._records(doc_ids).items())]
        out: list[DocumentInfo] = []
        after: str | None = None
        while True:
            page = self._search_records(bodies.all_records_body(PAGE, after))
            out.extend(r.info() for r in page)
            if len(page) < PAGE:
                return out
            after = page[-1].doc_id

    def stats(self) -> dict[str, int]:
        """``documents`` (records) and ``chunks`` (stored chunk versions: equal to the current
        chunks once every write has cleaned up after itself)."""
        self._check_open()
        count = self._client.count
        documents = self._call("count", count, self.documents, index=self.documents)["count"]
        chunks = self._call("count", count, self.index, index=self.index)["count"]
        return {"documents": int(documents), "chunks": int(chunks)}

    def close(self) -> None:
        """Close the HTTP connection pools; safe to call twice."""
        self._closed = True
        self._conn.close()
