"""Retrieval metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from docentlib.metrics import (
    documents_from_chunks,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
    summarise,
)

RANKED = ["d3", "d1", "d7", "d2", "d9"]
RELEVANT = {"d1": 2, "d2": 1, "d5": 1}


def test_ndcg_by_hand() -> None:
    # DCG = 2/log2(3) + 1/log2(5); ideal gains 2, 1, 1 -> 2/log2(2) + 1/log2(3) + 1/log2(4)
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / 1 + 1 / math.log2(3) + 1 / 2
    assert ndcg_at_k(RANKED, RELEVANT, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(RANKED, RELEVANT, 1) == 0.0
    assert ndcg_at_k(["d1", "d2", "d5"], RELEVANT, 10) == pytest.approx(1.0)
    assert ndcg_at_k(RANKED, {}, 10) == 0.0


def test_recall_mrr_hit_by_hand() -> None:
    assert recall_at_k(RANKED, RELEVANT, 100) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert mrr_at_k(RANKED, RELEVANT, 10) == pytest.approx(1 / 2)
    assert mrr_at_k(RANKED, RELEVANT, 1) == 0.0
    assert (hit_at_k(RANKED, RELEVANT, 1), hit_at_k(RANKED, RELEVANT, 2)) == (0.0, 1.0)


def test_documents_rank_by_their_best_chunk() -> None:
    assert documents_from_chunks(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_percentile_interpolates_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == pytest.approx(25.0)
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([], 95) == 0.0


def test_summarise_averages_over_queries() -> None:
    runs = {"q1": ["d1"], "q2": ["x", "d4"]}
    qrels = {"q1": {"d1": 1}, "q2": {"d4": 1}}
    summary = summarise(runs, qrels)
    assert summary["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert summary["hit@1"] == pytest.approx(0.5)
    assert summary["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
