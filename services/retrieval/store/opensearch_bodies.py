"""Every request body the OpenSearch store sends for writes and searches, and the parsing of
what comes back, as pure functions, so tests check them without a server (the indexes
themselves: :mod:`~services.retrieval.store.opensearch_indexes`).

``<index>`` holds one OpenSearch document per chunk *version*, ``<index>-documents`` one
record per document naming its current version. A chunk is shown only if its version is its
document's current one (see :func:`shown_version` and docs/opensearch.md for why this gives no
window where a search sees both versions of a document, or neither).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from docentlib.bm25 import body_text, query_terms
from services.retrieval.store.base import Candidate
from services.retrieval.store.opensearch_indexes import BODY, VECTOR
from services.retrieval.types import DocumentInfo, DocumentRecord, StoredChunk

# What a search returns of each chunk: everything a hit shows, never the vector.
HIT_FIELDS = ["chunk_id", "doc_id", "version", "title", "source_path", "heading_path", "text"]
RECORD_FIELDS = [
    "doc_id", "title", "source_path", "content_hash", "chunk_count", "version",
    "previous_version", "flipped_at",
]  # fmt: skip
TERMS_BATCH = 1024  # values per terms query (OpenSearch allows 65,536)
BulkOp = tuple[dict[str, Any], dict[str, Any] | None]  # (action, source; None for delete)


def record_id(doc_id: str) -> str:
    """The ``_id`` of a document's record: a hash, because ids are capped at 512 bytes and a
    document id (a path) may be longer."""
    return hashlib.sha256(doc_id.encode()).hexdigest()


def chunk_id_of(version: str, ordinal: int) -> str:
    """The ``_id`` of a chunk version: unique per write, so a retried bulk overwrites itself."""
    return f"{version}.{ordinal}"


# -- writes ---------------------------------------------------------------------------------------


def unit_list(vector: np.ndarray) -> list[float]:
    """``vector`` scaled to unit length, as JSON numbers: with unit vectors inner product, cosine
    and L2 rank alike, and scores convert back to cosine (:func:`cosine_from_score`)."""
    array = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(array))
    return (array / norm if norm > 0 else array).tolist()


def chunk_ops(index: str, doc: DocumentRecord, version: str, written_at_ms: int) -> list[BulkOp]:
    """Bulk ``index`` operations for every chunk of ``doc`` as ``version``."""
    return [
        (
            {"index": {"_index": index, "_id": chunk_id_of(version, ordinal)}},
            chunk_source(doc, ordinal, version, written_at_ms),
        )
        for ordinal in range(len(doc.chunks))
    ]


def chunk_source(
    doc: DocumentRecord, ordinal: int, version: str, written_at_ms: int
) -> dict[str, Any]:
    """One chunk version as stored: what a hit shows, the BM25 body and the unit vector."""
    chunk = doc.chunks[ordinal]
    return {
        "chunk_id": chunk.chunk_id,
        "doc_id": doc.doc_id,
        "source_path": doc.source_path,
        "version": version,
        "written_at": written_at_ms,
        "ordinal": ordinal,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "title": doc.title,
        "heading_path": list(chunk.heading_path),
        "text": chunk.text,
        BODY: body_text(chunk.text, doc.title, chunk.heading_path),
        VECTOR: unit_list(chunk.vector),
    }


@dataclass(frozen=True)
class Record:
    """A document's record as read back, with what optimistic concurrency needs to replace it."""

    doc_id: str
    title: str
    source_path: str
    content_hash: str
    chunk_count: int
    version: str
    previous_version: str | None
    flipped_at: int
    seq_no: int
    primary_term: int

    def info(self) -> DocumentInfo:
        return DocumentInfo(
            self.doc_id, self.title, self.source_path, self.content_hash, self.chunk_count
        )


