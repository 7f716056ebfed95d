"""BM25 over chunks in an OpenSearch index, for clusters: the same contract as tantivy.

The request bodies come from :mod:`~services.retrieval.sparse.opensearch_bodies`; this module
only sends them. The index is created with periodic refresh off, so writes become searchable
at :meth:`OpenSearchIndex.commit` (one refresh), which then records the docstore generation in
the mapping's ``_meta``. Before the first write after a commit that generation is set to
``None``, so an index a crash left half-written is rebuilt by the core at its next start.

One index belongs to one retrieval docstore: retrieval replicas with their own SQLite docstores
must each have their own ``DOCENT_RETRIEVAL_OPENSEARCH_INDEX``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from docentlib.errors import Unavailable
from services.retrieval.opensearch_client import (
    OpenSearchConnection,
    OpenSearchUnavailable,
    wait_for,
)
from services.retrieval.settings import RetrievalSettings
from services.retrieval.sparse import opensearch_bodies as bodies
from services.retrieval.sparse.base import SparseEntry

log = logging.getLogger(__name__)


class OpenSearchIndex:
    """A :class:`~services.retrieval.sparse.base.SparseIndex` stored in OpenSearch.

    Usage::

        index = OpenSearchIndex(RetrievalSettings(sparse_backend="opensearch"))
        index.upsert([(1, "Use kubectl rollout undo.", "Deployments", ("Rolling back",))])
        index.commit(1)
        index.search("roll back", 10)  # [(1, 0.87)]

    :raises Unavailable: from every method, when OpenSearch cannot be reached, times out,
        refuses the credentials or rejects a request; the message names host, index and cause.
    """

    def __init__(self, settings: RetrievalSettings) -> None:
        self.settings = settings
        self.name = settings.opensearch_index
        self._conn = OpenSearchConnection(settings)
        self._client = self._conn.client
        self._dirty = False  # a change was sent since the last commit
        self._generation: int | None = None
        try:
            wait_for(
                f"OpenSearch index {self.name!r}",
                self._ensure_index,
                total_s=settings.opensearch_startup_timeout_s,
            )
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def open(cls, settings: RetrievalSettings, directory: Path) -> OpenSearchIndex:
        """The registry's factory: the index lives in the cluster, ``directory`` is unused."""
        return cls(settings)

    def _call(self, op: str, fn: Any, **kwargs: Any) -> Any:
        return self._conn.call(op, fn, target=f"index {self.name!r}", **kwargs)

    # -- index lifecycle -----------------------------------------------------------------------

    def _ensure_index(self) -> None:
        """Create the index if missing; recreate it if docent made it with another schema."""
        if not self._call("exists", self._client.indices.exists, index=self.name):
            self._create()
            return
        mapping = self._call("get_mapping", self._client.indices.get_mapping, index=self.name)
        meta = bodies.read_meta(mapping)
        if meta is None:
            raise Unavailable(
                f"OpenSearch index {self.name!r} exists but was not created by docent; "
                "set DOCENT_RETRIEVAL_OPENSEARCH_INDEX to another name or delete that index"
            )
        if meta.get("schema_version") != bodies.SCHEMA_VERSION:
            log.warning(
                "OpenSearch index has another schema version, recreating it",
                extra={"index": self.name, "had": meta.get("schema_version")},
            )
            self._call("delete_index", self._client.indices.delete, index=self.name)
            self._create()
            return
        generation = meta.get("generation")
        self._generation = generation if isinstance(generation, int) else None

    def _create(self) -> None:
        s = self.settings
        body = bodies.index_definition(
            s.opensearch_shards, s.opensearch_replicas, s.opensearch_bm25_k1, s.opensearch_bm25_b
        )
        try:
            self._call("create_index", self._client.indices.create, index=self.name, body=body)
        except OpenSearchUnavailable as exc:  # another replica created it first: fine
            if exc.error != "resource_already_exists_exception":
                raise
        self._generation = None

    def _write_meta(self, generation: int | None) -> None:
        self._call(
            "put_mapping",
            self._client.indices.put_mapping,
            index=self.name,
            body={"_meta": bodies.meta(generation)},
        )
        self._generation = generation

    def _mark_dirty(self) -> None:
        """Record "being written" once, before the first change after a commit."""
        if not self._dirty:
            self._write_meta(None)
            self._dirty = True

    # -- SparseIndex ---------------------------------------------------------------------------

    def _bulk(self, actions: Any) -> None:
        for batch in bodies.chunked(actions, self.settings.opensearch_bulk_chunk):
            response = self._call(
                "bulk",
                self._client.bulk,
                body=batch,
                request_timeout=self.settings.opensearch_bulk_timeout_s,
            )
            failures = bodies.bulk_failures(response)
            if failures:
                raise Unavailable(
                    f"OpenSearch rejected {len(failures)} bulk operations on index "
                    f"{self.name!r}: " + "; ".join(failures[:3])
                )

    def upsert(self, entries: list[SparseEntry]) -> None:
        if entries:
            self._mark_dirty()
            self._bulk(bodies.upsert_actions(self.name, entries))

    def remove(self, ids: list[int]) -> None:
        if ids:
            self._mark_dirty()
            self._bulk(bodies.delete_actions(self.name, ids))

    def clear(self) -> None:
        """Delete every chunk; searches still see the old ones until the next commit."""
        self._mark_dirty()
        # delete_by_query only sees refreshed documents: refresh so none sent earlier survives.
        self._call("refresh", self._client.indices.refresh, index=self.name)
        response = self._call(
            "delete_by_query",
            self._client.delete_by_query,
            index=self.name,
            body={"query": {"match_all": {}}},
            conflicts="proceed",
            refresh=False,
            request_timeout=self.settings.opensearch_bulk_timeout_s,
        )
        if response.get("failures"):
            raise Unavailable(
                f"OpenSearch could not clear index {self.name!r}: {response['failures'][:3]}"
            )

    def commit(self, generation: int) -> None:
        """Refresh (changes become searchable), then record ``generation`` in ``_meta``."""
        self._call("refresh", self._client.indices.refresh, index=self.name)
        self._write_meta(generation)
        self._dirty = False

    def generation(self) -> int | None:
        return self._generation

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        body = bodies.search_body(query, k)
        if body is None:
            return []
        response = self._call("search", self._client.search, index=self.name, body=body)
        return bodies.parse_hits(response, scale=1.0 + self.settings.opensearch_bm25_k1)

    def __len__(self) -> int:
        """Searchable chunks (as of the last refresh, i.e. the last commit)."""
        return int(self._call("count", self._client.count, index=self.name)["count"])

    def close(self) -> None:
        """Close the HTTP connection pools; safe to call twice."""
        self._conn.close()
