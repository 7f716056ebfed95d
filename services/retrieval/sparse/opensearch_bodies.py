"""The JSON that the OpenSearch backend sends, built by pure functions so tests check it offline.

User text only ever reaches OpenSearch as the ``query`` string of a ``match`` query, which is
analysed as plain text: unlike ``query_string`` it has no syntax, so quotes, ``field:value``,
``AND``/``NOT``, ``*`` or ``/regex/`` can neither fail a search nor change what it means.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from docentlib.bm25 import body_text, query_terms
from services.retrieval import opensearch_analysis as analysis
from services.retrieval.sparse.base import SparseEntry

# Bump when the mapping below changes: an index with another version is deleted and recreated
# (only an index whose _meta says docent created it; any other index is never touched).
# 2: tantivy's analysis (opensearch_analysis) instead of the built-in `english` analyzer.
SCHEMA_VERSION = 2
META_KEY = "docent"
BODY = "body"


def index_definition(shards: int, replicas: int, k1: float, b: float) -> dict[str, Any]:
    """Settings and mappings for ``PUT /<index>``.

    One analysed ``body`` field (title + headings + text, as the tantivy backend indexes it)
    with tantivy's analysis (:mod:`~services.retrieval.opensearch_analysis`) and BM25 with the
    given k1/b. ``refresh_interval: -1`` turns periodic refresh off, so writes become
    searchable only at :meth:`OpenSearchIndex.commit`, like tantivy's commit.
    """
    return {
        "settings": {
            "index": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "refresh_interval": "-1",
                "similarity": analysis.similarity(k1, b),
                "analysis": analysis.analysis(),
            }
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": meta(None),
            "properties": {"id": {"type": "long"}, BODY: analysis.text_field()},
        },
    }


def meta(generation: int | None) -> dict[str, Any]:
    """The mapping ``_meta`` that marks the index as docent's and records its generation.

    ``None`` means "being written": set before the first change after a commit, so an index
    left half-written by a crash (OpenSearch replays its translog on restart, making even
    unrefreshed writes visible) is never mistaken for a committed one.
    """
    return {META_KEY: {"schema_version": SCHEMA_VERSION, "generation": generation}}


def read_meta(mapping_response: dict[str, Any]) -> dict[str, Any] | None:
    """Docent's ``_meta`` from a ``GET /<index>/_mapping`` response (keyed by concrete index,
    which differs from the name asked for when that name is an alias), or None if absent."""
    for entry in mapping_response.values():
        found = (entry.get("mappings") or {}).get("_meta", {}).get(META_KEY)
        return found if isinstance(found, dict) else None
    return None


def upsert_actions(index: str, entries: list[SparseEntry]) -> Iterator[dict[str, Any]]:
    """Bulk ``index`` action/source pairs: ``_id`` is the chunk id, so a re-upsert replaces."""
    for id_, text, title, heading_path in entries:
        yield {"index": {"_index": index, "_id": str(int(id_))}}
        yield {"id": int(id_), BODY: body_text(text, title, heading_path)}


def delete_actions(index: str, ids: list[int]) -> Iterator[dict[str, Any]]:
    """Bulk ``delete`` actions (a missing id answers 404 ``not_found``, which is not an error)."""
    for id_ in ids:
        yield {"delete": {"_index": index, "_id": str(int(id_))}}


def chunked(actions: Iterator[dict[str, Any]], ops_per_request: int) -> Iterator[list[dict]]:
    """Group bulk lines into requests of at most ``ops_per_request`` operations; an ``index``
    operation is two lines (action, source) and is never split across requests."""
    batch: list[dict[str, Any]] = []
    ops = 0
    for line in actions:
        is_action = len(line) == 1 and next(iter(line)) in ("index", "delete")
        if is_action and ops == ops_per_request:
            yield batch
            batch, ops = [], 0
        batch.append(line)
        ops += is_action
    if batch:
        yield batch


def bulk_failures(response: dict[str, Any]) -> list[str]:
    """One line per failed item of a ``_bulk`` response; deleting an absent id is not a failure."""
    if not response.get("errors"):
        return []
    failures = []
    for item in response.get("items", []):
        for op, result in item.items():
            error = result.get("error")
            if error is None:
                continue
            reason = error.get("reason", error) if isinstance(error, dict) else error
            failures.append(f"{op} _id={result.get('_id')}: {result.get('status')} {reason}")
    return failures


def search_body(query: str, k: int) -> dict[str, Any] | None:
    """The ``_search`` body for the k best chunks, or None when the query has no words.

    Words are cut and capped as for tantivy (stop words dropped unless nothing else is left,
    at most 64 terms), then passed to ``match`` as plain text; no source is fetched, only ids.
    """
    terms = query_terms(query)
    if not terms or k <= 0:
        return None
    return {
        "size": k,
        "_source": False,
        "track_total_hits": False,
        "query": {"match": {BODY: {"query": " ".join(terms), "operator": "or"}}},
    }


def parse_hits(response: dict[str, Any], scale: float = 1.0) -> list[tuple[int, float]]:
    """(chunk id, BM25 score) pairs from a ``_search`` response, best first as returned;
    scores times ``scale`` (``1 + k1`` gives tantivy's scores: Lucene's BM25 leaves that
    constant factor out)."""
    hits = response.get("hits", {}).get("hits", [])
    return [(int(hit["_id"]), float(hit["_score"] or 0.0) * scale) for hit in hits]