def record_source(
    doc: DocumentRecord, version: str, previous: str | None, flipped_at_ms: int
) -> dict[str, Any]:
    """The record that makes ``version`` the document's current one."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source_path": doc.source_path,
        "content_hash": doc.content_hash,
        "chunk_count": len(doc.chunks),
        "version": version,
        "previous_version": previous,
        "flipped_at": flipped_at_ms,
    }


def flip_action(index: str, doc_id: str, current: Record | None) -> dict[str, Any]:
    """The bulk action that writes a record only if nobody changed it since it was read:
    ``create`` when there was none, else ``index`` conditioned on its seq_no/primary term."""
    if current is None:
        return {"create": {"_index": index, "_id": record_id(doc_id)}}
    return {
        "index": {
            "_index": index,
            "_id": record_id(doc_id),
            "if_seq_no": current.seq_no,
            "if_primary_term": current.primary_term,
        }
    }


def parse_record(doc: dict[str, Any]) -> Record | None:
    """A :class:`Record` from one ``_mget`` doc or ``_search`` hit; None when not found."""
    source = doc.get("_source")
    if doc.get("found") is False or not isinstance(source, dict):
        return None
    return Record(
        doc_id=str(source["doc_id"]),
        title=str(source.get("title", "")),
        source_path=str(source.get("source_path", "")),
        content_hash=str(source.get("content_hash", "")),
        chunk_count=int(source.get("chunk_count", 0)),
        version=str(source["version"]),
        previous_version=source.get("previous_version"),
        flipped_at=int(source.get("flipped_at", 0)),
        seq_no=int(doc.get("_seq_no", -1)),
        primary_term=int(doc.get("_primary_term", 0)),
    )


def records_from_mget(response: dict[str, Any]) -> dict[str, Record]:
    """Found records by document id, from a ``_mget`` response."""
    found = (parse_record(doc) for doc in response.get("docs", []))
    return {record.doc_id: record for record in found if record is not None}


def bulk_results(response: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    """(``_id``, status, error type, reason) of every item of a ``_bulk`` response."""
    out = []
    for item in response.get("items", []):
        for result in item.values():
            error = result.get("error") or {}
            if not isinstance(error, dict):
                error = {"type": str(error), "reason": str(error)}
            out.append(
                (
                    str(result.get("_id")),
                    int(result.get("status", 0)),
                    str(error.get("type", "")),
                    str(error.get("reason", "")),
                )
            )
    return out


def cleanup_query(
    replaced: Sequence[str], doc_ids: Sequence[str], current: Sequence[str], cutoff_ms: int
) -> dict[str, Any] | None:
    """``_delete_by_query`` of chunks no search will show again: every chunk of a version
    just ``replaced`` (versions are unique), and chunks of these documents that are of no
    ``current`` version and older than ``cutoff_ms`` (left by an upsert whose replica died).

    Only versions this write replaced are deleted unconditionally: a concurrent upsert of the
    same document may be writing chunks of a version that is not current *yet*.
    """
    should: list[dict[str, Any]] = []
    if replaced:
        should.append({"terms": {"version": list(replaced)}})
    if doc_ids:
        should.append(
            {
                "bool": {
                    "filter": [
                        {"terms": {"doc_id": list(doc_ids)}},
                        {"range": {"written_at": {"lt": cutoff_ms}}},
                    ],
                    "must_not": [{"terms": {"version": list(current)}}],
                }
            }
        )
    if not should:
        return None
    return {"query": {"bool": {"should": should, "minimum_should_match": 1}}}


def delete_query(doc_ids: Sequence[str]) -> dict[str, Any]:
    """``_delete_by_query`` of every chunk (any version) of the named documents."""
    return {"query": {"bool": {"filter": [{"terms": {"doc_id": list(doc_ids)}}]}}}


def versions_query(versions: Sequence[str]) -> dict[str, Any]:
    """``_delete_by_query`` of every chunk of these versions (a write that was given up)."""
    return {"query": {"bool": {"filter": [{"terms": {"version": list(versions)}}]}}}


def bulk_requests(ops: Sequence[BulkOp], per_request: int) -> Iterator[list[dict[str, Any]]]:
    """The NDJSON lines of ``ops``, at most ``per_request`` operations per ``_bulk`` request
    (an action and its source are never split)."""
    for start in range(0, len(ops), per_request):
        lines: list[dict[str, Any]] = []
        for action, source in ops[start : start + per_request]:
            lines.append(action)
            if source is not None:
                lines.append(source)
        yield lines


def owned_elsewhere_body(chunk_ids: Sequence[str], doc_ids: Sequence[str]) -> dict[str, Any]:
    """``_search`` for stored chunks with these ids that belong to other documents."""
    return {
        "size": len(chunk_ids) * 4,  # a few versions of each at most
        "_source": ["chunk_id", "doc_id", "version"],
        "track_total_hits": False,
        "query": {
            "bool": {
                "filter": [{"terms": {"chunk_id": list(chunk_ids)}}],
                "must_not": [{"terms": {"doc_id": list(doc_ids)}}],
            }
        },
    }


def records_by_path_body(
    source_paths: Sequence[str], size: int, after: str | None
) -> dict[str, Any]:
    """``_search`` of the documents index for records with these source paths (a page)."""
    body: dict[str, Any] = {
        "size": size,
        "_source": RECORD_FIELDS,
        "track_total_hits": False,
        "sort": [{"doc_id": "asc"}],
        "query": {"bool": {"filter": [{"terms": {"source_path": list(source_paths)}}]}},
    }
    if after is not None:
        body["search_after"] = [after]
    return body


def all_records_body(size: int, after: str | None) -> dict[str, Any]:
    """``_search`` of the documents index for every record, by document id (a page)."""
    body: dict[str, Any] = {
        "size": size,
        "_source": RECORD_FIELDS,
        "track_total_hits": False,
        "sort": [{"doc_id": "asc"}],
        "query": {"match_all": {}},
    }
    if after is not None:
        body["search_after"] = [after]
    return body


def batches(values: Iterable[str], size: int = TERMS_BATCH) -> Iterator[list[str]]:
    """``values`` (deduplicated, in order) in lists of at most ``size``."""
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


# -- reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkKey:
    """What identifies a chunk version in search results: fusion compares ``_id``s; resolving
    needs the document and version."""

    id: str
    doc_id: str
    version: str


def match_body(query: str, k: int) -> dict[str, Any] | None:
    """The BM25 ``_search``: the query's words (as tantivy gets them) as a plain ``match``,
    never query syntax; None when the query has no words."""
    terms = query_terms(query)
    if not terms or k <= 0:
        return None
    return {
        "size": k,
        "_source": HIT_FIELDS,
        "track_total_hits": False,
        "query": {"match": {BODY: {"query": " ".join(terms), "operator": "or"}}},
    }


def knn_body(vector: np.ndarray, k: int) -> dict[str, Any]:
    """The k-NN ``_search`` for the k nearest chunk versions to the unit ``vector``."""
    return {
        "size": k,
        "_source": HIT_FIELDS,
        "track_total_hits": False,
        "query": {"knn": {VECTOR: {"vector": unit_list(vector), "k": k}}},
    }


def cosine_from_score(score: float, space: str) -> float:
    """The cosine similarity behind a k-NN ``_score`` (unit vectors), so dense scores mean the
    same in every store and space. OpenSearch's scores: innerproduct ``1 + ip`` when
    ``ip >= 0`` else ``1 / (1 - ip)``; cosinesimil ``(1 + cos) / 2``; l2 ``1 / (1 + d)`` with
    ``d`` the squared distance, ``2 - 2 cos`` for unit vectors."""
    if space == "innerproduct":
        return score - 1.0 if score >= 1.0 else 1.0 - 1.0 / score
    if space == "cosinesimil":
        return 2.0 * score - 1.0
    if space == "l2":
        return 1.0 - (1.0 / score - 1.0) / 2.0
    raise ValueError(f"unknown k-NN space {space!r}")


def bm25_scale(k1: float) -> float:
    """What OpenSearch's BM25 scores are multiplied by to equal tantivy's: Lucene dropped the
    constant ``(k1 + 1)`` numerator from BM25, tantivy kept it (ranks are the same)."""
    return 1.0 + k1


def parse_candidates(
    response: dict[str, Any], *, space: str | None = None, scale: float = 1.0
) -> list[Candidate]:
    """Candidates (key, score, chunk) from a ``_search`` response, best first; with ``space``
    the k-NN scores are turned back into cosine similarities, else multiplied by ``scale``."""
    out = []
    for hit in response.get("hits", {}).get("hits", []):
        source = hit["_source"]
        score = float(hit.get("_score") or 0.0)
        score = cosine_from_score(score, space) if space is not None else score * scale
        chunk = StoredChunk(
            chunk_id=str(source["chunk_id"]),
            doc_id=str(source["doc_id"]),
            title=str(source.get("title", "")),
            source_path=str(source.get("source_path", "")),
            heading_path=tuple(source.get("heading_path") or ()),
            text=str(source.get("text", "")),
        )
        key = ChunkKey(str(hit["_id"]), chunk.doc_id, str(source["version"]))
        out.append(Candidate(key, score, chunk))
    return out


def shown_version(record: Record | None, found: set[str], now_ms: int, grace_ms: int) -> str | None:
    """Which of a document's versions among a search's ``found`` chunks the search shows.

    The current version if any of its chunks was found. Otherwise the previous version, if
    the switch to the current one is at most ``grace_ms`` old: the search then ran on a view
    of the index from before the new chunks were visible (they are made searchable before the
    switch), so showing the old ones is showing the document as it was, not a mix and not
    nothing. No record: the document is deleted or its first version is not complete yet.
    """
    if record is None:
        return None
    if record.version in found:
        return record.version
    recent = now_ms - record.flipped_at <= grace_ms
    if record.previous_version in found and recent:
        return record.previous_version
    return None
