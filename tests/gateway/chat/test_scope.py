"""The scope scale's arithmetic and refresh rules (the real models: test_scope_live.py)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from docent.v1 import retrieval_pb2
from services.gateway.chat.scope import CorpusScope, ScopeCalibration, fingerprint, spread


def test_relevance_is_the_score_on_the_corpus_scale():
    scale = ScopeCalibration(
        foreign_high=0.2, corpus_low=0.4, documents=3, fingerprint="x", probes=9
    )
    assert scale.relevance(0.2) == 0.0 and scale.relevance(0.1) == 0.0
    assert scale.relevance(0.3) == pytest.approx(0.5)
    assert scale.relevance(0.4) == 1.0 and scale.relevance(0.9) == 1.0
    # A corpus whose own questions score like foreign ones still gets a (minimal) scale.
    flat = ScopeCalibration(
        foreign_high=0.3, corpus_low=0.29, documents=1, fingerprint="y", probes=1
    )
    assert flat.relevance(0.325) == pytest.approx(0.5)


def test_fingerprint_follows_the_documents_not_their_order():
    a = retrieval_pb2.DocumentInfo(doc_id="a", content_hash="1")
    b = retrieval_pb2.DocumentInfo(doc_id="b", content_hash="2")
    b2 = retrieval_pb2.DocumentInfo(doc_id="b", content_hash="3")
    assert fingerprint([a, b]) == fingerprint([b, a]) != fingerprint([a, b2])


def test_spread_is_deterministic_and_bounded():
    items = [f"title {i}" for i in range(100)]
    assert spread(items, 10) == spread(list(reversed(items)), 10)
    assert len(spread(items, 10)) == 10 and len(spread(items[:3], 10)) == 3


class _Index:
    """Just enough of the two clients for the refresh rules: a corpus that can change."""

    def __init__(self) -> None:
        self.documents: list[retrieval_pb2.DocumentInfo] = []
        self.lists = 0

    async def list_documents(self):
        self.lists += 1
        return list(self.documents)

    async def embed(self, texts):
        return np.ones((len(texts), 4), dtype=np.float32) / 2

    async def search_response(self, query, vector, k, mode):
        dense = 0.2 if query.startswith("Q:") else 0.6
        hit = retrieval_pb2.Hit(
            title="T", heading_path=["T", "H"], retriever_scores={"dense": dense}
        )
        return retrieval_pb2.SearchResponse(hits=[hit])


async def test_nothing_indexed_means_no_verdict_and_a_quick_recheck():
    index = _Index()
    scope = CorpusScope(index, index, refresh_s=3600, foreign=["Q: a", "Q: b"])  # type: ignore[arg-type]
    assert await scope.relevance(0.5) is None
    index.documents = [retrieval_pb2.DocumentInfo(doc_id="d", title="Guide", content_hash="h")]
    scope._checked_at = float("-inf")  # the quick recheck is due
    assert await scope.relevance(0.6) == 1.0  # waited for the calibration in progress
    assert await scope.relevance(0.2) == 0.0
    assert await scope.relevance(None) is None
    lists = index.lists
    await asyncio.sleep(0)
    assert await scope.relevance(0.6) == 1.0 and index.lists == lists  # refresh_s not yet due
