"""The two indexes of the OpenSearch store, as pure functions: their settings and mappings,
and the check that an existing index is one this store can use.

``<index>`` holds one document per chunk *version* (text, metadata, the BM25 ``body`` and the
``knn_vector``); ``<index>-documents`` one record per document naming its current version
(see :mod:`~services.retrieval.store.opensearch_bodies`).
"""

from __future__ import annotations

from typing import Any

from services.retrieval import opensearch_analysis as analysis
from services.retrieval.settings import RetrievalSettings

# Bump when a mapping below changes. The store never deletes an index: an index of another
# schema version (or dimension, engine, space) stops the service with a message instead.
SCHEMA_VERSION = 1
META_KEY = "docent_store"
SPARSE_META_KEY = "docent"  # what SPARSE_BACKEND=opensearch marks its (BM25-only) index with
BODY, VECTOR = "body", "vector"
_NOT_INDEXED = {"type": "keyword", "index": False, "doc_values": False}
# Where each k-NN engine takes HNSW's ef_search: a method parameter (faiss), an index setting
# (nmslib), or nowhere (lucene searches with ef = k).
EF_SEARCH_IN: dict[str, str | None] = {"faiss": "method", "nmslib": "index", "lucene": None}


def documents_index(index: str) -> str:
    """The name of the documents index that belongs to chunk index ``index``."""
    return f"{index}-documents"


def store_meta(settings: RetrievalSettings, role: str) -> dict[str, Any]:
    """The mapping ``_meta`` that marks an index as the store's, with what must not change."""
    meta: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "role": role}
    if role == "chunks":
        meta |= {
            "dim": settings.dim,
            "engine": settings.opensearch_knn_engine,
            "space": settings.opensearch_knn_space,
        }
    return {META_KEY: meta}


def knn_method(settings: RetrievalSettings) -> dict[str, Any]:
    """The HNSW method of the ``knn_vector`` field: engine, space and graph parameters.

    ``ef_search`` is a method parameter for faiss and an index setting for nmslib (see
    :func:`chunk_index_definition`); lucene has none and searches with ef = k.
    """
    parameters: dict[str, Any] = {
        "m": settings.hnsw_m,
        "ef_construction": settings.hnsw_ef_construction,
    }
    if EF_SEARCH_IN[settings.opensearch_knn_engine] == "method":
        parameters["ef_search"] = settings.hnsw_ef_search
    return {
        "name": "hnsw",
        "engine": settings.opensearch_knn_engine,
        "space_type": settings.opensearch_knn_space,
        "parameters": parameters,
    }


def chunk_index_definition(settings: RetrievalSettings) -> dict[str, Any]:
    """``PUT /<index>``: chunks with their metadata, BM25 ``body`` and the ``knn_vector``."""
    s = settings
    index: dict[str, Any] = {
        "number_of_shards": s.opensearch_shards,
        "number_of_replicas": s.opensearch_replicas,
        "knn": True,
        "similarity": analysis.similarity(s.opensearch_bm25_k1, s.opensearch_bm25_b),
        "analysis": analysis.analysis(),
    }
    if EF_SEARCH_IN[s.opensearch_knn_engine] == "index":
        index["knn.algo_param.ef_search"] = s.hnsw_ef_search
    return {
        "settings": {"index": index},
        "mappings": {
            "dynamic": "strict",
            "_meta": store_meta(s, "chunks"),
            "properties": {
                "chunk_id": {"type": "keyword"},
                "doc_id": {"type": "keyword"},
                "source_path": _NOT_INDEXED,
                "version": {"type": "keyword"},
                "written_at": {"type": "long"},
                "ordinal": {"type": "integer", "index": False},
                "char_start": {"type": "integer", "index": False},
                "char_end": {"type": "integer", "index": False},
                "title": _NOT_INDEXED,
                "heading_path": _NOT_INDEXED,
                "text": {"type": "text", "index": False},
                BODY: analysis.text_field(),
                VECTOR: {"type": "knn_vector", "dimension": s.dim, "method": knn_method(s)},
            },
        },
    }


def documents_index_definition(settings: RetrievalSettings) -> dict[str, Any]:
    """``PUT /<index>-documents``: one record per document, naming its current version."""
    return {
        "settings": {
            "index": {
                "number_of_shards": 1,
                "number_of_replicas": settings.opensearch_replicas,
            }
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": store_meta(settings, "documents"),
            "properties": {
                "doc_id": {"type": "keyword"},
                "source_path": {"type": "keyword"},
                "title": _NOT_INDEXED,
                "content_hash": _NOT_INDEXED,
                "chunk_count": {"type": "integer", "index": False},
                "version": {"type": "keyword"},
                "previous_version": {"type": "keyword"},
                "flipped_at": {"type": "long"},
            },
        },
    }


def meta_problem(
    mapping_response: dict[str, Any], expected: dict[str, Any], index: str
) -> str | None:
    """Why an existing index cannot serve as ``expected`` (its ``_meta``), or None if it can."""
    for entry in mapping_response.values():
        meta = (entry.get("mappings") or {}).get("_meta") or {}
        found = meta.get(META_KEY)
        if found == expected[META_KEY]:
            return None
        if found is None and SPARSE_META_KEY in meta:
            return (
                f"OpenSearch index {index!r} is a BM25 index of SPARSE_BACKEND=opensearch; the "
                "opensearch store needs its own: set DOCENT_RETRIEVAL_OPENSEARCH_INDEX to "
                "another name"
            )
        if found is None:
            return (
                f"OpenSearch index {index!r} exists but was not created by docent; set "
                "DOCENT_RETRIEVAL_OPENSEARCH_INDEX to another name or delete that index"
            )
        return (
            f"OpenSearch index {index!r} was created with {found}, the settings ask for "
            f"{expected[META_KEY]}; use another DOCENT_RETRIEVAL_OPENSEARCH_INDEX (and ingest "
            "again) or change the settings back"
        )
    return f"OpenSearch answered no mapping for index {index!r}"
