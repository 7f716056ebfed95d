"""Blending a cross-encoder's order with the retrieval order, by hand."""

from __future__ import annotations

import pytest

from docentlib.passages import rerank_text
from docentlib.ranking import (
    BLEND_K,
    HIGH,
    LOW,
    blend_rerank,
    effective_weight,
    rerank_confidence,
)


def test_weight_zero_keeps_retrieval_order_and_large_weight_follows_scores() -> None:
    prior = [10, 11, 12, 13]
    scores = [0.1, 0.9, 0.5, 0.7]
    assert blend_rerank(prior, scores, weight=0.0, adaptive=False) == prior
    assert blend_rerank(prior, scores, weight=1000.0, adaptive=False) == [11, 13, 12, 10]


def test_blend_by_hand() -> None:
    # prior ranks 1, 2, 3; score ranks: c=1, a=2, b=3 -> a: 1/21+1/22, b: 1/22+1/23, c: 1/23+1/21
    blended = blend_rerank(["a", "b", "c"], [0.5, 0.1, 0.9], weight=1.0, adaptive=False)
    assert BLEND_K == 20
    assert blended == ["a", "c", "b"]


def test_confidence_is_the_z_score_of_the_best_score() -> None:
    assert rerank_confidence([0.5]) == 0.0 and rerank_confidence([0.3, 0.3, 0.3]) == 0.0
    # mean 1, population std 2 (values 0,0,0,0,5 -> mean 1, var (4*1+16)/5=4)
    assert rerank_confidence([0.0, 0.0, 0.0, 0.0, 5.0]) == pytest.approx(2.0)


def test_flat_scores_keep_the_retrieval_order_and_a_standout_counts_fully() -> None:
    prior = list(range(20))
    flat = [0.6 if i % 2 else 0.5 for i in prior]  # two tiers, no single candidate stands out
    assert rerank_confidence(flat) <= LOW
    assert effective_weight(flat, 1.0) == 0.0
    assert blend_rerank(prior, flat, weight=1.0) == prior
    standout = [0.5] * 19 + [0.9]  # the last candidate is far above all others
    assert rerank_confidence(standout) > HIGH
    assert effective_weight(standout, 2.0) == 2.0
    blended = blend_rerank(prior, standout, weight=1.0)
    assert blended == blend_rerank(prior, standout, weight=1.0, adaptive=False) != prior


def test_weight_grows_linearly_between_low_and_high() -> None:
    scores = [0.0] * 8 + [1.0]  # z = 8 / sqrt(8) = 2.83
    share = (rerank_confidence(scores) - LOW) / (HIGH - LOW)
    assert 0 < share < 1
    assert effective_weight(scores, 1.0) == pytest.approx(share)


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="2 candidates but 1 scores"):
        blend_rerank([1, 2], [0.3])


def test_rerank_text_puts_title_and_headings_first() -> None:
    assert rerank_text("Pods", ["Lifecycle"], "Pods are ephemeral.") == (
        "Pods > Lifecycle\nPods are ephemeral."
    )
    assert rerank_text("", [], "bare") == "bare"
