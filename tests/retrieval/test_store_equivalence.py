"""Both stores rank alike: the same queries over the same chunks give the same fused order.

Chunks: pages of the Kubernetes documentation (``../shared``), cut by the production
character chunker. Vectors: a deterministic bag of stemmed words (each word a seeded random
vector), so dense neighbours share words with the query without a model, and dense and BM25
rankings differ enough for fusion to matter. Queries: page titles and support-style questions.

The embedded store answers with tantivy and FAISS (``flat``: exact). The OpenSearch store
answers through the OpenSearch double, which computes BM25 itself, the way Lucene does, over
the analysis the store asks OpenSearch for, and k-NN exactly as the k-NN plugin scores it.

What this proves: one ranking path (depth, fusion, resolving) serves both stores; the
OpenSearch store's requests, score conversions and hit parsing lose nothing; OpenSearch
configured as the store configures it would rank BM25 as tantivy does (same analysis chain,
same BM25 with the same length encoding: tantivy's scores are Lucene's times ``1 + k1``).
What it does not prove: that a real OpenSearch analyses and scores exactly as the double
(Lucene's porter2 stemmer may differ from PyStemmer's on rare words; statistics are per shard
there and count deleted documents until merges), or that real HNSW finds the exact neighbours.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import Stemmer

from docentlib.bm25 import query_terms
from docentlib.chunking.character_chunks import chunk_document
from docentlib.documents.discovery import discover, load_document
from services.retrieval.core import RetrievalCore
from services.retrieval.settings import RetrievalSettings
from services.retrieval.types import ChunkRecord, DocumentRecord
from tests.retrieval.opensearch_double import OpenSearchDouble

DIM = 64
PAGES = 24
QUESTIONS = [
    "roll back a deployment to the previous revision",
    "pod restart policy after a container fails",
    "how do cron jobs schedule their runs",
    "scale a statefulset down safely",
    "in which order do init containers run",
    "garbage collection of dependent objects",
    "eviction and pod disruption budgets",
    "replicaset label selector",
    "sidecar containers lifecycle",
    "job completions and parallelism",
]
_stem = Stemmer.Stemmer("english")


def vector(text: str) -> np.ndarray:
    total = np.zeros(DIM)
    for word in query_terms(text):
        seed = int(hashlib.sha256(_stem.stemWord(word).encode()).hexdigest()[:8], 16)
        total += np.random.default_rng(seed).standard_normal(DIM)
    norm = np.linalg.norm(total)
    return (total / norm if norm else np.ones(DIM) / np.sqrt(DIM)).astype(np.float32)


@pytest.fixture(scope="module")
def corpus(k8s_docs: Path) -> list[DocumentRecord]:
    docs = []
    for source in discover(k8s_docs / "concepts" / "workloads")[:PAGES]:
        parsed = load_document(source)
        chunks = tuple(
            ChunkRecord(c.chunk_id, c.text, c.heading_path, c.char_start, c.char_end,
                        vector(f"{parsed.title} {c.text}"))
            for c in chunk_document(parsed, max_chars=800)
        )  # fmt: skip
        docs.append(DocumentRecord(parsed.doc_id, parsed.title, parsed.source_path,
                                   parsed.content_hash, chunks))  # fmt: skip
    assert sum(len(d.chunks) for d in docs) > 700
    return docs


@pytest.fixture(scope="module")
def both(corpus, tmp_path_factory) -> tuple[RetrievalCore, RetrievalCore]:
    double = OpenSearchDouble().start()
    common = {"dim": DIM, "fetch_depth": 30, "max_k": 50}
    embedded = RetrievalCore(
        RetrievalSettings(data_dir=tmp_path_factory.mktemp("emb"), dense_index="flat", **common)
    )
    cluster = RetrievalCore(
        RetrievalSettings(store="opensearch", opensearch_hosts=double.url,
                          opensearch_replicas=0, **common)
    )  # fmt: skip
    for start in range(0, len(corpus), 8):
        embedded.upsert(corpus[start : start + 8])
        cluster.upsert(corpus[start : start + 8])
    yield embedded, cluster
    embedded.close()
    cluster.close()
    assert double.rejected == []
    double.stop()


def queries(corpus: list[DocumentRecord]) -> list[str]:
    return [d.title for d in corpus[:10]] + QUESTIONS


@pytest.mark.parametrize("fusion", ["rrf", "normalized"])
def test_same_queries_same_fused_order(both, corpus, fusion: str) -> None:
    embedded, cluster = both
    for core in both:
        core.settings = core.settings.model_copy(update={"fusion": fusion})
    compared = 0
    for text in queries(corpus):
        v = vector(text)
        for mode, q, vec, k in (("sparse", text, None, 20), ("dense", "", v, 20),
                                ("hybrid", text, v, 10)):  # fmt: skip
            a = embedded.search(q, vec, k, mode)
            b = cluster.search(q, vec, k, mode)
            assert [h.chunk_id for h in a] == [h.chunk_id for h in b], (mode, text)
            assert [h.retriever_ranks for h in a] == [h.retriever_ranks for h in b], (mode, text)
            for x, y in zip(a, b, strict=True):
                assert x.score == pytest.approx(y.score, rel=1e-4, abs=1e-6), (mode, text)
                assert (x.text, x.title, x.heading_path) == (y.text, y.title, y.heading_path)
            compared += len(a)
    assert compared > 600  # not vacuous: most queries return full lists


def test_the_rankings_are_not_trivially_equal(both, corpus) -> None:
    """Fusion changes the order here (otherwise equal fused orders would prove little)."""
    embedded, _ = both
    changed = 0
    for text in queries(corpus):
        v = vector(text)
        fused = [h.chunk_id for h in embedded.search(text, v, 10, "hybrid")]
        sparse = [h.chunk_id for h in embedded.search(text, None, 10, "sparse")]
        dense = [h.chunk_id for h in embedded.search("", v, 10, "dense")]
        changed += fused != sparse and fused != dense
    assert changed >= len(queries(corpus)) // 2
